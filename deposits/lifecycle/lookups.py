"""Lookups: what a repository serves that forms and validation need, cached per account.

Pages never call a repository: they read the cache (``cached``), and a missing or stale
entry asks a worker for it (one request in flight per key; the page polls until it is
there). The worker (``fetching.fetch_now``) goes through the account's client (its rate budget, its
API call log, the hold after an authentication failure). When a lookup that targets are
validated against changes (a Coscine application profile edited on the server), the
drafts of the deposits that use it are validated again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from deposits.models import LinkedAccount, Lookup
from deposits.repositories import registry
from deposits.repositories.limiter import Priority

from .holds import held_message, may_send
from .states import QueueUnreachable, send_after_commit

if TYPE_CHECKING:
    from deposits.models import Target

log = logging.getLogger(__name__)

# A request not answered in this long is sent again (its worker died, the broker lost it).
ASK_AGAIN_SECONDS = 120
USED_RESOLUTION = timedelta(hours=1)  # ``used_at`` is written at most this often


@dataclass(frozen=True)
class Cached:
    """One lookup as a page sees it."""

    key: str
    data: Any  # None until fetched
    fetched_at: datetime | None = None
    error: str = ""  # why the last fetch failed (the data, if any, is the older copy)
    pending: bool = False  # a worker has been asked for it

    @property
    def ready(self) -> bool:
        return self.data is not None


def cached(
    account: LinkedAccount,
    key: str,
    *,
    fetch: bool = True,
    priority: Priority = Priority.INTERACTIVE,
) -> Cached:
    """What the cache holds for ``key``. Missing or older than the connector's max age, a
    worker is asked for it (``fetch``); the old copy is answered meanwhile."""
    row = Lookup.objects.filter(account=account, key=key).first()
    now = timezone.now()
    if row is not None and (row.used_at is None or now - row.used_at > USED_RESOLUTION):
        Lookup.objects.filter(pk=row.pk).update(used_at=now)
    stale = row is None or row.fetched_at is None or _older_than_max_age(account, row, now)
    pending = row is not None and _asked_recently(row, now)
    if fetch and stale and not pending:
        pending = request(account, key, priority=priority)
        if not pending:  # it could not be asked: the reason was just stored
            row = Lookup.objects.filter(account=account, key=key).first()
    if row is None:
        return Cached(key, None, pending=pending)
    return Cached(key, row.data, row.fetched_at, row.error, pending)


def request(account: LinkedAccount, key: str, *, priority: Priority = Priority.INTERACTIVE) -> bool:
    """Ask a worker to fetch ``key`` now. False when it cannot be asked (the token is
    held, or the queue is unreachable: ``Cached.error`` then says so)."""
    if not may_send(account.pk):
        set_error(account, key, held_message(account.kind))
        return False
    row = row_for(account, key)
    Lookup.objects.filter(pk=row.pk).update(requested_at=timezone.now())

    def undo() -> None:
        Lookup.objects.filter(pk=row.pk).update(requested_at=None)

    try:
        send_after_commit(
            "deposits.tasks.fetch_lookup",
            args=[account.pk, key],
            kwargs={"priority": str(priority)},
            queue=priority.queue,
            unreachable="The portal's workers cannot be reached right now.",
            undo=undo,
        )
    except QueueUnreachable as exc:
        set_error(account, key, f"{exc} Try again in a minute.")
        return False
    return True


def refresh_stale() -> int:
    """Beat: fetch again the lookups still in use (read within their max age) once they
    are older than it. Returns how many were asked for."""
    now = timezone.now()
    asked = 0
    rows = Lookup.objects.select_related("account").filter(
        account__held_since__isnull=True, fetched_at__isnull=False
    )
    for row in rows.iterator():
        max_age = timedelta(seconds=_max_age(row.account, row.key))
        in_use = row.used_at is not None and now - row.used_at < max_age + USED_RESOLUTION
        if in_use and now - row.fetched_at > max_age and not _asked_recently(row, now):  # type: ignore[operator]
            asked += request(row.account, row.key, priority=Priority.BACKGROUND)
    return asked


def schema_for(target: Target) -> dict[str, Any]:
    """What ``validate`` and a job see as the repository's rules for ``target``: the
    account's published rules, and under ``"lookups"`` each lookup the connector names
    for the target's options that is cached (a missing one is asked for)."""
    account = target.account
    schema = dict(account.schema or {})
    keys = registry.get(account.kind).schema_keys(target.options or {})
    if keys:
        found = dict(
            Lookup.objects.filter(account=account, key__in=keys).values_list("key", "data")
        )
        for key in keys:
            if found.get(key) is None:
                cached(account, key, priority=Priority.BACKGROUND)
        schema["lookups"] = {k: v for k, v in found.items() if v is not None}
    return schema


# --------------------------------------------------------------------------- helpers


def row_for(account: LinkedAccount, key: str) -> Lookup:
    try:
        with transaction.atomic():
            row, _ = Lookup.objects.get_or_create(account=account, key=key)
    except IntegrityError:  # made meanwhile by another request
        row = Lookup.objects.get(account=account, key=key)
    return row


def set_error(account: LinkedAccount, key: str, message: str) -> None:
    row = row_for(account, key)
    Lookup.objects.filter(pk=row.pk).update(error=message[:2000], requested_at=None)


def _asked_recently(row: Lookup, now: datetime) -> bool:
    return row.requested_at is not None and now - row.requested_at < timedelta(
        seconds=ASK_AGAIN_SECONDS
    )


def _max_age(account: LinkedAccount, key: str) -> int:
    return registry.get(account.kind).lookup_max_age(key)


def _older_than_max_age(account: LinkedAccount, row: Lookup, now: datetime) -> bool:
    assert row.fetched_at is not None
    return now - row.fetched_at > timedelta(seconds=_max_age(account, row.key))
