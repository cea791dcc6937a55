"""A received release becomes a new version of its deposit: metadata and files applied,
the preview recorded, the team's policy followed, and nothing ever made twice.

The forge is ``responses`` (its archive URL); the workers' moves of the targets are made
here as the worker makes them (state and fields), then ``after_target_finished`` is told,
as the worker's hook has the import task do. tests/e2e/test_release_import.py runs the
same path with real workers against the Zenodo sandbox.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
import responses
from django.utils import timezone

from deposits.lifecycle.versions import published_snapshot
from deposits.metadata import to_view
from deposits.models import (
    Action,
    DepositFile,
    Identifier,
    Notification,
    Release,
    ReleaseStatus,
    ReviewRequest,
    State,
    Target,
)
from deposits.releases import importing
from tests.factories import (
    DepositFactory,
    ReleaseSourceFactory,
    TargetFactory,
    add_file,
)
from tests.releases.test_archive import make_zip

ZIP_URL = "https://api.github.com/repos/lab/analysis/zipball/v2.0"
CFF = """\
cff-version: 1.2.0
message: Please cite it.
title: Soil moisture tools
authors:
  - family-names: Lovelace
    given-names: Ada
license: MIT
"""


@pytest.fixture
def deposit(team, member, owner):  # type: ignore[no-untyped-def]
    deposit = DepositFactory(team=team, created_by=member)
    add_file(deposit, "data.csv", b"site,moisture\n")
    return deposit


def published(deposit: Any, account: Any) -> Target:
    """A target published once (v1.0), as the worker leaves it."""
    deposit.metadata = {**deposit.metadata, "version": "1.0"}
    deposit.save()
    target = TargetFactory(deposit=deposit, account=account)
    Target.objects.filter(pk=target.pk).update(
        state=State.PUBLISHED,
        remote_id="7",
        remote_state="done",
        published_at=timezone.now() - timedelta(days=1),
    )
    target.refresh_from_db()
    Target.objects.filter(pk=target.pk).update(published_version=published_snapshot(target))
    Identifier.objects.create(target=target, scheme="doi", value="10.5072/zenodo.7")
    target.refresh_from_db()
    return target


def a_release(deposit: Any, **fields: Any) -> Release:
    source = deposit.release_sources.first() or ReleaseSourceFactory(
        deposit=deposit, repository="lab/analysis"
    )
    values = {"release_id": "101", "tag": "v2.0", "archive_url": ZIP_URL, "found_by": "webhook"}
    return Release.objects.create(source=source, **{**values, **fields})


def serve_zip(rsps: responses.RequestsMock, files: dict[str, str], status: int = 200) -> bytes:
    body = make_zip({f"lab-analysis-abc1234/{k}": v for k, v in files.items()})
    rsps.add(responses.GET, ZIP_URL, body=body, status=status, content_type="application/zip")
    return body


def version_draft_opened(target: Target) -> None:
    """What the worker does when Zenodo opened the draft of the next version."""
    Target.objects.filter(pk=target.pk).update(
        state=State.READY, remote_id="8", remote_state="unsubmitted", lease_token=""
    )
    target.refresh_from_db()
    importing.after_target_finished(target)


def version_published(target: Target, doi: str = "10.5072/zenodo.8") -> None:
    Target.objects.filter(pk=target.pk).update(
        state=State.PUBLISHED, remote_state="done", published_at=timezone.now()
    )
    Identifier.objects.create(target=target, scheme="doi", value=doi)
    target.refresh_from_db()
    importing.after_target_finished(target)


@pytest.fixture(autouse=True)
def storage(settings: Any, tmp_path: Any) -> None:
    settings.UPLOAD_STAGING_DIR = tmp_path / "staging"
    settings.MEDIA_ROOT = tmp_path / "media"


@responses.activate
def test_a_release_becomes_the_deposits_new_version(deposit, zenodo_account):
    target = published(deposit, zenodo_account)
    body = serve_zip(responses.mock, {"CITATION.cff": CFF, "README.md": "hi"})
    release = a_release(deposit)

    importing.import_release(release.pk)

    release.refresh_from_db()
    deposit.refresh_from_db()
    view = to_view(deposit.metadata)
    assert view["title"] == "Soil moisture tools"  # the citation file's fields win
    assert view["creators"] == [{"name": "Lovelace, Ada"}]
    assert view["license"] == "MIT"
    assert view["version"] == "v2.0"  # the tag: the file names none
    assert view["description"] == to_view(deposit.metadata)["description"]  # kept
    files = list(deposit.files.all())
    assert [(f.name, f.size, f.sha256) for f in files] == [
        ("analysis-v2.0.zip", len(body), hashlib.sha256(body).hexdigest())
    ]
    assert files[0].md5 == hashlib.md5(body).hexdigest()
    assert files[0].blob.read() == body
    assert release.file == files[0] and release.archive_sha256 == files[0].sha256
    assert release.metadata_from == "CITATION.cff" and release.imported_at is not None
    assert release.status == ReleaseStatus.PUBLISHING

    changes = release.changes
    assert changes["version_before"] == "1.0" and changes["version_after"] == "v2.0"
    paths = {c["path"]: (c["before"], c["after"]) for c in changes["fields"]}
    assert paths["version"] == ("1.0", "v2.0")
    assert paths["title"][1] == "Soil moisture tools"
    assert {f["name"]: f["change"] for f in changes["files"]} == {
        "analysis-v2.0.zip": "added",
        "data.csv": "removed",
    }
    target.refresh_from_db()
    assert target.state == State.QUEUED and target.action == Action.NEW_VERSION


@responses.activate
def test_the_citations_own_version_wins_over_the_tag(deposit, zenodo_account):
    published(deposit, zenodo_account)
    serve_zip(responses.mock, {".zenodo.json": json.dumps({"version": "2.0.0-final"})})
    importing.import_release(a_release(deposit).pk)
    deposit.refresh_from_db()
    assert deposit.metadata["version"] == "2.0.0-final"


@responses.activate
def test_without_a_citation_file_only_the_version_changes(deposit, zenodo_account):
    published(deposit, zenodo_account)
    serve_zip(responses.mock, {"README.md": "hi"})
    before = to_view(deposit.metadata)
    release = a_release(deposit, released_at=None)
    importing.import_release(release.pk)
    deposit.refresh_from_db()
    release.refresh_from_db()
    assert to_view(deposit.metadata) == {**before, "version": "v2.0"}
    assert "only the version changes" in release.message


@responses.activate
def test_the_same_license_in_another_spelling_is_no_change(deposit, zenodo_account):
    published(deposit, zenodo_account)  # the deposit's license is "cc-by-4.0"
    serve_zip(responses.mock, {"CITATION.cff": CFF.replace("MIT", "CC-BY-4.0")})
    release = a_release(deposit)
    importing.import_release(release.pk)
    deposit.refresh_from_db()
    release.refresh_from_db()
    assert to_view(deposit.metadata)["license"] == "cc-by-4.0"
    assert "license" not in {c["path"] for c in release.changes["fields"]}


@responses.activate
def test_policy_publish_publishes_the_new_version_once_its_draft_is_open(
    deposit, zenodo_account, member, owner
):
    target = published(deposit, zenodo_account)
    serve_zip(responses.mock, {"CITATION.cff": CFF})
    release = a_release(deposit)
    importing.import_release(release.pk)

    version_draft_opened(target)
    target.refresh_from_db()
    assert target.state == State.QUEUED and target.action == Action.PUBLISH_VERSION

    version_published(target)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PUBLISHED
    assert release.message == "Published as DOI 10.5072/zenodo.8"
    told = Notification.objects.filter(kind="release_imported")
    assert sorted(n.user.username for n in told) == ["ada", "olivia"]  # author + admin


@responses.activate
def test_policy_prepare_leaves_the_open_draft_for_a_person(deposit, zenodo_account):
    deposit.team.release_publish = "prepare"
    deposit.team.save()
    target = published(deposit, zenodo_account)
    serve_zip(responses.mock, {"CITATION.cff": CFF})
    release = a_release(deposit)
    importing.import_release(release.pk)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PREPARED

    version_draft_opened(target)
    target.refresh_from_db()
    release.refresh_from_db()
    assert target.state == State.READY  # nothing queued: a person publishes
    assert release.status == ReleaseStatus.PREPARED
    assert release.message.startswith("New version v2.0 prepared.")
    assert Notification.objects.filter(kind="release_imported").count() == 2

    # The person publishes it later: the release follows.
    version_published(target, "10.5072/zenodo.9")
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PUBLISHED
    assert release.message == "Published as DOI 10.5072/zenodo.9"


@responses.activate
def test_where_review_is_required_the_new_version_is_submitted(deposit, zenodo_account):
    deposit.team.review_required = True
    deposit.team.save()
    target = published(deposit, zenodo_account)
    serve_zip(responses.mock, {"CITATION.cff": CFF})
    release = a_release(deposit)
    importing.import_release(release.pk)
    version_draft_opened(target)

    target.refresh_from_db()
    release.refresh_from_db()
    assert target.state == State.AWAITING_REVIEW
    assert release.status == ReleaseStatus.IN_REVIEW
    review = ReviewRequest.objects.get(deposit=deposit)
    assert review.submitted_by is None and review.actions == {str(target.pk): "publish_version"}
    # the queue and the review page name the release, not "someone no longer here"
    assert review.submitted_as == f"The release v2.0 of {release.source}"
    told = Notification.objects.get(kind="review_requested")
    assert told.message.startswith(f"The release v2.0 of {release.source} submitted")


@responses.activate
def test_it_waits_while_a_worker_has_the_deposit_then_imports(deposit, zenodo_account):
    target = published(deposit, zenodo_account)
    Target.objects.filter(pk=target.pk).update(state=State.WORKING, action=Action.EDIT)
    serve_zip(responses.mock, {"CITATION.cff": CFF})
    release = a_release(deposit)

    importing.import_release(release.pk)
    release.refresh_from_db()
    deposit.refresh_from_db()
    assert release.status == ReleaseStatus.WAITING
    assert "is working on this deposit" in release.message
    assert [f.name for f in deposit.files.all()] == ["data.csv"]  # nothing changed
    assert deposit.metadata["version"] == "1.0"
    assert importing.sweep() == 1  # it is due again

    Target.objects.filter(pk=target.pk).update(state=State.PUBLISHED)
    importing.import_release(release.pk)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PUBLISHING
    assert [f.name for f in DepositFile.objects.filter(deposit=deposit)] == ["analysis-v2.0.zip"]


@responses.activate
def test_a_duplicate_import_makes_nothing_new(deposit, zenodo_account):
    target = published(deposit, zenodo_account)
    serve_zip(responses.mock, {"CITATION.cff": CFF})
    release = a_release(deposit)
    importing.import_release(release.pk)
    events = target.events.count()
    stored = DepositFile.objects.get(deposit=deposit)

    importing.import_release(release.pk)  # the task delivered twice
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.RECEIVED)
    importing.import_release(release.pk)  # or taken up again by the sweep

    assert list(DepositFile.objects.filter(deposit=deposit)) == [stored]
    target.refresh_from_db()
    assert target.state == State.QUEUED and target.events.count() == events

    version_draft_opened(target)
    importing.after_target_finished(target)  # told twice
    importing.import_release(release.pk)  # and its task run again
    assert target.events.filter(to_state=State.QUEUED).count() == 2  # new version + publish


@responses.activate
def test_importing_the_same_archive_again_keeps_its_stored_file(deposit, zenodo_account):
    target = published(deposit, zenodo_account)
    body = serve_zip(responses.mock, {"CITATION.cff": CFF})
    release = a_release(deposit)
    importing.import_release(release.pk)
    stored = DepositFile.objects.get(deposit=deposit)
    # The new version was discarded and the release is replayed: same bytes, same file.
    Target.objects.filter(pk=target.pk).update(state=State.PUBLISHED)
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.FAILED)
    importing.replay(release, user=None)
    importing.import_release(release.pk)
    assert len(responses.calls) == 2
    assert list(DepositFile.objects.filter(deposit=deposit)) == [stored]  # the same row
    assert stored.blob.read() == body


@responses.activate
def test_a_gone_archive_fails_the_release_and_tells_people(deposit, zenodo_account, member):
    published(deposit, zenodo_account)
    serve_zip(responses.mock, {}, status=404)
    deposit.followers.add(member)
    release = a_release(deposit)
    importing.import_release(release.pk)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.FAILED
    assert release.message.startswith("The archive is gone (api.github.com answered HTTP 404)")
    told = Notification.objects.filter(kind="release_failed")
    assert sorted(n.user.username for n in told) == ["ada", "olivia"]
    assert "press Replay" in told[0].message
    deposit.refresh_from_db()
    assert deposit.metadata["version"] == "1.0"


@responses.activate
def test_a_broken_citation_file_changes_nothing_and_lists_its_problems(deposit, zenodo_account):
    published(deposit, zenodo_account)
    serve_zip(responses.mock, {".zenodo.json": '{"title": "x",}'})
    release = a_release(deposit)
    importing.import_release(release.pk)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.FAILED
    assert release.problems[0]["message"].startswith("the .zenodo.json is not valid JSON (line 1")
    assert "fix the file in the repository" in release.message
    assert [f.name for f in deposit.files.all()] == ["data.csv"]


@responses.activate
def test_a_busy_forge_is_retried_with_backoff(deposit, zenodo_account):
    published(deposit, zenodo_account)
    serve_zip(responses.mock, {}, status=503)
    release = a_release(deposit)
    importing.import_release(release.pk)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.WAITING and release.attempts == 1
    assert release.next_attempt_at > timezone.now()
    importing.import_release(release.pk)  # not due yet: nothing happens
    assert len(responses.calls) == 1


@responses.activate
def test_a_failing_new_version_fails_the_release(deposit, zenodo_account):
    target = published(deposit, zenodo_account)
    serve_zip(responses.mock, {"CITATION.cff": CFF})
    release = a_release(deposit)
    importing.import_release(release.pk)
    Target.objects.filter(pk=target.pk).update(
        state=State.FAILED, last_error="Zenodo refused the new version.", updated=timezone.now()
    )
    target.refresh_from_db()
    importing.after_target_finished(target)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.FAILED
    assert release.message == "Zenodo (sandbox): Zenodo refused the new version."
    assert Notification.objects.filter(kind="release_failed").exists()


def test_replay_sends_a_failed_release_again_and_refuses_one_that_became_a_version(deposit, member):
    release = a_release(deposit, status=ReleaseStatus.FAILED, message="gone")
    importing.replay(release, user=member)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.RECEIVED and release.found_by == "replay"
    assert release.requested_by == member
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.PUBLISHED)
    from deposits.lifecycle.states import NotAllowed

    with pytest.raises(NotAllowed, match="already became a new version"):
        importing.replay(release, user=member)


def test_the_sweep_takes_up_stuck_imports(deposit):
    release = a_release(deposit, status=ReleaseStatus.IMPORTING)
    long_ago = timezone.now() - timedelta(hours=2)
    Release.objects.filter(pk=release.pk).update(updated=long_ago)
    fresh = a_release(deposit, release_id="102", status=ReleaseStatus.RECEIVED)
    assert importing.sweep() == 1  # the stuck one; the fresh one has its own task
    release.refresh_from_db()
    assert release.status == ReleaseStatus.RECEIVED
    fresh.refresh_from_db()
    assert fresh.status == ReleaseStatus.RECEIVED


@responses.activate
def test_a_newer_release_supersedes_one_not_yet_published(deposit, zenodo_account):
    deposit.team.release_publish = "prepare"
    deposit.team.save()
    target = published(deposit, zenodo_account)
    serve_zip(responses.mock, {"CITATION.cff": CFF})
    older = a_release(deposit)
    importing.import_release(older.pk)
    version_draft_opened(target)  # prepared: the draft of v2.0 waits for a person

    newer_url = ZIP_URL.replace("v2.0", "v2.1")
    responses.add(responses.GET, newer_url, body=make_zip({"top/README.md": "v2.1"}))
    newer = a_release(deposit, release_id="102", tag="v2.1", archive_url=newer_url)
    importing.import_release(newer.pk)

    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.status == ReleaseStatus.FAILED and "Superseded by release v2.1" in older.message
    assert newer.status == ReleaseStatus.PREPARED
    assert newer.changes["targets"][0]["step"] == "draft_open"  # the open draft is reused
    assert [f.name for f in DepositFile.objects.filter(deposit=deposit)] == ["analysis-v2.1.zip"]
    version_published(target)
    newer.refresh_from_db()
    older.refresh_from_db()
    assert newer.status == ReleaseStatus.PUBLISHED and older.status == ReleaseStatus.FAILED


@responses.activate
def test_the_worker_finishing_a_target_runs_the_releases_task_again(
    deposit, zenodo_account, monkeypatch, django_capture_on_commit_callbacks
):
    from celery import current_app

    from deposits.lifecycle import worker

    target = published(deposit, zenodo_account)
    serve_zip(responses.mock, {"CITATION.cff": CFF})
    release = a_release(deposit)
    importing.import_release(release.pk)
    sent: list[tuple[str, list[Any]]] = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, args=None, **kw: sent.append((name, list(args)))
    )
    # The worker finishes the new-version action: Zenodo opened the draft.
    Target.objects.filter(pk=target.pk).update(
        state=State.WORKING, remote_id="8", remote_state="unsubmitted"
    )
    target.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        worker._finish(target, token="")
    assert ("deposits.tasks.import_release", [release.pk]) in sent

    importing.import_release(release.pk)  # what that task does
    target.refresh_from_db()
    assert target.state == State.QUEUED and target.action == Action.PUBLISH_VERSION


@responses.activate
def test_a_busy_database_is_tried_again_not_failed(deposit, zenodo_account, monkeypatch):
    from django.db import OperationalError

    published(deposit, zenodo_account)
    serve_zip(responses.mock, {"CITATION.cff": CFF})
    release = a_release(deposit)

    def deadlocked(*args: Any, **kwargs: Any) -> bool:  # what PostgreSQL raises on a deadlock
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(importing, "_apply", deadlocked)
    importing.import_release(release.pk)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.WAITING and release.next_attempt_at is not None
    assert "busy" in release.message
    assert not Notification.objects.filter(kind="release_failed").exists()

    monkeypatch.undo()  # the next attempt, once its time has come, imports it
    Release.objects.filter(pk=release.pk).update(next_attempt_at=timezone.now())
    importing.import_release(release.pk)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PUBLISHING
