"""Linked accounts: link, change, unlink, verify, and their rate budget.

After one authentication failure a token is *held*: no request goes out with it again
(verification, the repository's rules, workers on targets all wait), because some
repositories disable a user after a few failed logins (DataMeta: five within an hour).
Only a person lifts the hold: a relink (new token) or Check now, each of which sends
one verification, one request at a time, stopping at the first refusal; when it passes,
the targets that waited are queued again. Checks run one at a time per account.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from deposits.models import AccountStatus, LinkedAccount, Team
from deposits.models.accounts import CheckState
from deposits.repositories import registry
from deposits.repositories.base import AuthError, RepositoryError
from deposits.repositories.http import host_allowed
from deposits.repositories.limiter import Priority, RateWindow

from .holds import CredentialHeld, held_message, hold, may_send, resume_waiting
from .states import NotAllowed, User, send_after_commit

log = logging.getLogger(__name__)


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
    request_check(account.pk)
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
    # Only what a person edits: the hold and the check belong to the workers' side.
    account.save(
        update_fields=[
            "label",
            "base_url",
            "token_encrypted",
            "token_hint",
            "rate_windows",
            "status",
            "last_error",
        ]
    )
    if reverify:
        # A new token is checked even while the old one's check is under way; a held
        # account stays held (its targets wait) until the new token passes.
        request_check(account.pk, force=True)
    return account


def unlink_account(account: LinkedAccount, *, user: User) -> None:
    if account.targets.exists():
        raise NotAllowed(
            f"{account} is a target of {account.targets.count()} deposit(s); remove it from "
            "them first (published records stay on the repository either way)."
        )
    account.delete()


def verify_account(account: LinkedAccount, *, user: User) -> bool:
    """Check now: one verification, unless one is already asked for or under way.

    Returns False when a check was already under way (nothing more is sent).
    """
    return request_check(account.pk)


def check_stale_after() -> timedelta:
    """A check asked for this long ago is taken as lost (its worker died): a new one may go."""
    return timedelta(seconds=2 * (settings.HTTP_CONNECT_TIMEOUT + settings.HTTP_READ_TIMEOUT))


def request_check(
    account_id: int,
    *,
    asked: bool = True,
    force: bool = False,
    priority: Priority = Priority.INTERACTIVE,
) -> bool:
    """Queue ONE check of the token (verification, then the repository's rules).

    ``asked``: a person asked (Check now, a relink), so the check may try a held token
    once; the hourly check never does. Claimed with a compare-and-set, so clicks while a
    check is asked for or under way send nothing more; ``force`` (a new token) re-asks.
    """
    now = timezone.now()
    accounts = LinkedAccount.objects.filter(pk=account_id)
    if not force:
        accounts = accounts.filter(
            Q(check_state=CheckState.IDLE)
            | Q(check_requested_at__isnull=True)
            | Q(check_requested_at__lt=now - check_stale_after())
        )
    if not accounts.update(check_state=CheckState.PENDING, check_requested_at=now):
        return False

    def not_sent() -> None:  # no check is under way: the next press may ask again
        LinkedAccount.objects.filter(pk=account_id, check_state=CheckState.PENDING).update(
            check_state=CheckState.IDLE
        )

    send_after_commit(
        "deposits.tasks.verify_account",
        args=[account_id],
        kwargs={"priority": priority.value, "asked": asked},
        queue=priority.queue,
        unreachable="The task queue cannot be reached, so the account could not be checked.",
        undo=not_sent,
    )
    return True


def check_account(
    account_id: int, *, asked: bool = True, priority: Priority = Priority.INTERACTIVE
) -> None:
    """Worker side of a check: the verification, then (if it passed) the rules, in turn.

    The first refusal stops it: nothing else is sent. A check nobody asked for (or that
    another delivery of the same task already runs) does nothing.
    """
    claimed = _claim_check(account_id)
    if claimed is None:
        return
    try:
        account = verify_now(account_id, priority=priority, checking=asked)
    finally:
        LinkedAccount.objects.filter(
            pk=account_id, check_state=CheckState.RUNNING, check_requested_at=claimed
        ).update(check_state=CheckState.IDLE)
    if account.held or account.status != AccountStatus.OK:
        return
    try:
        refresh_schema_now(account_id, priority=priority)
    except RepositoryError as exc:
        # The rules are fetched again on schedule; the token works, so work goes on.
        log.warning("fetching the rules of account %s failed: %s", account_id, exc.message)
    resume_waiting(account)


def _claim_check(account_id: int) -> Any:
    """Asked for -> under way, by compare-and-set; the request time that names it, or None."""
    row = (
        LinkedAccount.objects.filter(pk=account_id, check_state=CheckState.PENDING)
        .values_list("check_requested_at", flat=True)
        .first()
    )
    if row is None:
        return None
    claimed = LinkedAccount.objects.filter(
        pk=account_id, check_state=CheckState.PENDING, check_requested_at=row
    ).update(check_state=CheckState.RUNNING)
    return row if claimed else None


def account_budget(account: LinkedAccount) -> list[dict[str, Any]]:
    from deposits.repositories.limiter import get_limiter

    try:
        return get_limiter().usage(account.limiter_key, account.effective_rate_windows())
    except Exception:  # the budget is informative; a Redis hiccup must not break a page
        return [
            {
                "limit": w.limit,
                "seconds": w.seconds,
                "used": None,
                "remaining": None,
                "resets_in": None,  # every key the page reads, so it shows "unknown"
                "blocked_until": None,
            }
            for w in account.effective_rate_windows()
        ]


def verify_now(
    account_id: int, *, priority: Priority = Priority.INTERACTIVE, checking: bool = False
) -> LinkedAccount:
    """Worker side: ask the repository whose token this is, and record the answer.

    A held token is not tried, unless ``checking`` (the check a person asked for, claimed
    by ``check_account``).
    """
    from .jobs import build_client

    account = LinkedAccount.objects.get(pk=account_id)
    if not may_send(account_id, checking=checking):
        return account
    connector = registry.get(account.kind)
    fields = ["status", "identity", "last_error", "last_checked_at", "expires_at"]
    try:
        client = build_client(account, None, priority=priority, checking=checking)
        identity = connector.verify(client)
    except CredentialHeld:
        account.refresh_from_db()  # held meanwhile, by another worker: nothing was sent
        return account
    except AuthError as exc:
        hold(account.pk, account.kind)
        account.status = AccountStatus.FAILING
        account.last_error = exc.message
    except RepositoryError as exc:
        # Transient trouble says nothing about the token: keep the status, show why.
        account.last_error = exc.message
        if account.held:
            account.last_error = (
                f"The token could not be checked: {exc.message} {held_message(account.kind)}"
            )
        if exc.permanent:
            account.status = AccountStatus.FAILING
    else:
        account.status = AccountStatus.OK
        account.identity = identity.name
        account.last_error = ""
        account.held_since = None
        fields.append("held_since")
        if identity.expires_at:
            from django.utils.dateparse import parse_datetime

            account.expires_at = parse_datetime(identity.expires_at)
    account.last_checked_at = timezone.now()
    account.save(update_fields=fields)
    account.refresh_from_db()
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
    if not connector.uses_schema or not may_send(account_id):
        return False
    try:
        schema = connector.fetch_schema(build_client(account, None, priority=priority))
    except AuthError:
        return False  # the token is held now (build_client's gate): it waits for a person
    digest = hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()
    changed = digest != account.schema_digest
    LinkedAccount.objects.filter(pk=account.pk).update(
        schema=schema, schema_digest=digest, schema_fetched_at=timezone.now()
    )
    if changed:
        for deposit in Deposit.objects.filter(targets__account=account).distinct():
            revalidate(deposit)
    return changed
