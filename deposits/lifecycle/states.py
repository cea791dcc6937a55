"""The states of a target and the one place transitions happen.

Every transition is checked against ``TRANSITIONS``, applied with a compare-and-set
update (so two workers cannot both move the same target) and written to the audit trail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis.exceptions
from celery import current_app
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from deposits.models import Deposit, Event, State, Target
from deposits.repositories.limiter import Priority


class NotAllowed(Exception):
    """An action a person asked for cannot happen now; the message says why and what to do."""


class Conflict(Exception):
    """The target changed under us (another worker or person moved it first)."""


class QueueUnreachable(Exception):
    """The task could not be sent: the broker (Redis) is down. What was committed stays
    (a queued target waits for the reconciler to send it); the message says so."""


# What sending a task raises when the broker cannot be reached (kombu wraps redis-py's).
_BROKER_DOWN = (OperationalError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

log = logging.getLogger(__name__)


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
    With the broker down, ``QueueUnreachable`` is raised after the commit: the target is
    queued with no task, which is what the reconciler looks for, so it starts once the
    broker is back (beat runs the reconciler every RECONCILE_EVERY_SECONDS).
    """
    send_after_commit(
        "deposits.tasks.advance",
        args=[target_id],
        kwargs={"priority": priority.value},
        countdown=countdown,
        queue=priority.queue,
        unreachable="The task queue cannot be reached; the target stays queued and starts "
        "when the workers can be reached again.",
    )


def send_after_commit(
    task: str,
    *,
    args: list[Any],
    kwargs: dict[str, Any],
    queue: str,
    unreachable: str,
    countdown: float = 0,
    undo: Callable[[], None] | None = None,
) -> None:
    """Send ``task`` once the current transaction commits. With the broker down, ``undo``
    runs (what was committed in the task's expectation, if it must not stay) and
    ``QueueUnreachable(unreachable)`` is raised for the page to show."""

    def send() -> None:
        try:
            current_app.send_task(
                task, args=args, kwargs=kwargs, countdown=max(0.0, countdown), queue=queue
            )
        except _BROKER_DOWN as exc:
            log.warning("%s%s not sent: %s", task, args, exc)
            if undo is not None:
                undo()
            raise QueueUnreachable(unreachable) from exc

    transaction.on_commit(send)
