"""The orphan watchdog: drafts that interrupted creates left behind, found and deleted.

A create that got no answer may still land after the target has given up waiting for it
and made (or adopted) another draft. Such a draft carries the target's create marker
(``Connector.marks_creates``) but is not the target's record: nobody will ever fill,
publish or delete it. Every ORPHAN_SWEEP_EVERY_SECONDS the watchdog lists, per account
with recent creates, the drafts carrying a marker, and deletes each whose target uses
another record. Drafts of targets still creating (no record yet) are left alone: those
are the ones a re-run adopts.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from deposits.models import LinkedAccount, Target
from deposits.repositories import registry
from deposits.repositories.base import RepositoryError
from deposits.repositories.limiter import Priority

from .jobs import build_client
from .states import record_event

log = logging.getLogger(__name__)

ORPHAN_DELETED = "orphan_deleted"


def sweep_orphans() -> int:
    """Delete every orphan draft the recent creates of any account left; returns how many."""
    since = timezone.now() - timedelta(hours=settings.ORPHAN_SWEEP_HORIZON_HOURS)
    kinds = [kind for kind, c in registry.connectors().items() if c.marks_creates]
    recent = (
        Target.objects.filter(
            account__kind__in=kinds,
            account__held_since__isnull=True,
            create_started_at__gte=since,
        )
        .exclude(create_marker="")
        .select_related("deposit")
    )
    by_account: dict[int, dict[str, Target]] = defaultdict(dict)
    for target in recent:
        by_account[target.account_id][target.create_marker] = target
    return sum(
        _sweep_account(LinkedAccount.objects.get(pk=pk), targets)
        for pk, targets in by_account.items()
    )


def _sweep_account(account: LinkedAccount, targets: dict[str, Target]) -> int:
    connector = registry.get(account.kind)
    client = build_client(account, None, priority=Priority.BACKGROUND)
    try:
        drafts = connector.marked_drafts(client)
    except RepositoryError as exc:
        log.warning("orphan sweep of account %s could not list drafts: %s", account.pk, exc)
        return 0
    deleted = 0
    for remote_id, marker in drafts:
        target = targets.get(marker)
        if target is None or not _is_orphan(target, remote_id):
            continue
        try:
            connector.delete_orphan(client, remote_id)
        except RepositoryError as exc:
            log.warning("orphan %s of target %s not deleted: %s", remote_id, target.pk, exc)
            continue
        deleted += 1
        record_event(
            target,
            ORPHAN_DELETED,
            actor_label="watchdog",
            message=f"Deleted {connector.label} draft {remote_id}: an interrupted create "
            f"made it after this deposit had moved on with draft {target.remote_id}. It was "
            "empty and never published.",
            data={"remote_id": remote_id, "kept": target.remote_id},
        )
    return deleted


def _is_orphan(target: Target, remote_id: str) -> bool:
    """The draft carries the target's marker and the target uses another record (read
    again now: a worker may have just adopted this very draft)."""
    current = Target.objects.filter(pk=target.pk).values_list("remote_id", flat=True).first()
    return bool(current) and current != remote_id
