"""``emit``: called inside the transaction that made the news (a submit, a publish, an
imported release); one OutboundDelivery per enabled subscription of the deposit's team
that wants the event, sent by a worker once the transaction commits.

A switched-off subscription gets its delivery too, HELD: nothing is lost while it is off,
and re-enabling it sends what it missed (``subscriptions.reenable``).

The payload holds ids, identifiers and links: no secrets, and nothing a repository sent
but links checked by ``deposits.links`` (an error text from a repository is not in it).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from deposits.links import identifier_link, safe_link
from deposits.models import (
    DeliveryStatus,
    Deposit,
    OutboundDelivery,
    Subscription,
    Target,
    Team,
    WebhookEvent,
)
from deposits.repositories import registry
from deposits.repositories.base import LinkRole
from deposits.repositories.limiter import Priority

log = logging.getLogger(__name__)

_BROKER_DOWN = (OperationalError, RedisConnectionError, RedisTimeoutError)
TASK = "deposits.tasks.deliver_webhook"


def emit(
    event: WebhookEvent,
    deposit: Deposit,
    *,
    target: Target | None = None,
    data: dict[str, Any] | None = None,
) -> list[OutboundDelivery]:
    """Queue ``event`` about ``deposit`` (and ``target``) for the team's subscriptions.

    Never raises into the caller's work: a failure to queue is logged (the news itself
    must not be undone by a webhook).
    """
    try:
        with transaction.atomic():
            subscriptions = [
                s for s in Subscription.objects.filter(team_id=deposit.team_id) if s.wants(event)
            ]
            if not subscriptions:
                return []
            payload = envelope(str(event), deposit.team, _about(deposit, target, data))
            return queue(subscriptions, str(event), payload)
    except Exception:
        log.exception("webhook event %s for deposit %s not queued", event, deposit.pk)
        return []


def queue(
    subscriptions: Iterable[Subscription], event: str, payload: dict[str, Any]
) -> list[OutboundDelivery]:
    """One delivery per subscription (HELD where it is switched off), sent on commit."""
    made = [
        OutboundDelivery.objects.create(
            subscription=subscription,
            message_id=f"msg_{uuid.uuid4().hex}",
            event=event,
            payload=payload,
            status=DeliveryStatus.PENDING if subscription.enabled else DeliveryStatus.HELD,
        )
        for subscription in subscriptions
    ]
    pending = [d.pk for d in made if d.status == DeliveryStatus.PENDING]
    if pending:
        transaction.on_commit(lambda: enqueue(pending))
    return made


def enqueue(ids: Iterable[int], *, countdown: float = 0) -> None:
    """Hand deliveries to the workers. With the broker down they wait, and the periodic
    ``deliver_due`` sends them: nothing here fails the caller."""
    for pk in ids:
        try:
            current_app.send_task(
                TASK, args=[pk], queue=Priority.BACKGROUND.queue, countdown=countdown or None
            )
        except _BROKER_DOWN as exc:
            log.warning("webhook delivery %s not queued (broker down): %s", pk, exc)
            return


def absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def envelope(event: str, team: Team, data: dict[str, Any]) -> dict[str, Any]:
    """The Standard Webhooks shape: type, timestamp, data (with the team first)."""
    return {
        "type": event,
        "timestamp": timezone.now().isoformat(),
        "data": {"team": {"id": team.pk, "name": team.name, "slug": team.slug}, **data},
    }


def _about(deposit: Deposit, target: Target | None, data: dict[str, Any] | None) -> dict[str, Any]:
    about: dict[str, Any] = {
        "deposit": {
            "id": deposit.pk,
            "title": str(deposit),
            "url": absolute(reverse("deposit", args=[deposit.pk])),
        }
    }
    if target is not None:
        about["target"] = target_data(target)
    else:
        targets = deposit.targets.select_related("account").order_by("pk")
        about["targets"] = [target_data(t) for t in targets]
    return {**about, **(data or {})}


def target_data(target: Target) -> dict[str, Any]:
    """One target as receivers see it: where, in which state, and what to cite."""
    connector = registry.get(target.account.kind)
    identifiers = []
    for ident in target.identifiers.all():
        scheme = connector.scheme(ident.scheme)
        identifiers.append(
            {
                "scheme": ident.scheme,
                "value": ident.value,
                "url": identifier_link(ident, scheme),
                "scope": ident.scope,
            }
        )
    return {
        "id": target.pk,
        "repository": {"label": target.account.label, "name": target.account.get_kind_display()},
        "state": target.state,
        "action": target.action,
        "identifiers": identifiers,
        "record_url": safe_link(connector.link(LinkRole.RECORD, target.remote_links or {})),
    }
