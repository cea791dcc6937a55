"""A create slower than the read timeout against the Zenodo sandbox, through real workers
(issue 9 item 4): the draft it makes is adopted while it can still land, and one that
lands later still is deleted by the orphan watchdog. Never two drafts left."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from deposits.lifecycle.watchdog import ORPHAN_DELETED
from deposits.models import ApiCall, State
from tests.e2e.test_zenodo_publish import assert_published_once
from tests.e2e.zenodo_helpers import (
    control,
    deposit_with_files,
    publish,
    sandbox_account,
    wait_for_state,
)
from tests.livesystem import LiveSystem, purge_queues, wait_until

pytestmark = [pytest.mark.e2e]

FILES = {"data.csv": b"a,b\n1,2\n" * 1000}
CREATE = r"/api/deposit/depositions$"


def _system(tmp: Path, **env: str) -> Iterator[LiveSystem]:
    purge_queues()
    system = LiveSystem(
        tmp,
        HTTP_CONNECT_TIMEOUT="1",
        HTTP_READ_TIMEOUT="2",
        CREATE_RETRY_GRACE_SECONDS="1",
        CREATE_LOOK_EVERY_SECONDS="1",
        **env,
    )
    try:
        system.start_web()
        yield system
    finally:
        system.stop()
        purge_queues()


@pytest.fixture
def patient(transactional_db: None, tmp_path: Path) -> Iterator[LiveSystem]:
    """A slow create may land for 1 + 2 + 20 s: long enough for the sandbox's 5 s."""
    yield from _system(tmp_path, CREATE_LAND_MARGIN_SECONDS="20")


@pytest.fixture
def hasty(transactional_db: None, tmp_path: Path) -> Iterator[LiveSystem]:
    """No margin: a create that lands after 3 s is given up on, and the watchdog sweeps
    every 2 s."""
    yield from _system(tmp_path, CREATE_LAND_MARGIN_SECONDS="0", ORPHAN_SWEEP_EVERY_SECONDS="2")


def _slow_create(system: LiveSystem, seconds: float) -> None:
    fault = {"kind": "slow", "delay_seconds": seconds, "method": "POST", "path": CREATE}
    control(system, {"wipe": True, "faults": [fault]})


def _depositions(system: LiveSystem, token: str) -> list[dict[str, Any]]:
    reply = requests.get(
        f"{system.zenodo_url}/api/deposit/depositions",
        params={"size": 100},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    reply.raise_for_status()
    return reply.json()


def test_a_create_that_lands_after_the_timeout_is_adopted(patient, team, member):
    _slow_create(patient, 5)
    account, token = sandbox_account(patient, team)
    target = deposit_with_files(team, account, FILES)
    patient.start_worker()
    publish(target, member)
    wait_for_state(target, {State.PUBLISHED, State.FAILED}, timeout=120)

    assert target.state == State.PUBLISHED, target.last_error
    assert_published_once(patient, token, target, FILES)  # one deposition was ever made
    creates = ApiCall.objects.filter(target=target, method="POST", url__endswith="/depositions")
    assert list(creates.values_list("status", flat=True)) == [None]  # it timed out, once
    assert target.events.filter(message__contains="Adopted the draft a slow create made").exists()


def test_a_create_that_lands_later_still_leaves_no_orphan(hasty, team, member):
    _slow_create(hasty, 8)
    account, token = sandbox_account(hasty, team)
    target = deposit_with_files(team, account, FILES)
    hasty.start_worker()
    hasty.start_beat()
    publish(target, member)
    wait_for_state(target, {State.PUBLISHED, State.FAILED}, timeout=120)
    assert target.state == State.PUBLISHED, target.last_error

    def swept() -> bool:
        return target.events.filter(kind=ORPHAN_DELETED).exists()

    wait_until(swept, 60, "the watchdog to delete the late draft")
    (left,) = _depositions(hasty, token)
    assert str(left["id"]) == target.remote_id and left["submitted"] is True
    event = target.events.get(kind=ORPHAN_DELETED)
    assert event.data["kept"] == target.remote_id and event.data["remote_id"] != target.remote_id
