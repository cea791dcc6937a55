"""Lookups, the worker side: fetch one through the account's client and store it; a
change re-validates the drafts of the deposits whose targets are validated against it
(``lookups`` is the page side)."""

from __future__ import annotations

import hashlib
import json
import logging

from django.utils import timezone

from deposits.models import Deposit, LinkedAccount, Lookup
from deposits.repositories import registry
from deposits.repositories.base import AuthError, RateLimited, RepositoryError
from deposits.repositories.limiter import Priority

from .drafts import revalidate
from .holds import held_message, may_send
from .jobs import build_client
from .lookups import row_for, set_error

log = logging.getLogger(__name__)

RETRY_SECONDS = 10.0  # a rate-limited fetch without a Retry-After is asked again after this
MAX_RETRY_SECONDS = 100.0  # under lookups.ASK_AGAIN_SECONDS: the page keeps waiting for it


def fetch_now(account_id: int, key: str, *, priority: Priority = Priority.INTERACTIVE) -> bool:
    """Worker side: fetch one lookup and store it. Returns True when it changed (the
    drafts validated against it are then validated again)."""
    account = LinkedAccount.objects.filter(pk=account_id).first()
    if account is None:
        return False
    if not may_send(account_id):
        set_error(account, key, held_message(account.kind))
        return False
    connector = registry.get(account.kind)
    try:
        data = connector.fetch_lookup(build_client(account, None, priority=priority), key)
    except RateLimited as exc:
        # no budget now (ours or the repository's): fetched once there is, still pending
        _again_later(account, key, exc, priority)
        return False
    except (AuthError, RepositoryError, LookupError) as exc:
        message = exc.message if isinstance(exc, RepositoryError) else str(exc)
        set_error(account, key, message)
        return False
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    row = row_for(account, key)
    changed = row.fetched_at is not None and digest != row.digest
    Lookup.objects.filter(pk=row.pk).update(
        data=data, digest=digest, fetched_at=timezone.now(), requested_at=None, error=""
    )
    if changed or row.fetched_at is None:
        _revalidate_users(account, key)
    return changed


def _again_later(account: LinkedAccount, key: str, exc: RateLimited, priority: Priority) -> None:
    from celery import current_app

    delay = max(1.0, min(exc.retry_after or RETRY_SECONDS, MAX_RETRY_SECONDS))
    Lookup.objects.filter(pk=row_for(account, key).pk).update(requested_at=timezone.now())
    current_app.send_task(
        "deposits.tasks.fetch_lookup",
        args=[account.pk, key],
        kwargs={"priority": str(priority)},
        countdown=delay,
        queue=priority.queue,
    )


def _revalidate_users(account: LinkedAccount, key: str) -> None:
    """The drafts of deposits with a target on ``account`` validated against ``key``."""
    connector = registry.get(account.kind)
    deposits = {
        t.deposit_id
        for t in account.targets.only("deposit_id", "options")
        if key in connector.schema_keys(t.options or {})
    }
    for deposit in Deposit.objects.filter(pk__in=deposits):
        try:
            revalidate(deposit)
        except Exception:
            log.exception("deposit %s not re-validated after %s changed", deposit.pk, key)
