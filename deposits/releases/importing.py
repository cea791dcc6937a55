"""A received release becomes a new version of its deposit.

``import_release`` claims the release (compare-and-set of its status), downloads its
archive (``archive``), reads its citation file (``citation``), then, under the deposit's
row lock and only while no worker or curator has the deposit, applies it: the metadata
through ``describing.save_metadata`` (the citation file's fields win; the version is the
tag, or the citation's own version), the deposit's files replaced by the archive, the
preview of what changed against what the targets last published recorded on the release.
Then, by the team's policy (``Team.release_publish``), each published target opens a draft
of the next version; once the drafts are open (``follow``, run again whenever one of the
deposit's targets finishes, and by the sweep) "publish" publishes them, or submits the
deposit for review where a target needs a curator's approval, and "prepare" leaves them
for a person. The release follows its targets to published or failed.

Every step is idempotent: the claim is a compare-and-set, the archive's file is found by
its SHA-256 before another is made, an action is queued only on a target that can take
it, and a release already past a step is never taken back through it.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from deposits import uploads
from deposits.lifecycle import drafts
from deposits.lifecycle.describing import save_metadata
from deposits.lifecycle.states import NotAllowed, User, record_event
from deposits.lifecycle.versions import delete_files, file_list, unsent_changes
from deposits.metadata import to_record, to_view
from deposits.metadata.changes import field_changes, file_changes
from deposits.models import (
    Action,
    Deposit,
    DepositFile,
    FileStatus,
    Release,
    ReleaseFoundBy,
    ReleasePublish,
    ReleaseStatus,
    State,
    Target,
    WebhookEvent,
)
from deposits.outbound import events
from deposits.repositories.base import RemotePhase

from . import archive, jobs
from .citation import Citation, read_metadata
from .following import FOLLOWED, after_target_finished, fail_release, follow, set_fields

__all__ = ["REPLAYABLE", "after_target_finished", "follow", "import_release", "replay", "sweep"]

log = logging.getLogger(__name__)

RS = ReleaseStatus
REPLAYABLE = {RS.KNOWN, RS.FLAGGED, RS.IGNORED, RS.FAILED}
SWEEP_RECEIVED_AFTER = timedelta(minutes=1)


# --------------------------------------------------------------------------- the task


def import_release(release_id: int) -> None:
    """The worker's task: import a received (or waiting) release, or move an imported
    one on after its targets did something. A duplicate task changes nothing."""
    release = Release.objects.filter(pk=release_id).select_related("source").first()
    if release is None:
        return
    if release.status in FOLLOWED:
        _follow(release)
        return
    if not _claim(release):
        return
    try:
        applied = _import(release)
    except archive.ArchiveError as exc:
        if exc.permanent:
            fail_release(release, exc.message)
        else:
            _retry_later(release, exc)
        return
    except OperationalError:  # a deadlock or a lock timeout: nothing was kept; again soon
        log.warning("release %s: the database was busy; importing again shortly", release_id)
        set_fields(
            release,
            status=RS.WAITING,
            next_attempt_at=timezone.now() + timedelta(seconds=10),
            message="The database was busy: importing again in a moment.",
        )
        return
    except Exception:
        reference = uuid.uuid4().hex[:8]
        log.exception("unexpected error importing release %s (ref %s)", release_id, reference)
        fail_release(
            release,
            f"Unexpected error (reference {reference}): nothing of the release was applied. "
            "Press Replay to try again, and report the reference if it happens again.",
        )
        return
    if applied:
        _follow(release)


def _follow(release: Release) -> None:
    """Move an imported release on; a busy database is no failure (the next target to
    finish, and the every-minute sweep, follow it again)."""
    try:
        follow(release)
    except OperationalError:
        log.warning("release %s not followed now (the database was busy): later", release.pk)


def _claim(release: Release) -> bool:
    """Received or waiting -> importing, for one worker only."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now())
    claimed = Release.objects.filter(
        due, pk=release.pk, status__in=[RS.RECEIVED, RS.WAITING]
    ).update(
        status=RS.IMPORTING, message="A worker is downloading the archive", updated=timezone.now()
    )
    return claimed == 1


def _retry_later(release: Release, exc: archive.ArchiveError) -> None:
    attempts = release.attempts + 1
    if attempts > settings.MAX_TRANSIENT_RETRIES:
        fail_release(
            release, f"{exc.message} Gave up after {attempts} attempts: press Replay later."
        )
        return
    ceiling = min(settings.RETRY_BACKOFF_MAX, settings.RETRY_BACKOFF_BASE * 2**attempts)
    delay = max(exc.retry_after or 0.0, random.uniform(ceiling / 2, ceiling), 1.0)
    set_fields(
        release,
        status=RS.WAITING,
        attempts=attempts,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        message=f"{exc.message} (attempt {attempts}, next in {delay:.0f} s)",
    )


def _import(release: Release) -> bool:
    """Download, read and apply the release; True when the deposit now carries it."""
    source = release.source
    if not release.archive_url:
        raise archive.ArchiveError(
            "The forge gave no archive address for this release: nothing to import.",
            permanent=True,
        )
    with archive.download(release.archive_url, source) as got:
        contents = archive.read_contents(got.path)
        citation = read_metadata(contents.files)
        set_fields(
            release,
            archive_name=archive_name(release),
            archive_size=got.size,
            archive_md5=got.md5,
            archive_sha256=got.sha256,
            metadata_from=citation.metadata_from,
            metadata=citation.metadata,
            problems=contents.problems + citation.problems,
        )
        if citation.problems:
            first = citation.problems[0]["message"]
            more = len(citation.problems) - 1
            fail_release(
                release,
                f"The release's {citation.metadata_from} has {len(citation.problems)} "
                f"problem(s): {first}{f' (and {more} more, listed on the release)' if more else ''}."
                " Nothing was changed: fix the file in the repository and publish a new release.",
            )
            return False
        return _apply(release, got, citation)


def archive_name(release: Release) -> str:
    """The deposit file the archive becomes: "<repository>-<tag>.zip"."""
    repo = release.source.repository.rstrip("/").rsplit("/", 1)[-1]
    return uploads.clean_name(f"{repo}-{release.tag.replace('/', '-')}.zip")


# --------------------------------------------------------------------------- applying


def _apply(release: Release, got: archive.Downloaded, citation: Citation) -> bool:
    """The release's files and metadata onto the deposit; False when it must wait."""
    deposit = release.source.deposit
    version = citation.version or release.tag
    stored = _stored_file(deposit, release, got)
    try:
        with transaction.atomic():
            # only the deposit's row (PostgreSQL would lock the team's too, with the join)
            locked = (
                Deposit.objects.select_for_update(of=("self",))
                .select_related("team")
                .get(pk=deposit.pk)
            )
            targets = list(locked.targets.select_related("account", "deposit__team"))
            reason = drafts.edit_locked_reason(targets, "metadata and files")
            if reason:
                _wait(release, reason)
                return False
            before = {"metadata": locked.metadata, "files": file_list(locked)}
            dfile = _replace_files(locked, stored, release)
            save_metadata(
                locked,
                lambda old: _merged(old, citation, version, release),
                user=None,
                note=f"release {release.tag} ({citation.metadata_from or 'no citation file'})",
            )
            locked.refresh_from_db()
            targets = list(locked.targets.select_related("account", "deposit__team"))
            plan = _plan(locked, targets, release)
            policy = locked.team.release_publish
            set_fields(
                release,
                status=RS.PUBLISHING if policy == ReleasePublish.PUBLISH else RS.PREPARED,
                file=dfile,
                imported_at=timezone.now(),
                changes=_preview(locked, targets, before, version) | {"targets": plan},
                message=" ".join(
                    [f"Imported as the deposit's new version {version}.", *citation.notes]
                ),
            )
            _supersede(locked, release)
            _emit(locked, release)
    except NotAllowed as exc:  # a worker took the deposit between the check and the save
        _wait(release, str(exc))
        return False
    finally:
        if stored.pk is None and stored.blob:
            stored.blob.delete(save=False)  # not kept: the next attempt stores it again
    return True


def _wait(release: Release, reason: str) -> None:
    set_fields(
        release,
        status=RS.WAITING,
        next_attempt_at=None,
        message=f"Waiting: {reason} The release is imported then, by itself.",
    )


def _stored_file(deposit: Deposit, release: Release, got: archive.Downloaded) -> DepositFile:
    """The archive as a deposit file: the one already there with its SHA-256 (a repeated
    import), or a new one stored as uploads store files (not saved yet)."""
    existing = deposit.files.filter(sha256=got.sha256, status=FileStatus.READY).first()
    if existing is not None:
        return existing
    name = archive_name(release)
    dfile = DepositFile(
        deposit=deposit,
        uid=uuid.uuid4(),
        name=name,
        size=got.size,
        received=got.size,
        md5=got.md5,
        sha256=got.sha256,
        status=FileStatus.READY,
    )
    with got.path.open("rb") as staged:
        dfile.blob.save(name, uploads.StagedFile(staged, name=name), save=False)
    return dfile


def _replace_files(deposit: Deposit, dfile: DepositFile, release: Release) -> DepositFile:
    """Only the archive stays among the deposit's files (the previous version's go)."""
    old = list(deposit.files.exclude(pk=dfile.pk) if dfile.pk else deposit.files.all())
    delete_files(old)
    if dfile.pk is None:
        dfile.save()
        record_event(
            deposit,
            "file_added",
            actor_label="release",
            message=f"Added {dfile.name} (the archive of release {release.tag})",
            data={"name": dfile.name, "size": dfile.size, "md5": dfile.md5, "sha256": dfile.sha256},
        )
    if old:
        record_event(
            deposit,
            "file_removed",
            actor_label="release",
            message=f"Removed {', '.join(f.name for f in old)} (replaced by release {release.tag})",
        )
    return dfile


def _merged(
    old: dict[str, Any], citation: Citation, version: str, release: Release
) -> dict[str, Any]:
    """The deposit's metadata with the citation file's fields over it, and the version."""
    before = to_view(old)
    view = {**before, **to_view(citation.metadata), "version": version}
    # the same license in another spelling ("CC-BY-4.0" for "cc-by-4.0") is no change
    if str(view.get("license") or "").lower() == str(before.get("license") or "").lower():
        view["license"] = before.get("license")
    if not to_view(citation.metadata).get("publication_date") and release.released_at:
        view["publication_date"] = timezone.localdate(release.released_at).isoformat()
    return to_record(view, old)


def _preview(
    deposit: Deposit, targets: list[Target], before: dict[str, Any], version: str
) -> dict[str, Any]:
    """What the new version changes against what the targets last published (or, for a
    deposit never published, against what it held before the release)."""
    from deposits.forms.metadata import field_label

    for target in targets:
        target.deposit = deposit
        unsent = unsent_changes(target)
        if unsent is not None:
            fields, files, was = unsent.fields, unsent.files, unsent.version
            break
    else:
        fields = field_changes(before["metadata"], deposit.metadata)
        files = file_changes(before["files"], file_list(deposit))
        was = str(before["metadata"].get("version") or "")
    return {
        "fields": [
            {"path": c.path, "label": field_label(c.path), "before": c.before, "after": c.after}
            for c in fields
        ],
        "files": [{"name": c.name, "change": c.change} for c in files],
        "version_before": was,
        "version_after": version,
    }


def _plan(deposit: Deposit, targets: list[Target], release: Release) -> list[dict[str, Any]]:
    """Per target, what the release does to it; published ones open a new-version draft."""
    policy = deposit.team.release_publish
    plan = []
    for target in targets:
        label, step = target.account.label, "skip"
        if target.state == State.PUBLISHED and Action.NEW_VERSION in drafts.allowed_actions(target):
            drafts.queue_action(
                target,
                Action.NEW_VERSION,
                user=None,
                message=f"New version for release {release.tag}",
            )
            step = "new_version"
        elif drafts.remote_phase(target) == RemotePhase.VERSION_DRAFT:
            step = "draft_open"  # a draft of the next version was open already
        elif target.published_at is None and target.state == State.READY:
            step = "publish" if policy == ReleasePublish.PUBLISH else "prepared"
        plan.append({"target": target.pk, "label": label, "step": step})
    return plan


def _supersede(deposit: Deposit, release: Release) -> None:
    """An earlier release not yet published is replaced by this one (its drafts now carry
    this release's archive and metadata): it must not claim this version as its own."""
    Release.objects.filter(source__deposit=deposit, status__in=FOLLOWED).exclude(
        pk=release.pk
    ).update(
        status=RS.FAILED,
        finished_at=timezone.now(),
        updated=timezone.now(),
        message=f"Superseded by release {release.tag}, imported before this one was "
        "published: the new version carries that release instead.",
    )


def _emit(deposit: Deposit, release: Release) -> None:
    try:
        events.emit(
            WebhookEvent.RELEASE_IMPORTED,
            deposit,
            data={
                "release": {
                    "id": release.pk,
                    "forge": release.source.forge,
                    "repository": release.source.repository,
                    "tag": release.tag,
                    "name": release.name,
                    "url": release.html_url,
                    "found_by": release.found_by,
                },
                "version": release.changes.get("version_after", ""),
                "metadata_from": release.metadata_from,
                "status": release.status,
            },
        )
    except Exception:  # the news must not be undone by a webhook
        log.exception("release.imported not emitted for release %s", release.pk)


# --------------------------------------------------------------------------- people and beat


def replay(release: Release, *, user: User) -> Release:
    """A person imports a listed, known, flagged, ignored or failed release by hand."""
    with transaction.atomic():
        locked = Release.objects.select_for_update().get(pk=release.pk)
        if locked.status not in REPLAYABLE:
            raise NotAllowed(
                "This release is being imported or already became a new version "
                f"({locked.get_status_display().lower()}): there is nothing to replay."
            )
        set_fields(
            locked,
            status=RS.RECEIVED,
            found_by=ReleaseFoundBy.REPLAY,
            requested_by=user if isinstance(user, AbstractBaseUser) else None,
            attempts=0,
            next_attempt_at=None,
            finished_at=None,
            problems=[],
            message="Replay requested: waiting for a worker",
        )
        jobs.enqueue_import(locked.pk)
    return locked


def sweep() -> int:
    """Every minute: received releases no task took (the broker was down), waiting ones
    whose time came, and imports whose worker died; returns how many were queued."""
    now = timezone.now()
    stuck = Release.objects.filter(
        status=RS.IMPORTING,
        updated__lt=now - timedelta(seconds=archive.deadline_seconds() + 60),
    )
    again = list(stuck.values_list("pk", flat=True)[:500])
    Release.objects.filter(pk__in=again, status=RS.IMPORTING).update(
        status=RS.RECEIVED, attempts=F("attempts") + 1, updated=now
    )
    due = Release.objects.filter(
        Q(status=RS.RECEIVED, updated__lt=now - SWEEP_RECEIVED_AFTER)
        | Q(status=RS.WAITING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        | Q(status__in=FOLLOWED, finished_at__isnull=True)
    )
    ids = again + list(due.exclude(pk__in=again).values_list("pk", flat=True)[:500])
    for pk in ids:
        jobs.enqueue_import(pk)
    return len(ids)
