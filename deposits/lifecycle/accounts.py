"""Linked accounts: link, change, unlink, verify, and their rate budget."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from deposits.models import AccountStatus, LinkedAccount, Team
from deposits.repositories import registry
from deposits.repositories.base import AuthError, RepositoryError
from deposits.repositories.http import host_allowed
from deposits.repositories.limiter import Priority, RateWindow

from .states import NotAllowed, User, enqueue_verify


def check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotAllowed("The base URL must be an http(s) URL, e.g. https://zenodo.org/api")
    # The same rule as every request's (``host`` any port, ``host:port`` only that port).
    if not host_allowed(base_url.strip(), settings.ALLOWED_REPOSITORY_HOSTS):
        raise NotAllowed(
            f"{parts.hostname} is not an allowed repository host. An administrator can add "
            "it to ALLOWED_REPOSITORY_HOSTS."
        )
    return base_url.strip().rstrip("/")


def link_account(
    team: Team,
    *,
    kind: str,
    label: str,
    base_url: str,
    token: str,
    user: User,
    rate_windows: list[RateWindow] | None = None,
) -> LinkedAccount:
    registry.get(kind)  # an unknown kind fails here, not in a worker
    if not token.strip():
        raise NotAllowed("Paste the API token the repository gave you.")
    account = LinkedAccount(
        team=team,
        kind=kind,
        label=label.strip() or registry.get(kind).label,
        base_url=check_base_url(base_url),
        rate_windows=[w.as_json() for w in rate_windows or []],
    )
    account.set_token(token.strip())
    account.save()
    enqueue_verify(account.pk)
    return account


def update_account(
    account: LinkedAccount,
    *,
    user: User,
    label: str | None = None,
    base_url: str | None = None,
    token: str | None = None,
    rate_windows: list[RateWindow] | None = None,
) -> LinkedAccount:
    reverify = False
    if label is not None:
        account.label = label.strip() or account.label
    if base_url is not None and base_url.strip().rstrip("/") != account.base_url:
        if not token:
            raise NotAllowed(
                "A new base URL needs the token again: enter it with the new address, so "
                "the stored token is never sent to an address it was not given for."
            )
        account.base_url = check_base_url(base_url)
        reverify = True
    if token:
        account.set_token(token.strip())
        reverify = True
    if rate_windows is not None:
        account.rate_windows = [w.as_json() for w in rate_windows]
    if reverify:
        account.status = AccountStatus.UNVERIFIED
        account.last_error = ""
    account.save()
    if reverify:
        enqueue_verify(account.pk)
    return account


def unlink_account(account: LinkedAccount, *, user: User) -> None:
    if account.targets.exists():
        raise NotAllowed(
            f"{account} is a target of {account.targets.count()} deposit(s); remove it from "
            "them first (published records stay on the repository either way)."
        )
    account.delete()


def verify_account(account: LinkedAccount, *, user: User) -> None:
    enqueue_verify(account.pk)


def account_budget(account: LinkedAccount) -> list[dict[str, Any]]:
    from deposits.repositories.limiter import get_limiter

    try:
        return get_limiter().usage(account.limiter_key, account.effective_rate_windows())
    except Exception:  # the budget is informative; a Redis hiccup must not break a page
        return [
            {"limit": w.limit, "seconds": w.seconds, "used": None, "remaining": None}
            for w in account.effective_rate_windows()
        ]


def verify_now(account_id: int, *, priority: Priority = Priority.INTERACTIVE) -> LinkedAccount:
    """Worker side: ask the repository whose token this is, and record the answer."""
    from .jobs import build_client

    account = LinkedAccount.objects.get(pk=account_id)
    connector = registry.get(account.kind)
    now = timezone.now()
    try:
        identity = connector.verify(build_client(account, None, priority=priority))
    except AuthError as exc:
        account.status = AccountStatus.FAILING
        account.last_error = exc.message
    except RepositoryError as exc:
        # Transient trouble says nothing about the token: keep the status, show why.
        account.last_error = exc.message
        if exc.permanent:
            account.status = AccountStatus.FAILING
    else:
        account.status = AccountStatus.OK
        account.identity = identity.name
        account.last_error = ""
        if identity.expires_at:
            from django.utils.dateparse import parse_datetime

            account.expires_at = parse_datetime(identity.expires_at)
    account.last_checked_at = now
    account.save(
        update_fields=["status", "identity", "last_error", "last_checked_at", "expires_at"]
    )
    return account


def refresh_schema_now(account_id: int, *, priority: Priority = Priority.BACKGROUND) -> bool:
    """Worker side: fetch the rules the repository publishes; re-validate drafts on change.

    Returns True when the rules changed.
    """
    import hashlib
    import json

    from deposits.models import Deposit

    from .drafts import revalidate
    from .jobs import build_client

    account = LinkedAccount.objects.get(pk=account_id)
    connector = registry.get(account.kind)
    if not connector.uses_schema:
        return False
    schema = connector.fetch_schema(build_client(account, None, priority=priority))
    digest = hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()
    changed = digest != account.schema_digest
    LinkedAccount.objects.filter(pk=account.pk).update(
        schema=schema, schema_digest=digest, schema_fetched_at=timezone.now()
    )
    if changed:
        for deposit in Deposit.objects.filter(targets__account=account).distinct():
            revalidate(deposit)
    return changed
