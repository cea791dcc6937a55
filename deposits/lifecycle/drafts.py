"""What people do to a deposit's targets: validate, add and remove, ask for actions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from deposits.models import (
    Action,
    Deposit,
    DepositFile,
    FileStatus,
    LinkedAccount,
    RemoteFile,
    State,
    Target,
)
from deposits.repositories import registry
from deposits.repositories.base import (
    ActionSpec,
    FileJob,
    FileState,
    Problem,
    RemotePhase,
    RemoteRecord,
)

from .lookups import schema_for
from .policy import REVIEWED_ACTIONS, needs_review
from .states import NotAllowed, User, enqueue, record_event, transition


def file_jobs(deposit: Deposit) -> list[FileJob]:
    """The deposit's files as connectors see them for validation (no remote state)."""
    return [
        FileJob(name=f.name, size=f.size, md5=f.md5, sha256=f.sha256, open=f.blob.open)
        for f in deposit.files.all()
        if f.status == FileStatus.READY
    ]


def local_problems(target: Target, files: list[FileJob] | None = None) -> list[Problem]:
    """The repository's rules, checked here. A file still arriving is not a problem of
    the description: readiness would flip with every upload (``request`` waits for it)."""
    connector = registry.get(target.account.kind)
    deposit = target.deposit
    return connector.validate(
        deposit.metadata,
        target.options,
        file_jobs(deposit) if files is None else files,
        schema_for(target),
    )


def revalidate(deposit: Deposit) -> None:
    """Re-check every target against its repository's rules; move draft <-> ready."""
    files = file_jobs(deposit)
    for target in deposit.targets.select_related("account", "deposit"):
        problems = local_problems(target, files)
        # The repository's own complaints stay visible until the next attempt replaces them.
        remote = [p for p in target.problems if p.get("source") != "portal"]
        target.problems = [p.as_dict() for p in problems] + remote
        Target.objects.filter(pk=target.pk).update(problems=target.problems)
        if target.state == State.DRAFT and not problems:
            transition(target, State.READY, actor_label="validation", message="Ready to publish")
        elif target.state == State.READY and problems:
            transition(
                target,
                State.DRAFT,
                actor_label="validation",
                message=f"{len(problems)} problem(s) to fix before publishing",
            )


def edit_locked_reason(targets: Iterable[Target], what: str, *, reviewer: bool = False) -> str:
    """Why the deposit's ``what`` ("files", "metadata", "samples") cannot change now, or "".

    A worker sending the deposit, or a curator reviewing it, must see what they were given.
    A ``reviewer`` (who may review the deposit's team) may still change it under review.
    """
    targets = list(targets)
    for target in targets:
        if target.in_flight:
            return (
                f"{target.account.label} is working on this deposit: its {what} can change "
                "again once it has finished."
            )
    for target in targets:
        if not reviewer and target.state in (State.AWAITING_REVIEW, State.APPROVED):
            return (
                f"A curator is reviewing this deposit for {target.account.label}: its {what} "
                "can change again once they approve it or return it to you."
            )
    return ""


def problems_by_field(deposit: Deposit) -> dict[str, list[Problem]]:
    merged: dict[str, list[Problem]] = defaultdict(list)
    for target in deposit.targets.all():
        for data in target.problems:
            problem = Problem.from_dict(data)
            if problem not in merged[problem.field]:
                merged[problem.field].append(problem)
    return dict(merged)


def add_target(deposit: Deposit, account: LinkedAccount, *, user: User) -> Target:
    if account.team_id != deposit.team_id:
        raise NotAllowed("That linked account belongs to another team.")
    target, created = Target.objects.get_or_create(deposit=deposit, account=account)
    if created:
        record_event(target, "target_added", user=user, message=f"Will be sent to {account}")
        revalidate(deposit)
        target.refresh_from_db()
    return target


def remove_target(target: Target, *, user: User) -> None:
    if target.remote_id or target.state not in (State.DRAFT, State.READY, State.FAILED):
        raise NotAllowed(
            f"{target.account} already holds a record of this deposit: delete the remote "
            "draft first (unpublished), or keep the target (published records stay)."
        )
    record_event(
        target.deposit, "target_removed", user=user, message=f"No longer sent to {target.account}"
    )
    target.delete()


# Which actions the lifecycle allows in which local state; the connector says which of
# them its repository has in the target's remote phase (``Connector.offered``).
LOCAL_STATES: dict[Action, set[str]] = {
    Action.PUBLISH: {State.READY},
    Action.NEW_VERSION: {State.PUBLISHED},
    Action.PUBLISH_VERSION: {State.READY},
    Action.DISCARD_VERSION: {State.DRAFT, State.READY, State.FAILED},
    Action.EDIT: {State.PUBLISHED},
    Action.DISCARD: {State.PUBLISHED, State.FAILED},
    Action.DELETE: {State.READY, State.DRAFT, State.FAILED},
    Action.REQUEST_PUBLICATION: {State.PUBLISHED},
}


def remote_phase(target: Target) -> RemotePhase:
    return registry.get(target.account.kind).phase(
        RemoteRecord(
            remote_id=target.remote_id,
            remote_state=target.remote_state,
            published=target.published_at is not None,
            remote_data=target.remote_data or {},
        )
    )


def offered_actions(target: Target) -> list[ActionSpec]:
    """What a person may ask of the target now, as its repository declares it."""
    if target.in_flight:
        return []
    connector = registry.get(target.account.kind)
    reviewed = needs_review(target)
    return [
        spec
        for spec in connector.offered(remote_phase(target))
        if target.state in LOCAL_STATES[Action(spec.action)]
        and not (reviewed and Action(spec.action) in REVIEWED_ACTIONS)
    ]


def allowed_actions(target: Target) -> list[Action]:
    return [Action(spec.action) for spec in offered_actions(target)]


def request(target: Target, action: str, *, user: User) -> Target:
    """Queue ``action`` for a worker, after checking it can happen now."""
    action = Action(action)
    if action in REVIEWED_ACTIONS and needs_review(target):
        raise NotAllowed(
            f"Publishing to {target.account.label} needs a curator's approval first (the "
            "team's review policy): submit the deposit for review."
        )
    if action not in allowed_actions(target):
        raise NotAllowed(_why_not(target, action))
    spec = registry.get(target.account.kind).action_spec(action)
    if spec is not None and spec.sends_deposit:
        if target.deposit.files.filter(status=FileStatus.RECEIVING).exists():
            raise NotAllowed(
                "A file is still uploading: wait for it to finish (or delete it), then "
                f"{spec.label.lower()}."
            )
        problems = local_problems(target)
        if problems:
            raise NotAllowed(
                f"{target.account.get_kind_display()} needs {len(problems)} fix(es) first: "
                + "; ".join(p.message for p in problems[:3])
            )
    if target.account.needs_relink:
        raise NotAllowed(
            f"The linked account {target.account} needs relinking: its token failed or "
            "expired. Update the token on the Linked accounts page, then try again."
        )
    queue_action(target, action, user=user, message=f"{action.label} requested")
    return target


def queue_action(target: Target, action: Action, *, user: User, message: str) -> None:
    """Queue ``action`` for a worker (its checks done: ``request``, or a curator's approval)."""
    with transaction.atomic():
        transition(
            target,
            State.QUEUED,
            user=user,
            message=message,
            action=action,
            steps=[],
            step_index=0,
            step_started=None,
            attempts=0,
            last_error="",
            retryable=False,
            progress={},
            next_attempt_at=None,
        )
        enqueue(target.pk)


def retry(target: Target, *, user: User) -> Target:
    if target.state != State.FAILED:
        raise NotAllowed("Only a failed target can be retried.")
    if target.account.needs_relink:
        raise NotAllowed(f"Relink {target.account} first: its token failed or expired.")
    with transaction.atomic():
        # Run the action's steps again from the first: each is idempotent (an existing
        # draft is reused, files already there are skipped), and metadata fixed since the
        # failure is sent again instead of publishing what the repository rejected.
        transition(
            target,
            State.QUEUED,
            user=user,
            message="Retry requested",
            steps=[],
            step_index=0,
            step_started=None,
            attempts=0,
            last_error="",
            retryable=False,
            next_attempt_at=None,
        )
        enqueue(target.pk)
    return target


# Why an action is refused when nothing more specific applies, by action.
NOT_NOW = {
    Action.NEW_VERSION: "Only a published record can get a new version.",
    Action.EDIT: "Only a published record can be edited.",
    Action.PUBLISH_VERSION: "There is no open draft of a new version.",
    Action.DISCARD_VERSION: "There is no open draft of a new version.",
    Action.DISCARD: "There is no open edit to discard.",
    Action.DELETE: "Only an unpublished draft on the repository can be deleted.",
    Action.REQUEST_PUBLICATION: "Publication can be requested once the files are stored.",
}


def _why_not(target: Target, action: Action) -> str:
    if target.in_flight:
        return "A worker is already on this target; wait for it to finish."
    connector = registry.get(target.account.kind)
    if connector.action_spec(action) is None:
        return f"{connector.label} has no '{action.label}': it is never offered there."
    if action in (Action.PUBLISH, Action.PUBLISH_VERSION) and target.state == State.DRAFT:
        return "Fix the problems listed for this repository first."
    if action == Action.PUBLISH and target.state == State.PUBLISHED:
        return "Already published: start a new version or edit the published record."
    return NOT_NOW.get(
        action,
        f"{action.label} is not possible while the target is {target.get_state_display()}.",
    )


def step_label(target: Target) -> str:
    """What the target is doing, in its repository's words ("Uploading file 2 of 5")."""
    if target.state == State.QUEUED:
        return "Waiting for a worker"
    name = target.current_step
    if not name:
        return target.get_state_display()
    step = registry.get(target.account.kind).step(name)
    progress = target.progress or {}
    return step.label_for(
        int(progress.get("files_done") or 0), int(progress.get("files_total") or 0)
    )


def set_target_options(
    target: Target,
    changes: dict[str, Any],
    *,
    user: User,
    message: str,
    what: str = "repository options",
) -> Target:
    """The one place a target's repository-specific options change, whichever repository.

    Only keys the connector declares (``option_keys``) may change; a value of None
    removes the key. Not while a worker or a curator has the target; under a row lock,
    written to the audit trail, then the deposit is validated again.
    """
    connector = registry.get(target.account.kind)
    unknown = sorted(set(changes) - set(connector.option_keys))
    if unknown:
        raise NotAllowed(f"{connector.label} has no target option {', '.join(unknown)}.")
    reason = edit_locked_reason([target], what)
    if reason:
        raise NotAllowed(reason)
    with transaction.atomic():
        locked = Target.objects.select_for_update().select_related("account").get(pk=target.pk)
        if locked.in_flight:
            raise NotAllowed("A worker just started on this target: try again when it is done.")
        options = {k: v for k, v in locked.options.items() if k not in changes}
        options.update({k: v for k, v in changes.items() if v not in (None, [], "", {})})
        if options == locked.options:
            return locked
        before = locked.options
        locked.options = options
        locked.save(update_fields=["options", "updated"])
        changed = sorted(k for k in set(before) | set(options) if before.get(k) != options.get(k))
        record_event(locked, "options", user=user, message=message, data={"changed": changed})
    revalidate(locked.deposit)
    locked.refresh_from_db()
    return locked


def sync_remote_files(target: Target) -> list[RemoteFile]:
    """One RemoteFile row per ready deposit file; rows for removed files are marked."""
    files: dict[str, DepositFile] = {
        f.name: f for f in target.deposit.files.filter(status=FileStatus.READY)
    }
    existing = {rf.name: rf for rf in target.remote_files.all()}
    for name, dfile in files.items():
        row = existing.get(name)
        if row is None:
            existing[name] = RemoteFile.objects.create(target=target, file=dfile, name=name)
        elif row.file_id != dfile.pk:  # replaced locally since it was sent: send again
            row.file = dfile
            row.status = FileState.PENDING
            row.bytes_sent = 0
            row.save(update_fields=["file", "status", "bytes_sent"])
    for name, row in existing.items():
        if name not in files and row.status != FileState.DELETE:
            row.status = FileState.DELETE
            row.save(update_fields=["status"])
    return list(existing.values())
