"""DataMeta submissions through real Celery workers against the DataMeta sandbox over real
HTTP: several samples and files, a checksum mismatch, and a worker killed between a
file's announcement and its confirmation. Nothing may be duplicated or left staged."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import requests

from deposits import lifecycle
from deposits.models import Action, Identifier, LinkedAccount, State, Target, Team
from deposits.repositories.datameta import sheets as datameta_sheets
from tests.factories import AccountFactory, DepositFactory, TargetFactory, add_file
from tests.livesystem import LiveSystem, wait_until

pytestmark = [pytest.mark.e2e]

FILES = {
    "AB12_R1.fastq.gz": b"@read1\nACGT\n+\nIIII\n" * 40_000,
    "CD34_R1.fastq.gz": b"@read2\nTTGA\n+\nIIII\n" * 30_000,
    "EF56_R1.fastq.gz": b"@read3\nGGCC\n+\nIIII\n" * 20_000,
}
ROWS = [
    {"SampleID": "AB12", "ZIPCode": "149", "Date": "2021-03-29", "FileR1": "AB12_R1.fastq.gz"},
    {"SampleID": "CD34", "ZIPCode": "150", "Lane": "L2", "FileR1": "CD34_R1.fastq.gz"},
    {"SampleID": "EF56", "ZIPCode": "151", "FileR1": "EF56_R1.fastq.gz"},
]


def control(system: LiveSystem, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    url = f"{system.datameta_url}/_control"
    reply = (
        requests.post(url, json=payload, timeout=10) if payload else requests.get(url, timeout=10)
    )
    reply.raise_for_status()
    return reply.json()


def linked_account(system: LiveSystem, team: Team) -> LinkedAccount:
    """A DataMeta account on the sandbox's site root: the API version is discovered."""
    key = system.manage("sandbox_token", "datameta")
    account = AccountFactory(
        team=team,
        kind="datameta",
        label="DataMeta sandbox",
        base_url=system.datameta_url,
        token=key,
        status="unverified",
    )
    lifecycle.verify_account(account, user=None)

    def verified() -> bool:
        account.refresh_from_db()
        return account.status == "ok" and bool(account.schema.get("definitions"))

    wait_until(verified, 60, f"the account to be verified ({account.last_error!r})")
    assert account.expires_at is not None  # the sandbox key lasts 30 days
    return account


def samples_target(team: Team, account: LinkedAccount, user: Any) -> Target:
    deposit = DepositFactory(team=team)
    for name, content in FILES.items():
        add_file(deposit, name, content)
    target = TargetFactory(deposit=deposit, account=account)
    target = datameta_sheets.save_rows(target, ROWS, user=user)
    assert target.state == State.READY, target.problems
    return target


def wait_for_state(target: Target, states: set[str], timeout: float = 120) -> Target:
    def reached() -> bool:
        target.refresh_from_db()
        return target.state in states

    wait_until(reached, timeout, f"target in {states} (error {target.last_error!r})")
    return target


def assert_submitted_once(target: Target) -> None:
    """One submission holding every sample and file once; nothing else staged."""
    from sandbox.datameta.models import File, MetaDataSet, Submission

    (submission,) = Submission.objects.all()
    assert MetaDataSet.objects.count() == len(ROWS)
    assert MetaDataSet.objects.filter(submission=submission).count() == len(ROWS)
    assert sorted(File.objects.values_list("name", flat=True)) == sorted(FILES)
    for f in File.objects.all():
        assert f.is_submitted() and f.content_uploaded
        assert f.checksum == hashlib.md5(FILES[f.name]).hexdigest()
    ours = Identifier.objects.get(target=target, scheme="datameta-submission")
    assert ours.value == submission.site_id
    assert Identifier.objects.filter(target=target, scheme="datameta-metadataset").count() == 3
    assert target.remote_id == str(submission.uuid)


def test_several_samples_and_files_are_submitted(live_system: LiveSystem, team, member) -> None:  # type: ignore[no-untyped-def]
    control(live_system, {"action": "reset"})
    live_system.start_worker()
    account = linked_account(live_system, team)
    target = samples_target(team, account, member)

    lifecycle.request(target, Action.PUBLISH, user=member)
    wait_for_state(target, {State.PUBLISHED, State.FAILED})

    assert target.state == State.PUBLISHED, target.last_error
    assert_submitted_once(target)
    counters = control(live_system)["counters"]
    assert counters["POST presubvalidation"] == 1
    assert counters["POST submissions"] == 1


def test_a_checksum_mismatch_fails_then_succeeds_once_the_file_is_fixed(
    live_system: LiveSystem, team, member
) -> None:  # type: ignore[no-untyped-def]
    control(live_system, {"action": "reset"})
    live_system.start_worker()
    account = linked_account(live_system, team)
    target = samples_target(team, account, member)
    # The stored copy changes after it was hashed: the portal notices before sending it.
    damaged = target.deposit.files.get(name="CD34_R1.fastq.gz")
    Path(damaged.blob.path).write_bytes(b"X" * damaged.size)

    lifecycle.request(target, Action.PUBLISH, user=member)
    wait_for_state(target, {State.PUBLISHED, State.FAILED})
    assert target.state == State.FAILED
    assert "The portal's copy of “CD34_R1.fastq.gz” is damaged" in target.last_error
    assert "upload it again" in target.last_error

    # The person uploads the file again and retries: the damaged staged copy is replaced.
    damaged.delete()
    add_file(target.deposit, "CD34_R1.fastq.gz", FILES["CD34_R1.fastq.gz"])
    lifecycle.revalidate(target.deposit)
    target.refresh_from_db()
    lifecycle.retry(target, user=member)
    wait_for_state(target, {State.PUBLISHED, State.FAILED})

    assert target.state == State.PUBLISHED, target.last_error
    assert_submitted_once(target)


def test_a_worker_killed_between_announce_and_confirm_leaves_nothing_behind(
    live_system: LiveSystem, team, member
) -> None:  # type: ignore[no-untyped-def]
    control(live_system, {"action": "reset"})
    live_system.start_worker("worker")
    account = linked_account(live_system, team)
    target = samples_target(team, account, member)
    # The first upload hangs (after its file was announced) long enough to kill the worker.
    control(
        live_system,
        {"action": "fault", "mode": "slow", "seconds": 20, "path": "/upload/", "method": "POST"},
    )
    lifecycle.request(target, Action.PUBLISH, user=member)

    def upload_in_flight() -> bool:
        target.refresh_from_db()
        assert target.state != State.FAILED, target.last_error
        return control(live_system)["fault"] is None

    wait_until(upload_in_flight, 120, "the slow upload to start")
    target.refresh_from_db()
    assert target.current_step == "upload"
    live_system.kill("worker")

    live_system.start_beat()  # the reconciler notices the lease running out
    live_system.start_worker("worker2")
    wait_for_state(target, {State.PUBLISHED, State.FAILED}, timeout=180)

    assert target.state == State.PUBLISHED, target.last_error
    assert_submitted_once(target)
    assert control(live_system)["counters"]["POST files"] == len(FILES)
