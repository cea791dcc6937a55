"""A deposit published through real Celery workers against the Zenodo sandbox over real
HTTP: the happy path, injected faults, and a worker killed mid-upload."""

from __future__ import annotations

import hashlib

import pytest

from deposits.models import ApiCall, Event, Identifier, RemoteFile, State
from tests.e2e.zenodo_helpers import (
    control,
    counters,
    deposit_with_files,
    publish,
    random_bytes,
    remote_deposition,
    sandbox_account,
    wait_for_state,
)
from tests.livesystem import wait_until

pytestmark = [pytest.mark.e2e]

FILES = {
    "measurements.csv": b"site,moisture\n" + b"lindenberg,0.31\n" * 20_000,
    "README.txt": b"Soil moisture, hourly.\n",
    "probe-raw.bin": random_bytes(3 * 1024 * 1024),
}


def assert_published_once(system, token, target, files):  # type: ignore[no-untyped-def]
    """Exactly one remote deposition, each file once with our checksum, one version DOI."""
    remote = remote_deposition(system, token, target.remote_id)
    assert remote["state"] == "done" and remote["submitted"] is True
    assert sorted(f["filename"] for f in remote["files"]) == sorted(files)
    for f in remote["files"]:
        assert f["checksum"] == hashlib.md5(files[f["filename"]]).hexdigest()
    stats = counters(system)
    assert stats["depositions_created"] == 1
    assert stats["published"] == 1
    version = Identifier.objects.get(target=target, scope="version")
    concept = Identifier.objects.get(target=target, scope="concept")
    assert version.value == remote["doi"] and version.value.startswith("10.5072/")
    assert concept.value == remote["conceptdoi"] and concept.value != version.value
    # one publish is one line of the timeline naming the DOI
    assert Event.objects.filter(target=target, message__contains=version.value).count() == 1
    return remote


def test_a_deposit_with_several_files_is_published_with_its_dois(live_system, team, member):
    control(live_system, {"wipe": True})
    account, token = sandbox_account(live_system, team)
    target = deposit_with_files(team, account, FILES)
    live_system.start_worker()

    publish(target, member)
    wait_for_state(target, {State.PUBLISHED, State.FAILED})

    assert target.state == State.PUBLISHED, target.last_error
    assert_published_once(live_system, token, target, FILES)
    assert set(RemoteFile.objects.filter(target=target).values_list("status", flat=True)) == {
        "done"
    }
    calls = ApiCall.objects.filter(target=target)
    # The protocol's minimum: create, one PUT per file, metadata, publish, one confirmation.
    assert calls.count() == 1 + len(FILES) + 1 + 1 + 1
    assert not calls.filter(url__contains=token).exists()
    assert all(call.status and call.status < 400 for call in calls)


def test_it_publishes_through_429_500_gateway_pages_and_a_reset_mid_upload(
    live_system, team, member
):
    control(
        live_system,
        {
            "wipe": True,
            "faults": [
                {"kind": "error", "status": 500, "method": "POST", "path": r"/depositions$"},
                {
                    "kind": "error",
                    "status": 429,
                    "delay_seconds": 2,  # its Retry-After
                    "method": "PUT",
                    "path": r"/depositions/\d+$",
                },
                {"kind": "gateway", "status": 504, "path": r"/actions/publish$"},
                {"kind": "reset", "method": "PUT", "path": r"/api/files/"},
            ],
        },
    )
    account, token = sandbox_account(live_system, team)
    target = deposit_with_files(team, account, FILES)
    live_system.start_worker()

    publish(target, member)
    wait_for_state(target, {State.PUBLISHED, State.FAILED}, timeout=180)

    assert target.state == State.PUBLISHED, target.last_error
    assert_published_once(live_system, token, target, FILES)
    statuses = set(ApiCall.objects.filter(target=target).values_list("status", flat=True))
    assert {500, 429, 504} <= statuses
    # The reset upload was recorded as a failed call with no status, then sent again.
    assert ApiCall.objects.filter(target=target, status__isnull=True, method="PUT").exists()
    assert counters(live_system)["faults_injected"] == 4


def test_a_worker_killed_mid_upload_is_resumed_without_duplicates(live_system, team, member):
    # The second file's upload hangs long enough to kill the worker while it is in flight.
    control(
        live_system,
        {
            "wipe": True,
            "faults": [
                {
                    "kind": "slow",
                    "delay_seconds": 30,
                    "method": "PUT",
                    "path": r"/api/files/.*README",
                }
            ],
        },
    )
    account, token = sandbox_account(live_system, team)
    target = deposit_with_files(team, account, FILES)
    live_system.start_worker("worker")
    publish(target, member)

    def upload_in_flight() -> bool:
        target.refresh_from_db()
        assert target.state != State.FAILED, target.last_error
        state = control(live_system, {})
        return not any(f["kind"] == "slow" for f in state.get("faults", []))

    wait_until(upload_in_flight, 120, "the slow upload to start")
    target.refresh_from_db()
    assert target.state == State.WORKING and target.current_step == "upload"
    live_system.kill("worker")

    live_system.start_beat()  # the reconciler notices the lease running out
    live_system.start_worker("worker2")
    wait_for_state(target, {State.PUBLISHED, State.FAILED}, timeout=180)

    assert target.state == State.PUBLISHED, target.last_error
    assert_published_once(live_system, token, target, FILES)
    assert target.events.filter(kind="resumed").exists()
