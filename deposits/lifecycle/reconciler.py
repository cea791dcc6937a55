"""Background work over many targets: resume the stuck, look for late results."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from deposits.models import Identifier, State, Target
from deposits.repositories import registry
from deposits.repositories.base import RepositoryError
from deposits.repositories.limiter import Priority

from .jobs import build_client, build_job
from .states import enqueue, record_event
from .worker import record_result

log = logging.getLogger(__name__)


def reconcile() -> int:
    """Queue every in-flight target a worker should be on but is not.

    That is: its lease ran out (the worker holding it died), its retry is overdue (the
    delayed task was lost), or it sat queued with no worker taking it. Safe to run any
    time: ``claim`` lets only one worker act on a target.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.LEASE_SECONDS)
    in_flight = Target.objects.filter(state__in=[State.QUEUED, State.WORKING])
    crashed = list(in_flight.filter(lease_until__lt=now).values_list("pk", flat=True)[:500])
    lost = list(
        in_flight.filter(lease_until__isnull=True)
        .filter(Q(next_attempt_at__lt=stale) | Q(next_attempt_at__isnull=True, updated__lt=stale))
        .values_list("pk", flat=True)[:500]
    )
    for pk in crashed:
        target = Target.objects.select_related("deposit").get(pk=pk)
        record_event(
            target,
            "resumed",
            actor_label="reconciler",
            message=f"Resumed at step {target.current_step or 'start'}: the worker on it stopped",
        )
    for pk in crashed + lost:
        enqueue(pk, priority=Priority.BACKGROUND)
    return len(crashed) + len(lost)


def poll_published(target_id: int) -> bool:
    """Background: ask the repository for results that arrived after publishing.

    Returns True when something new was recorded.
    """
    target = Target.objects.select_related("deposit", "account").get(pk=target_id)
    connector = registry.get(target.account.kind)
    if target.state != State.PUBLISHED or not connector.polls_after_publish:
        return False
    job = build_job(target, list(target.remote_files.all()))
    try:
        result = connector.poll_published(
            build_client(target.account, target, priority=Priority.BACKGROUND), job
        )
    except RepositoryError as exc:
        log.warning("polling target %s failed: %s", target_id, exc.message)
        return False
    before = Identifier.objects.filter(target=target).count()
    record_result(target, "poll", result)
    return Identifier.objects.filter(target=target).count() > before or bool(result.message)


def published_targets_to_poll() -> list[int]:
    kinds = [kind for kind, c in registry.connectors().items() if c.polls_after_publish]
    return list(
        Target.objects.filter(state=State.PUBLISHED, account__kind__in=kinds).values_list(
            "pk", flat=True
        )
    )
