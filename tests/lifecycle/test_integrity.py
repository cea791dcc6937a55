"""A stored copy whose bytes changed since upload is never sent, and says so once.

The target runs through the worker (``lifecycle.advance``) with the scripted connector;
its upload step does what the real connectors do with a file: open it with
``FileJob.open``, stream the bytes to the repository, and compare the MD5 the
repository reports with the one recorded at upload (a mismatch is a ``ChecksumMismatch``,
retried: it is the repository's fault as far as a connector can tell).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from deposits import lifecycle, uploads
from deposits.lifecycle import integrity
from deposits.models import Action, DepositFile, Event, RemoteFile, State, Target
from deposits.repositories.base import FileState, FileUpdate, StepResult
from deposits.repositories.errors import ChecksumMismatch, DamagedCopy
from tests.factories import DepositFactory, TargetFactory, add_file
from tests.lifecycle.conftest import ScriptedConnector

pytestmark = pytest.mark.django_db

GOOD = b"station,moisture\n" + b"lindenberg,0.31\n" * 400
DAMAGED = b"station,temperature\n" + b"lindenberg,11.2\n" * 400


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    settings.MEDIA_ROOT = str(tmp_path / "media")


class Repository:
    """The bytes the scripted repository was sent, per file."""

    def __init__(self, connector: ScriptedConnector) -> None:
        self.received: dict[str, bytes] = {}
        connector.on_step["upload"] = self.upload

    def upload(self, job: Any) -> StepResult:
        current = next(job.pending_files())
        sent = bytearray()
        with current.open() as fileobj:
            while data := fileobj.read(4096):  # each read goes out on the wire
                sent += data
                self.received[current.name] = bytes(sent)
        held = hashlib.md5(sent).hexdigest()
        if held != current.md5:
            raise ChecksumMismatch(
                f"Zenodo holds different bytes for {current.name}: expected MD5 "
                f"{current.md5}, got {held}. It will be sent again."
            )
        more = any(f.name != current.name for f in job.pending_files())
        return StepResult(
            done=not more,
            file_updates={current.name: FileUpdate.done(f"f-{current.name}", f"md5:{held}")},
        )


@pytest.fixture
def deposit_files(team: Any) -> dict[str, DepositFile]:
    deposit: Any = DepositFactory(team=team)
    return {name: add_file(deposit, name, GOOD) for name in ("a.csv", "b.csv")}


@pytest.fixture
def target(deposit_files: dict[str, DepositFile], zenodo_account: Any, connector: Any) -> Target:
    deposit = deposit_files["a.csv"].deposit
    t: Any = TargetFactory(deposit=deposit, account=zenodo_account)
    lifecycle.revalidate(deposit)
    t.refresh_from_db()
    assert t.state == State.READY
    return t


def stored_path(dfile: DepositFile) -> Path:
    return Path(dfile.blob.path)


def overwrite(dfile: DepositFile, content: bytes) -> None:
    """The stored bytes change behind the portal's back; the record keeps its checksums."""
    stored_path(dfile).write_bytes(content)


def publish_through_the_worker(target: Target, member: Any) -> int:
    """Publish and let the worker run until it stops; returns how many times it ran."""
    lifecycle.request(target, Action.PUBLISH, user=member)
    runs = 0
    while runs < 30:
        runs += 1
        if not lifecycle.advance(target.pk).again:
            break
        Target.objects.filter(pk=target.pk).update(next_attempt_at=None)
    target.refresh_from_db()
    return runs


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda f: overwrite(f, GOOD.replace(b"0.31", b"0.32", 1)), "MD5 "),
        (lambda f: overwrite(f, GOOD[:-10]), "6417 bytes when uploaded, 6407 bytes now"),
        (lambda f: stored_path(f).unlink(), "is missing from its storage"),
    ],
    ids=["bytes-changed", "truncated", "missing"],
)
def test_a_damaged_copy_fails_its_file_and_the_target_once_and_sends_nothing(
    target: Target,
    member: Any,
    connector: ScriptedConnector,
    damage: Any,
    says: str,
) -> None:
    repository = Repository(connector)
    damage(DepositFile.objects.get(deposit=target.deposit, name="b.csv"))

    runs = publish_through_the_worker(target, member)

    assert repository.received == {"a.csv": GOOD}  # not one byte of b.csv went out
    failed = RemoteFile.objects.get(target=target, name="b.csv")
    assert failed.status == FileState.FAILED and failed.attempts == 1
    assert failed.last_error.startswith("The portal's copy of “b.csv” is ")
    assert says in failed.last_error
    assert "Nothing was sent. Remove the file from this deposit and upload it again" in (
        failed.last_error
    )
    # permanent: failed at once, with that message; no retries blaming the repository
    assert target.state == State.FAILED and target.retryable is False
    assert target.last_error == failed.last_error
    assert target.attempts == 0
    assert not Event.objects.filter(target=target, kind="retry").exists()
    assert [step for step, _ in connector.calls].count("upload") == 2  # a.csv, then b.csv
    assert runs <= 4
    assert RemoteFile.objects.get(target=target, name="a.csv").status == FileState.DONE


def test_an_intact_copy_is_sent_whole_from_its_first_byte(
    target: Target, member: Any, connector: ScriptedConnector
) -> None:
    repository = Repository(connector)
    publish_through_the_worker(target, member)
    assert target.state == State.PUBLISHED, target.last_error
    assert repository.received == {"a.csv": GOOD, "b.csv": GOOD}


def test_uploading_the_file_again_lets_the_retry_send_it(
    target: Target,
    member: Any,
    connector: ScriptedConnector,
    deposit_files: dict[str, DepositFile],
) -> None:
    repository = Repository(connector)
    overwrite(deposit_files["b.csv"], DAMAGED)
    publish_through_the_worker(target, member)
    assert target.state == State.FAILED

    deposit = target.deposit
    uploads.delete_file(deposit_files["b.csv"], user=member)
    add_file(deposit, "b.csv", GOOD)
    lifecycle.revalidate(deposit)
    lifecycle.retry(target, user=member)
    for _ in range(10):
        if not lifecycle.advance(target.pk).again:
            break
        Target.objects.filter(pk=target.pk).update(next_attempt_at=None)
    target.refresh_from_db()
    assert target.state == State.PUBLISHED, target.last_error
    assert repository.received["b.csv"] == GOOD


def test_the_opener_reads_an_intact_copy_once_and_hands_it_over_rewound(
    deposit_files: dict[str, DepositFile],
) -> None:
    with integrity.verified_opener(deposit_files["a.csv"])() as fileobj:
        assert fileobj.read() == GOOD


def test_the_opener_refuses_a_damaged_copy_with_a_permanent_error(
    deposit_files: dict[str, DepositFile],
) -> None:
    overwrite(deposit_files["a.csv"], DAMAGED)
    with pytest.raises(DamagedCopy) as refused:
        integrity.verified_opener(deposit_files["a.csv"])()
    assert refused.value.permanent
    assert "its bytes no longer match the checksum taken when it was uploaded" in str(refused.value)
