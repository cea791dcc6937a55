"""Worker side of a target's lifecycle: advance one idempotent step at a time.

``advance`` claims the target with a lease (compare-and-set), does ONE remote
operation through the connector, and records its result (remote ids first) before the
next step is queued. A worker killed at any instant leaves a lease that runs out; the
reconciler then queues the target again and the step re-runs idempotently.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from deposits import notifications
from deposits.models import (
    AccountStatus,
    Action,
    Identifier,
    LinkedAccount,
    Release,
    ReleaseStatus,
    RemoteFile,
    State,
    Target,
)
from deposits.releases import jobs as release_jobs
from deposits.repositories import registry
from deposits.repositories.base import (
    AuthError,
    Connector,
    FileState,
    Job,
    PermanentError,
    Problem,
    RateLimited,
    RepositoryError,
    Step,
    StepKind,
    StepResult,
    StillLanding,
    new_marker,
)
from deposits.repositories.http import HttpClient
from deposits.repositories.limiter import Priority

from .drafts import sync_remote_files
from .jobs import build_client, build_job
from .leases import Heartbeat, ProgressWriter, claim, next_queued, nothing_sent, release
from .states import Conflict, enqueue, record_event, transition

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What the task should do next: run again now, later, or stop."""

    again: bool = False
    countdown: float = 0.0
    priority: Priority = Priority.INTERACTIVE


def advance(target_id: int, *, priority: Priority = Priority.INTERACTIVE) -> Outcome:
    token = claim(target_id)
    if token is None:
        return Outcome()
    try:
        outcome = _advance(target_id, token, priority)
    except Conflict:
        release(target_id, token)
        return Outcome()
    except Exception:
        _fail_unexpectedly(target_id, token)
        outcome = Outcome()
    if not outcome.again:
        # This target stopped working (finished, failed or waiting): the account has room.
        _start_next_queued(target_id)
    return outcome


def _start_next_queued(target_id: int) -> None:
    account_id = Target.objects.filter(pk=target_id).values_list("account_id", flat=True).first()
    if account_id is not None:
        for pk in next_queued(account_id):
            enqueue(pk)


def _fail_unexpectedly(target_id: int, token: str) -> None:
    """A bug or an unexpected reply: fail visibly with a reference, never loop silently."""
    reference = uuid.uuid4().hex[:8]
    log.exception("unexpected error advancing target %s (ref %s)", target_id, reference)
    target = Target.objects.select_related("deposit", "account").get(pk=target_id)
    _fail(
        target,
        token,
        f"Unexpected error (reference {reference}). Nothing was lost: what is done is "
        "recorded. Retry, and report the reference if it happens again.",
        retryable=True,
    )


def _advance(target_id: int, token: str, priority: Priority) -> Outcome:
    from .holds import park_if_held

    if park_if_held(target_id, token):  # its account's token is held: wait, send nothing
        return Outcome()
    target = Target.objects.select_related("deposit", "account").get(pk=target_id)
    connector = registry.get(target.account.kind)
    remote_files = sync_remote_files(target)
    job = build_job(target, remote_files)

    if target.state == State.QUEUED and not _start_working(target, token, connector):
        return Outcome()
    if target.step_index >= len(target.steps):
        return _finish(target, token)
    step = connector.step(target.steps[target.step_index])

    look_only = False
    if step.kind == StepKind.CREATES_RECORD and not target.remote_id:
        look_only = _may_still_land(target, connector)  # an earlier create got no answer
        wait = _mark_create(target, job, look_only=look_only)
        if wait is not None:  # an earlier attempt may have made a record: let the list catch up
            release(target.pk, token)
            return Outcome(again=True, countdown=wait, priority=priority)
    return _run_step(
        target,
        token,
        connector=connector,
        step=step,
        job=job,
        priority=priority,
        look_only=look_only,
    )


def _start_working(target: Target, token: str, connector: Connector) -> bool:
    """A queued target takes the steps of its action; False if the action cannot run."""
    try:
        steps = connector.steps(target.action)
    except PermanentError as exc:
        _fail(target, token, exc.message, retryable=False)
        return False
    transition(
        target,
        State.WORKING,
        actor_label="worker",
        message="A worker started",
        steps=steps,
        step_index=0,
    )
    return True


def _run_step(
    target: Target,
    token: str,
    *,
    connector: Connector,
    step: Step,
    job: Job,
    priority: Priority,
    look_only: bool = False,
) -> Outcome:
    """Do the step's one remote operation; its error decides wait, retry or fail."""
    # Write-ahead, before the remote operation: a re-run knows it may have happened.
    job.resumed = target.step_started == target.step_index
    Target.objects.filter(pk=target.pk).update(step_started=target.step_index)
    target.step_started = target.step_index
    left_out = connector.leaves_out(job) if step.kind == StepKind.SENDS_FILES else set()
    marked = _mark_next_file(target, job, left_out) if step.kind == StepKind.SENDS_FILES else ""

    progress_state = ProgressWriter(target, token, job, left_out)
    client = build_client(target.account, target, priority=priority)
    try:
        with Heartbeat(target.pk, token):
            result = _perform(
                target,
                step,
                connector=connector,
                client=client,
                job=job,
                progress=progress_state,
                look_only=look_only,
            )
    except RateLimited as exc:
        return _wait_for_budget(
            target,
            token,
            exc,
            kind=step.kind,
            marked=marked,
            writes_sent=client.writes_sent,
            priority=priority,
        )
    except AuthError as exc:
        # One refusal holds the token: nothing more goes out with it, and the target
        # waits (it does not fail) until a person relinks the account or presses Check now.
        from .holds import CredentialHeld, wait_for_relink

        if not isinstance(exc, CredentialHeld):
            LinkedAccount.objects.filter(pk=target.account_id).update(
                status=AccountStatus.FAILING, last_error=exc.message
            )
        wait_for_relink(
            target, token, exc, kind=step.kind, marked=marked, writes_sent=client.writes_sent
        )
        return Outcome()
    except RepositoryError as exc:
        if step.kind == StepKind.SENDS_FILES:
            _record_file_failure(target, job, exc)
        if exc.permanent:
            _fail(target, token, exc.message, retryable=False, problems=exc.problems)
            return Outcome()
        return _retry_later(target, token, exc, priority)
    return _after_step(target, token, step.name, result, priority)


def _perform(
    target: Target,
    step: Step,
    *,
    connector: Connector,
    client: HttpClient,
    job: Job,
    progress: ProgressWriter,
    look_only: bool,
) -> StepResult:
    """The step's remote operation. A create whose earlier attempt may still land only
    looks for the record that attempt made (by its marker), and adopts it when it shows."""
    try:
        if not look_only:
            return connector.run_step(step.name, client, job, progress)
        found = connector.find_created(client, job)
        if found is None:
            raise _still_landing(target, connector)
        return found
    finally:
        # Every write was answered: nothing of it lands later (but for the index lag).
        # One that was not keeps the time it could land by, from the write-ahead.
        answered = client.writes_sent and not client.unanswered_writes
        if step.kind == StepKind.CREATES_RECORD and answered:
            Target.objects.filter(pk=target.pk).update(create_lands_by=None)


def _still_landing(target: Target, connector: Connector) -> StillLanding:
    lands_by = target.create_lands_by or timezone.now()
    left = (lands_by - timezone.now()).total_seconds()
    shown = timezone.localtime(lands_by).strftime("%H:%M:%S %Z")
    return StillLanding(
        f"An earlier attempt to create the {connector.label} draft got no answer, so it may "
        f"still land there until {shown}. The portal looks for it (by its marker) until "
        "then instead of making another, so the deposit never gets a second draft.",
        retry_after=max(1.0, min(settings.CREATE_LOOK_EVERY_SECONDS, left)),
    )


def _may_still_land(target: Target, connector: Connector) -> bool:
    """True while an interrupted create of this target could still land (and the
    repository's records carry our marker, so it can be found)."""
    lands_by = target.create_lands_by
    return bool(
        connector.marks_creates
        and target.create_marker
        and lands_by is not None
        and timezone.now() < lands_by
    )


def _after_step(
    target: Target, token: str, step: str, result: StepResult, priority: Priority
) -> Outcome:
    """A step ran: record it, then finish or queue the next step."""
    record_result(target, step, result)
    if result.done:
        Target.objects.filter(pk=target.pk).update(step_index=F("step_index") + 1, attempts=0)
        target.step_index += 1
    if target.step_index >= len(target.steps):
        return _finish(target, token)
    release(target.pk, token, next_attempt_at=None)
    # The confirmation belongs to the action a person asked for and keeps its priority:
    # at background priority (80 % of a window) a backlog's confirms would wait for the
    # window to drain while holding their places among the account's active targets.
    return Outcome(again=True, priority=priority)


def _mark_create(target: Target, job: Job, *, look_only: bool) -> float | None:
    """Before a step that creates the remote record: write the marker it carries.

    A re-run after an interrupted create waits until a record the interrupted call may
    have made shows in the repository's (index-backed) list; returns that wait, or None.
    """
    now = timezone.now()
    if target.create_marker and target.create_started_at:
        due = target.create_started_at + timedelta(seconds=settings.CREATE_RETRY_GRACE_SECONDS)
        if now < due:
            return (due - now).total_seconds()
        if look_only:
            return None  # only looking: the attempt that may land keeps its times
    # Written before the side effect, so a crash after the remote create is findable, and
    # a re-run knows how long the request could still land if no answer comes.
    marker = target.create_marker or new_marker()
    lands_by = now + timedelta(
        seconds=settings.HTTP_CONNECT_TIMEOUT
        + settings.HTTP_READ_TIMEOUT
        + settings.CREATE_LAND_MARGIN_SECONDS
    )
    Target.objects.filter(pk=target.pk).update(
        create_marker=marker, create_started_at=now, create_lands_by=lands_by
    )
    target.create_marker = job.create_marker = marker
    target.create_started_at, target.create_lands_by = now, lands_by
    return None


def _mark_next_file(target: Target, job: Job, left_out: set[str]) -> str:
    """The file about to be sent is marked before its bytes move; returns its name."""
    upcoming = next((f for f in job.pending_files() if f.name not in left_out), None)
    if upcoming is None or upcoming.status != FileState.PENDING:
        return ""
    RemoteFile.objects.filter(target=target, name=upcoming.name).update(status=FileState.UPLOADING)
    return upcoming.name


def _wait_for_budget(
    target: Target,
    token: str,
    exc: RateLimited,
    *,
    kind: StepKind,
    marked: str,
    writes_sent: int,
    priority: Priority,
) -> Outcome:
    wait = max(exc.retry_after or 1.0, 0.5)
    # Only looking for a slow create's record (StillLanding) is not a first attempt again.
    undo: dict[str, Any] = {}
    if writes_sent == 0 and not isinstance(exc, StillLanding):
        undo = nothing_sent(target, kind=kind, marked=marked)
    release(target.pk, token, next_attempt_at=timezone.now() + timedelta(seconds=wait), **undo)
    # the card says why nothing moves, and (from next_attempt_at) when it moves again
    Target.objects.filter(pk=target.pk).update(progress={**target.progress, "waiting": exc.message})
    return Outcome(again=True, countdown=wait, priority=priority)


def record_result(target: Target, step: str, result: StepResult) -> None:
    """Store what the step did: remote ids first, then files and identifiers."""
    with transaction.atomic():
        fields: dict[str, object] = {"last_error": ""}
        if result.remote_id is not None:
            fields["remote_id"] = result.remote_id
        if result.remote_state is not None:
            fields["remote_state"] = result.remote_state
        if result.remote_links is not None:
            fields["remote_links"] = result.remote_links
        if result.remote_data is not None:
            fields["remote_data"] = result.remote_data
        Target.objects.filter(pk=target.pk).update(**fields)
        for name, value in fields.items():
            setattr(target, name, value)
        for name, update in result.file_updates.items():
            RemoteFile.objects.filter(target=target, name=name).update(**update.changes())
        if result.files_removed:
            RemoteFile.objects.filter(
                target=target, name__in=result.files_removed, status=FileState.DELETE
            ).delete()
        for ident in result.identifiers:
            Identifier.objects.update_or_create(
                target=target,
                scheme=ident.scheme,
                value=ident.value,
                defaults={"url": ident.url, "scope": ident.scope},
            )
        if result.message:
            record_event(target, f"step:{step}", message=result.message)


def _record_file_failure(target: Target, job: Job, exc: RepositoryError) -> None:
    current = next(job.pending_files(), None)
    if current is not None:
        RemoteFile.objects.filter(target=target, name=current.name).update(
            status=FileState.FAILED,
            last_error=exc.message[:2000],
            attempts=F("attempts") + 1,
            bytes_sent=0,
        )


def _retry_later(target: Target, token: str, exc: RepositoryError, priority: Priority) -> Outcome:
    attempts = target.attempts + 1
    if attempts > settings.MAX_TRANSIENT_RETRIES:
        _fail(
            target,
            token,
            f"{exc.message} Gave up after {attempts - 1} retries; press Retry when the "
            "repository is back (what is done so far is kept).",
            retryable=True,
        )
        return Outcome()
    # Exponential backoff with full jitter, bounded.
    ceiling = min(settings.RETRY_BACKOFF_MAX, settings.RETRY_BACKOFF_BASE * 2 ** (attempts - 1))
    delay = max(exc.retry_after or 0.0, random.uniform(ceiling / 2, ceiling))
    release(
        target.pk,
        token,
        attempts=attempts,
        last_error=f"{exc.message} (retry {attempts} in {delay:.0f}s)",
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    record_event(target, "retry", message=f"{exc.message} Retrying in {delay:.0f}s.")
    return Outcome(again=True, countdown=delay, priority=priority)


def _fail(
    target: Target,
    token: str,
    message: str,
    *,
    retryable: bool,
    problems: list[Problem] | None = None,
) -> None:
    target.refresh_from_db()
    remote = [p.as_dict() for p in (problems or [])]
    with transaction.atomic():
        transition(
            target,
            State.FAILED,
            actor_label="worker",
            message=message,
            last_error=message,
            retryable=retryable,
            problems=_portal_problems(target) + remote,
            lease_token="",
            lease_until=None,
            next_attempt_at=None,
        )
        notifications.target_finished(target)  # the author and followers are told
    _releases_follow(target)


def _finish(target: Target, token: str) -> Outcome:
    """All steps done: record the state the action leads to."""
    action = target.action
    spec = registry.get(target.account.kind).action_spec(action)
    if action == Action.DELETE:
        _remote_draft_gone(target)
    elif action == Action.DISCARD_VERSION:
        _back_to_published(target)
    elif action == Action.NEW_VERSION and spec is not None and not spec.publishes:
        _version_draft_open(target)
    else:
        _published(target)
    return Outcome()


IDLE: dict[str, Any] = {
    "steps": [],
    "step_index": 0,
    "step_started": None,
    "lease_token": "",
    "lease_until": None,
    "progress": {},
}


def _portal_problems(target: Target) -> list[dict[str, Any]]:
    """The problems our own checks found: the repository's are gone with its draft."""
    return [p for p in target.problems if p.get("source") == "portal"]


def _remote_draft_gone(target: Target) -> None:
    from .drafts import revalidate

    with transaction.atomic():
        target.remote_files.all().delete()
        transition(
            target,
            State.DRAFT,
            actor_label="worker",
            message="The remote draft was deleted",
            remote_id="",
            remote_state="",
            remote_links={},
            remote_data={},
            create_marker="",
            create_started_at=None,
            create_lands_by=None,
            problems=_portal_problems(target),
            last_error="",
            **IDLE,
        )
    revalidate(target.deposit)


def _back_to_published(target: Target) -> None:
    """The new-version draft is gone: the target is its published version again."""
    from .versions import restore_remote_files, restored_fields

    with transaction.atomic():
        restore_remote_files(target)
        transition(
            target,
            State.PUBLISHED,
            actor_label="worker",
            message="The draft of the new version was discarded; the published version "
            "is unchanged",
            problems=_portal_problems(target),
            last_error="",
            create_marker="",
            create_started_at=None,
            create_lands_by=None,
            **restored_fields(target),
            **IDLE,
        )


def _version_draft_open(target: Target) -> None:
    """A draft of the next version exists: the person edits, then publishes or discards."""
    from .drafts import local_problems

    problems = local_problems(target)
    transition(
        target,
        State.DRAFT if problems else State.READY,
        actor_label="worker",
        message="A draft of the new version is open: change the description and files "
        "here, compare, then publish it or discard it",
        problems=[p.as_dict() for p in problems],
        **IDLE,
    )
    _releases_follow(target)


def _published(target: Target) -> None:
    from .versions import published_snapshot

    action = target.action
    # the repository took it (or the refused edit is gone): its complaints are answered
    fields: dict[str, Any] = {**IDLE, "problems": _portal_problems(target), "last_error": ""}
    if action == Action.DISCARD:
        message = "The edit was discarded; the published record is unchanged"
    elif action == Action.REQUEST_PUBLICATION:
        # the record is as it was: the library was asked to publish it (Coscine)
        said = target.events.filter(kind__startswith="step:").order_by("-created", "-pk").first()
        message = said.message if said and said.message else "Publication requested"
    else:
        doi = Identifier.objects.filter(target=target, scope="version").order_by("-created")
        latest = doi.first()
        label = registry.get(target.account.kind).scheme(latest.scheme).label if latest else ""
        message = f"Published: {label} {latest.value}" if latest else "Published"
        fields["published_at"] = timezone.now()
        fields["published_version"] = published_snapshot(target)
    with transaction.atomic():
        transition(target, State.PUBLISHED, actor_label="worker", message=message, **fields)
        if action != Action.REQUEST_PUBLICATION:
            notifications.target_finished(target)  # the author and followers are told
    _releases_follow(target)


def _releases_follow(target: Target) -> None:
    """A release being imported into the deposit moves on with its targets: its import
    task runs again (``releases.importing.import_release`` -> ``after_target_finished``).
    Sent as a task, after the move is committed: the releases package imports the
    lifecycle, so the lifecycle does not import it back; and nothing here can undo the move."""
    try:
        moving = [ReleaseStatus.PUBLISHING, ReleaseStatus.PREPARED, ReleaseStatus.IN_REVIEW]
        releases = Release.objects.filter(
            source__deposit_id=target.deposit_id, status__in=[*moving, ReleaseStatus.WAITING]
        )
        for pk in releases.values_list("pk", flat=True):
            release_jobs.enqueue_import(pk)
    except Exception:
        log.exception("releases of target %s not told it finished", target.pk)
