"""Holding a token after an authentication failure: the gate every request passes.

Some repositories disable a user after a few failed logins (DataMeta: five within an
hour, expired keys included). So after one refusal the account is *held*: before every
request, ``GatedLimiter`` asks whether the token may still go out, and workers park the
targets that need it with the reason they wait. Only a person lifts the hold (a relink,
or Check now: see ``accounts.check_account``); then the parked targets are queued again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from deposits.models import AccountStatus, LinkedAccount, State, Target
from deposits.models.accounts import CheckState
from deposits.repositories import registry
from deposits.repositories.base import AuthError, StepKind
from deposits.repositories.limiter import Limiter, Priority, RateWindow

from .leases import nothing_sent, release
from .states import enqueue, record_event

# A parked target looks at its account again this often by itself (the reconciler); a
# check that passes queues it at once.
HELD_RECHECK = timedelta(hours=1)


class CredentialHeld(AuthError):
    """Refused here, before anything left: this token failed to authenticate earlier."""


def waiting_message(kind: str) -> str:
    label = registry.get(kind).label
    return (
        f"Waiting: the {label} account needs relinking — an admin relinks it or presses "
        f"Check now. Nothing is sent to {label} until then; this continues by itself once "
        "the account works again."
    )


def held_message(kind: str) -> str:
    label = registry.get(kind).label
    return (
        f"{label} refused this token. Nothing more is sent with it (no checks, no rule "
        "updates, no deposits) until an admin relinks the account with a new token or "
        "someone presses Check now, which tries it once."
    )


def may_send(account_id: int, *, checking: bool = False) -> bool:
    """Whether a request may go out with the account's token now.

    Not while it is held, except for the one check a person asked for while it runs.
    """
    row = (
        LinkedAccount.objects.filter(pk=account_id).values_list("held_since", "check_state").first()
    )
    if row is None:
        return False
    held_since, check_state = row
    return held_since is None or (checking and check_state == CheckState.RUNNING)


def hold(account_id: int, kind: str) -> None:
    """The repository refused the token: hold it (the first refusal's time is kept)."""
    LinkedAccount.objects.filter(pk=account_id, held_since__isnull=True).update(
        held_since=timezone.now()
    )
    LinkedAccount.objects.filter(pk=account_id).exclude(status=AccountStatus.FAILING).update(
        status=AccountStatus.FAILING, last_error=held_message(kind)
    )


class GatedLimiter(Limiter):
    """The account's limiter, asking first whether the token may still be used.

    The HTTP layer asks the limiter before every request (and every redirect hop), so a
    refusal anywhere (another worker's) stops this client's next request too; nothing
    is spent or sent for a held token.
    """

    def __init__(self, inner: Limiter, account_id: int, *, kind: str, checking: bool) -> None:
        super().__init__(inner.redis)
        self.account_id = account_id
        self.kind = kind
        self.checking = checking

    def acquire(
        self, key: str, windows: Iterable[RateWindow], *, priority: Priority = Priority.INTERACTIVE
    ) -> float:
        if not may_send(self.account_id, checking=self.checking):
            raise CredentialHeld(held_message(self.kind))
        return super().acquire(key, windows, priority=priority)


def park_if_held(target_id: int, token: str) -> bool:
    """Worker gate: a target whose account is held waits, sending nothing; True if so."""
    row = (
        Target.objects.filter(pk=target_id)
        .values_list("account__held_since", "account__kind")
        .first()
    )
    if row is None or row[0] is None:
        return False
    park(target_id, token, row[1])
    return True


def wait_for_relink(
    target: Target,
    token: str,
    error: AuthError,
    *,
    kind: StepKind = StepKind.OTHER,
    marked: str = "",
    writes_sent: int = 0,
) -> None:
    """A step was refused for the token: hold the account (once) and let the target wait.

    Refused before any write left, the step changed nothing on the repository: its next
    attempt is a first one, not a resumed one (as after a refusal for the rate budget).
    """
    if not isinstance(error, CredentialHeld):
        hold(target.account_id, target.account.kind)
        record_event(target, "account-held", actor_label="worker", message=error.message)
    undo = nothing_sent(target, kind=kind, marked=marked) if writes_sent == 0 else {}
    park(target.pk, token, target.account.kind, **undo)


def park(target_id: int, token: str, kind: str, **fields: Any) -> None:
    """Release the target with the reason it waits; ``resume_waiting`` queues it again."""
    message = waiting_message(kind)
    release(
        target_id,
        token,
        last_error=message,
        progress={"waiting": message, "account_held": True},
        next_attempt_at=timezone.now() + HELD_RECHECK,
        **fields,
    )


def resume_waiting(account: LinkedAccount) -> int:
    """The token works again: queue every target that waited for it, oldest first."""
    waiting = Target.objects.filter(
        account=account, state__in=[State.QUEUED, State.WORKING], progress__account_held=True
    ).order_by("updated", "pk")
    ids = list(waiting.values_list("pk", flat=True))
    with transaction.atomic():
        Target.objects.filter(pk__in=ids, progress__account_held=True).update(
            next_attempt_at=None, last_error="", progress={}
        )
        for pk in ids:
            enqueue(pk)
    return len(ids)
