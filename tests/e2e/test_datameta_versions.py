"""What DataMeta can do after a first submission, through real Celery workers against the
DataMeta sandbox over real HTTP: a file no sample names stays here, a new submission
with the ids already submitted is refused before anything is staged, one with new ids
is submitted, and whatever a refused new submission staged is deleted from the page's
actions, back to the published submission."""

from __future__ import annotations

from typing import Any

import pytest

from deposits import lifecycle
from deposits.lifecycle.drafts import remote_phase
from deposits.models import Action, Identifier, RemoteFile, State, Target
from deposits.repositories.base import FileState, RemotePhase
from deposits.repositories.datameta import sheets as datameta_sheets
from tests.e2e.test_datameta_submit import (
    FILES,
    ROWS,
    control,
    linked_account,
    samples_target,
    wait_for_state,
)
from tests.factories import DepositFactory, TargetFactory, add_file
from tests.livesystem import LiveSystem

pytestmark = [pytest.mark.e2e]

README = b"# Soil samples\n\nReads of three samples, one FASTQ file each.\n"
NEW_ROWS = [
    {"SampleID": "GH78", "ZIPCode": "160", "FileR1": "AB12_R1.fastq.gz"},
    {"SampleID": "IJ90", "ZIPCode": "161", "FileR1": "CD34_R1.fastq.gz"},
]


def staged_on_sandbox() -> tuple[int, int]:
    """Metadatasets and files the sandbox holds that no submission holds."""
    from sandbox.datameta.models import File, MetaDataSet

    files = sum(1 for f in File.objects.all() if not f.is_submitted())
    return MetaDataSet.objects.filter(submission=None).count(), files


def offered(target: Target) -> list[str]:
    target.refresh_from_db()
    return [spec.action for spec in lifecycle.offered_actions(target)]


def submit(target: Target, action: Action, user: Any) -> Target:
    lifecycle.request(target, action, user=user)
    return wait_for_state(target, {State.PUBLISHED, State.FAILED})


def test_a_file_no_sample_names_stays_here(live_system: LiveSystem, team, member) -> None:  # type: ignore[no-untyped-def]
    from sandbox.datameta.models import File

    control(live_system, {"action": "reset"})
    live_system.start_worker()
    account = linked_account(live_system, team)
    deposit = DepositFactory(team=team)
    add_file(deposit, "README.md", README)
    for name, content in FILES.items():
        add_file(deposit, name, content)
    target = TargetFactory(deposit=deposit, account=account)
    target = datameta_sheets.save_rows(target, ROWS, user=member)
    assert target.state == State.READY, target.problems

    target = submit(target, Action.PUBLISH, member)

    assert target.state == State.PUBLISHED, target.last_error
    assert sorted(File.objects.values_list("name", flat=True)) == sorted(FILES)
    readme = RemoteFile.objects.get(target=target, name="README.md")
    assert readme.status == FileState.PENDING and readme.bytes_sent == 0
    assert control(live_system)["counters"]["POST files"] == len(FILES)


def test_a_new_submission_needs_new_sample_ids(live_system: LiveSystem, team, member) -> None:  # type: ignore[no-untyped-def]
    control(live_system, {"action": "reset"})
    live_system.start_worker()
    account = linked_account(live_system, team)
    target = samples_target(team, account, member)
    target = submit(target, Action.PUBLISH, member)
    assert target.state == State.PUBLISHED, target.last_error
    first = Identifier.objects.get(target=target, scheme="datameta-submission").value
    assert target.remote_data["submitted_ids"] == {"SampleID": ["AB12", "CD34", "EF56"]}
    assert offered(target) == ["new_version"]
    before = control(live_system)["counters"]

    # The same samples again: refused before anything reaches DataMeta.
    target = submit(target, Action.NEW_VERSION, member)
    assert target.state == State.FAILED
    assert "AB12, CD34, EF56" in target.last_error
    assert "give these samples new SampleID values" in target.last_error
    after = control(live_system)["counters"]
    assert after.get("POST metadatasets") == before.get("POST metadatasets")
    assert after.get("POST files") == before.get("POST files")
    assert staged_on_sandbox() == (0, 0)
    assert remote_phase(target) == RemotePhase.VERSION_DRAFT
    assert "discard_version" in offered(target)

    # Giving up the new submission returns to the published one, nothing lost.
    target = submit(target, Action.DISCARD_VERSION, member)
    assert target.state == State.PUBLISHED, target.last_error
    assert target.remote_data["submission"]["site"] == first
    assert offered(target) == ["new_version"]

    # New samples: a second submission; the first stays as it is.
    target = datameta_sheets.save_rows(target, NEW_ROWS, user=member)
    target = submit(target, Action.NEW_VERSION, member)
    assert target.state == State.PUBLISHED, target.last_error
    values = set(
        Identifier.objects.filter(target=target, scheme="datameta-submission").values_list(
            "value", flat=True
        )
    )
    assert len(values) == 2 and first in values
    assert target.remote_data["previous"][-1]["site"] == first
    assert target.remote_data["submitted_ids"]["SampleID"] == [
        "AB12",
        "CD34",
        "EF56",
        "GH78",
        "IJ90",
    ]
    assert staged_on_sandbox() == (0, 0)


def test_what_a_refused_new_submission_staged_is_deleted(
    live_system: LiveSystem, team, member
) -> None:  # type: ignore[no-untyped-def]
    control(live_system, {"action": "reset"})
    live_system.start_worker()
    account = linked_account(live_system, team)
    target = samples_target(team, account, member)
    target = submit(target, Action.PUBLISH, member)
    assert target.state == State.PUBLISHED, target.last_error
    first = target.remote_data["submission"]["site"]

    # Another deposit of the team takes GH78 first: only DataMeta can know that, and
    # it says so at pre-validation, once the new submission is staged.
    other = TargetFactory(deposit=DepositFactory(team=team), account=account)
    add_file(other.deposit, "AB12_R1.fastq.gz", FILES["AB12_R1.fastq.gz"])
    other = datameta_sheets.save_rows(other, NEW_ROWS[:1], user=member)
    assert submit(other, Action.PUBLISH, member).state == State.PUBLISHED

    target = datameta_sheets.save_rows(target, NEW_ROWS, user=member)
    target = submit(target, Action.NEW_VERSION, member)
    assert target.state == State.FAILED
    assert "GH78" in target.last_error
    assert staged_on_sandbox() == (2, 2)
    assert remote_phase(target) == RemotePhase.VERSION_DRAFT
    assert offered(target) == ["discard_version"]

    target = submit(target, Action.DISCARD_VERSION, member)
    assert target.state == State.PUBLISHED, target.last_error
    assert staged_on_sandbox() == (0, 0)
    assert target.remote_data["submission"]["site"] == first
    assert remote_phase(target) == RemotePhase.PUBLISHED


def test_a_new_submission_begun_before_the_published_record_was_kept_can_be_given_up(
    live_system: LiveSystem, team, member
) -> None:  # type: ignore[no-untyped-def]
    control(live_system, {"action": "reset"})
    live_system.start_worker()
    account = linked_account(live_system, team)
    target = samples_target(team, account, member)
    target = submit(target, Action.PUBLISH, member)
    assert target.state == State.PUBLISHED, target.last_error
    first = target.remote_data["submission"]
    # As the portal left it before: only the earlier submissions, no record put aside.
    Target.objects.filter(pk=target.pk).update(
        state=State.FAILED, remote_data={"previous": [first]}, published_version={}
    )
    assert offered(target) == ["discard_version"]

    target = submit(target, Action.DISCARD_VERSION, member)
    assert target.state == State.PUBLISHED, target.last_error
    assert target.remote_data["submission"] == first
    assert offered(target) == ["new_version"]
