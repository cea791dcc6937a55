"""Redis (the task queue and the shared rate limiter) goes away under a live system and
comes back empty: pages say the portal is temporarily unavailable instead of failing,
Publish queues, the worker lives through it, and everything finishes once Redis is back.

The system runs on a Redis of this test's own (``PrivateRedis``), never the one the rest
of the suite shares, so stopping it disturbs nothing else.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from deposits.models import ApiCall, Event, State, Target
from tests.e2e.zenodo_helpers import control, deposit_with_files, sandbox_account, wait_for_state
from tests.factories import AccountFactory
from tests.livesystem import LiveSystem, PrivateRedis, wait_until

pytestmark = [pytest.mark.e2e]

FILES = {"measurements.csv": b"site,moisture\n" + b"lindenberg,0.31\n" * 2000}
SLOW_FILES = {**FILES, "README.txt": b"Soil moisture, hourly.\n", "z-notes.txt": b"notes\n"}
UNAVAILABLE = "temporarily unavailable: the task queue cannot be reached"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def system(
    transactional_db: None, tmp_path: Path, redis_server: PrivateRedis
) -> Iterator[LiveSystem]:
    live = LiveSystem(tmp_path, REDIS_URL=redis_server.url, CELERY_BROKER_URL=redis_server.url)
    try:
        live.start_web()
        yield live
    finally:
        live.stop()


def signed_in(system: LiveSystem, username: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{system.url}/login/", timeout=10)
    reply = session.post(
        f"{system.url}/login/",
        data={
            "username": username,
            "password": "secret-pass-1",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{system.url}/login/"},
        timeout=10,
    )
    assert reply.url.rstrip("/") == system.url, "sign-in failed"
    return session


def post(session: requests.Session, url: str, **headers: str) -> requests.Response:
    return session.post(
        url,
        data={"csrfmiddlewaretoken": session.cookies["csrftoken"], "confirmed": "1"},
        headers={"Referer": url, **headers},
        timeout=30,
    )


def text(reply: requests.Response) -> str:
    return re.sub(r"\s+", " ", reply.text)


def test_losing_redis_loses_nothing_and_everything_finishes_when_it_is_back(
    system, redis_server, team, member
):
    # One deposit is mid-upload when Redis goes (its second file answers slowly), one is
    # published while Redis is away.
    control(
        system,
        {
            "wipe": True,
            "faults": [
                {
                    "kind": "slow",
                    "delay_seconds": 6,
                    "method": "PUT",
                    "path": r"/api/files/.*README",
                }
            ],
        },
    )
    account, _ = sandbox_account(system, team)
    other = AccountFactory(team=team, base_url=account.base_url, token="t", status="ok")
    working = deposit_with_files(team, account, SLOW_FILES)
    later = deposit_with_files(team, account, FILES)
    worker = system.start_worker()
    system.start_beat()
    browser = signed_in(system, member.username)
    assert browser.get(f"{system.url}/accounts/", timeout=10).status_code == 200

    reply = post(browser, f"{system.url}/targets/{working.pk}/publish/")
    assert reply.status_code == 200, reply.text[:500]

    def upload_in_flight() -> bool:
        return not control(system, {}).get("faults")

    wait_until(upload_in_flight, 60, "the slow upload to start")
    redis_server.stop()

    # The accounts page shows the budget as unknown; Check now cannot be sent.
    accounts = browser.get(f"{system.url}/accounts/", timeout=30)
    assert accounts.status_code == 200, accounts.text[:500]
    assert "unknown" in accounts.text
    checked = post(browser, f"{system.url}/accounts/{account.pk}/verify/")
    assert checked.status_code == 503, checked.text[:500]
    assert UNAVAILABLE in text(checked) and "Nothing was lost" in text(checked)
    assert checked.headers["Retry-After"] == "60"
    # htmx swaps only what it is told to, so the message goes to the page's message area
    swapped = post(browser, f"{system.url}/accounts/{other.pk}/verify/", **{"HX-Request": "true"})
    assert swapped.headers.get("HX-Retarget") == "#messages", swapped.text[:500]
    assert UNAVAILABLE in text(swapped)

    # Publish is committed: queued, and the person is told it starts when workers are back.
    published = post(browser, f"{system.url}/targets/{later.pk}/publish/")
    assert published.status_code == 200, published.text[:500]
    assert "queued" in text(published) and "cannot be reached right now" in text(published)
    later.refresh_from_db()
    assert later.state == State.QUEUED

    # The upload in flight when Redis went finishes; the worker outlives the lost broker.
    def upload_done() -> bool:
        return ApiCall.objects.filter(target=working, url__contains="README", status=201).exists()

    wait_until(upload_done, 60, "the slow upload to finish")
    wait_until(lambda: "Connection to broker lost" in system.log("worker"), 30, "the worker")
    time.sleep(2)
    assert worker.poll() is None, "the worker died with Redis\n" + system.log("worker")[-3000:]
    working.refresh_from_db()
    assert working.state == State.WORKING

    redis_server.start()

    def reconnected() -> bool:
        assert worker.poll() is None, "the worker died\n" + system.log("worker")[-3000:]
        return system.log("worker").count("Connected to redis://") >= 2  # the same worker

    wait_until(reconnected, 60, "the worker to reconnect")
    for target in (working, later):
        wait_for_state(target, {State.PUBLISHED, State.FAILED}, timeout=120)
        assert target.state == State.PUBLISHED, target.last_error
    assert worker.poll() is None, "the worker died\n" + system.log("worker")[-3000:]
    assert not Event.objects.filter(message__contains="Unexpected error").exists()
    assert Target.objects.filter(state=State.PUBLISHED).count() == 2
