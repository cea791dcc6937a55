"""The states of a target and the one place transitions happen.

Every transition is checked against ``TRANSITIONS``, applied with a compare-and-set
update (so two workers cannot both move the same target) and written to the audit trail.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone

from deposits.models import Deposit, Event, State, Target
from deposits.repositories.limiter import Priority


class NotAllowed(Exception):
    """An action a person asked for cannot happen now; the message says why and what to do."""


class Conflict(Exception):
    """The target changed under us (another worker or person moved it first)."""


S = State
TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.READY, S.DRAFT, S.QUEUED},  # queued: discarding a remote draft
    S.READY: {S.DRAFT, S.AWAITING_REVIEW, S.QUEUED},
    S.AWAITING_REVIEW: {S.APPROVED, S.DRAFT},
    S.APPROVED: {S.QUEUED, S.DRAFT},
    S.QUEUED: {S.WORKING, S.FAILED},
    S.WORKING: {S.PUBLISHED, S.FAILED, S.DRAFT, S.READY},
    S.PUBLISHED: {S.QUEUED},
    S.FAILED: {S.QUEUED, S.DRAFT, S.READY, S.PUBLISHED},
}

User = AbstractBaseUser | AnonymousUser | None


def record_event(
    subject: Target | Deposit,
    kind: str,
    *,
    user: User = None,
    actor_label: str = "",
    message: str = "",
    data: dict[str, Any] | None = None,
    from_state: str = "",
    to_state: str = "",
) -> Event:
    """Write one line of the audit trail for a target or a whole deposit."""
    target = subject if isinstance(subject, Target) else None
    deposit = subject.deposit if isinstance(subject, Target) else subject
    actor = user if user is not None and getattr(user, "is_authenticated", False) else None
    return Event.objects.create(
        team_id=deposit.team_id,
        deposit=deposit,
        target=target,
        actor=actor,  # type: ignore[misc]
        actor_label=actor_label or ("" if actor else "worker"),
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        message=message,
        data=data or {},
    )


def transition(
    target: Target,
    to: str,
    *,
    user: User = None,
    actor_label: str = "",
    message: str = "",
    data: dict[str, Any] | None = None,
    **fields: Any,
) -> None:
    """Move ``target`` to state ``to`` (plus any ``fields``), or raise Conflict/NotAllowed."""
    current = target.state
    if to not in TRANSITIONS[current]:
        raise NotAllowed(
            f"A target that is {target.get_state_display().lower()} cannot become "
            f"{State(to).label.lower()}."
        )
    with transaction.atomic():
        changed = Target.objects.filter(pk=target.pk, state=current).update(
            state=to, updated=timezone.now(), **fields
        )
        if changed != 1:
            raise Conflict(f"target {target.pk} is no longer {current}")
        target.state = to
        for name, value in fields.items():
            setattr(target, name, value)
        if current != to:
            record_event(
                target,
                "state",
                user=user,
                actor_label=actor_label,
                message=message,
                data=data,
                from_state=current,
                to_state=to,
            )


def enqueue(
    target_id: int, *, countdown: float = 0, priority: Priority = Priority.INTERACTIVE
) -> None:
    """Ask a worker to advance the target once the current transaction commits.

    Sent by task name: the lifecycle never imports the tasks module (tasks -> lifecycle).
    """

    def send() -> None:
        current_app.send_task(
            "deposits.tasks.advance",
            args=[target_id],
            kwargs={"priority": priority.value},
            countdown=max(0.0, countdown),
            queue=priority.queue,
        )

    transaction.on_commit(send)


def enqueue_verify(account_id: int, *, priority: Priority = Priority.INTERACTIVE) -> None:
    """Check the token, then fetch the rules the repository publishes (if it does)."""

    def send() -> None:
        for task in ("deposits.tasks.verify_account", "deposits.tasks.refresh_schema"):
            current_app.send_task(task, args=[account_id], queue=priority.queue)

    transaction.on_commit(send)
