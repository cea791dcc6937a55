"""Sending one delivery: claimed, signed (Standard Webhooks), posted to the checked
address, logged attempt by attempt, retried with backoff, given up after the last retry.

A subscription failing WEBHOOK_DISABLE_AFTER_FAILURES attempts in a row is switched off,
its waiting deliveries HELD, and the team's admins are told; a person re-enables it.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from deposits.models import (
    DeliveryStatus,
    Membership,
    Notification,
    NotificationKind,
    OutboundDelivery,
    Role,
    Subscription,
)
from deposits.notifications import notify

from . import addresses, events

log = logging.getLogger(__name__)

REPLY_CAP = 64 * 1024  # read at most this much of a reply
REPLY_LOGGED = 300  # characters of a refusal's reply kept in the log
LOG_KEPT = 50  # attempts kept per delivery
# A fresh PENDING delivery is left to the task queued on commit for this long.
DUE_AFTER = timedelta(seconds=30)
DUE_BATCH = 100
REDIRECTED = "The receiver redirected; webhooks are not followed to another address."
USER_AGENT = "DepositPortal-Webhooks/1 (Standard Webhooks)"
WAITING = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


@dataclass(frozen=True)
class Attempt:
    status: int | None  # None when no reply came
    ms: int
    error: str  # "" on a 2xx

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def body_of(delivery: OutboundDelivery) -> bytes:
    """The exact bytes signed and sent (the same on every attempt)."""
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


def signed_headers(secret: str, message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def _lease() -> timedelta:
    """How long a claimed attempt is left to its worker before ``deliver_due`` retakes it."""
    return timedelta(seconds=3 * settings.WEBHOOK_TIMEOUT_SECONDS + 30)


def _due(delivery_id: int) -> OutboundDelivery | None:
    """The delivery as read now, if an attempt at it is due."""
    row = OutboundDelivery.objects.filter(pk=delivery_id, status__in=WAITING).first()
    if row is None or (row.next_attempt_at is not None and row.next_attempt_at > timezone.now()):
        return None
    return row


def _take(row: OutboundDelivery) -> OutboundDelivery | None:
    """Take the attempt ``row`` was read for (compare-and-set): of two workers that read
    it at once, one gets it; the claim holds it off ``deliver_due`` for a lease."""
    claimed = OutboundDelivery.objects.filter(
        pk=row.pk, status=row.status, attempts=row.attempts, next_attempt_at=row.next_attempt_at
    ).update(attempts=F("attempts") + 1, next_attempt_at=timezone.now() + _lease())
    if claimed != 1:
        return None
    return OutboundDelivery.objects.select_related("subscription__team").get(pk=row.pk)


def _claim(delivery_id: int) -> OutboundDelivery | None:
    row = _due(delivery_id)
    return _take(row) if row is not None else None


def deliver(delivery_id: int) -> bool:
    """One attempt at one delivery, if it is due; True when it was delivered now."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return False
    subscription = delivery.subscription
    if not subscription.enabled:
        OutboundDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.HELD, attempts=F("attempts") - 1, next_attempt_at=None
        )
        return False
    at = timezone.now()
    attempt = send(subscription, delivery, at)
    _record(delivery, attempt, at)
    return attempt.ok


def send(subscription: Subscription, delivery: OutboundDelivery, at: datetime) -> Attempt:
    """POST the signed body to the address checked now (never following a redirect)."""
    started = time.monotonic()
    try:
        destination = addresses.resolve(subscription.url)
    except addresses.UnsafeAddress as exc:
        return Attempt(None, 0, str(exc))
    body = body_of(delivery)
    headers = signed_headers(subscription.secret, delivery.message_id, at, body)
    headers["Host"] = destination.host_header
    try:
        status, reply = post(destination, body, headers)
    except urllib3.exceptions.SSLError as exc:
        found = re.search(r"certificate verify failed: ([^(\]]+)", str(exc))
        reason = found.group(1).strip() if found else "the TLS handshake failed"
        if "match" in str(exc):
            reason = "it names another host"
        error = (
            f"The receiver's TLS certificate was refused ({reason}): it must be valid for "
            f"{destination.host} and signed by a known authority."
        )
        return Attempt(None, _ms(started), error)
    except urllib3.exceptions.NewConnectionError as exc:  # a TimeoutError to urllib3
        reason = str(exc).rpartition("new connection: ")[2] or type(exc).__name__
        error = f"Could not connect to {destination.host_header} ({reason}): is the receiver up?"
        return Attempt(None, _ms(started), error)
    except urllib3.exceptions.TimeoutError:
        wait = settings.WEBHOOK_TIMEOUT_SECONDS
        return Attempt(None, _ms(started), f"The receiver did not answer within {wait:g} s.")
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        error = f"Could not connect to {destination.host_header}: {type(exc).__name__}."
        return Attempt(None, _ms(started), error)
    ms = _ms(started)
    if 200 <= status < 300:
        return Attempt(status, ms, "")
    if 300 <= status < 400:
        return Attempt(status, ms, REDIRECTED)
    text = reply.decode("utf-8", "replace").strip()[:REPLY_LOGGED]
    text = text.replace(subscription.secret, "[redacted]")
    return Attempt(
        status, ms, f"The receiver answered {status}" + (f": “{text}”." if text else ".")
    )


def post(
    destination: addresses.Destination, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    """Connect to ``destination.address`` itself: TLS checks the name, Host says it."""
    timeout = urllib3.Timeout(
        connect=settings.WEBHOOK_TIMEOUT_SECONDS, read=settings.WEBHOOK_TIMEOUT_SECONDS
    )
    pool: urllib3.HTTPConnectionPool
    if destination.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            destination.address,
            destination.port,
            timeout=timeout,
            retries=False,
            server_hostname=destination.host,
            assert_hostname=destination.host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            destination.address, destination.port, timeout=timeout, retries=False
        )
    with pool:
        response = pool.urlopen(
            "POST",
            destination.path,
            body=body,
            headers=headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            reply = response.read(REPLY_CAP)
        finally:
            response.release_conn()
        return response.status, reply


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _record(delivery: OutboundDelivery, attempt: Attempt, at: datetime) -> None:
    entry = {
        "at": at.isoformat(),
        "status": attempt.status,
        "ms": attempt.ms,
        "error": attempt.error,
    }
    fields: dict[str, Any] = {
        "log": [*delivery.log, entry][-LOG_KEPT:],
        "last_status_code": attempt.status,
        "last_error": attempt.error,
    }
    retries = settings.WEBHOOK_RETRY_SECONDS
    delay = 0.0
    if attempt.ok:
        fields.update(
            status=DeliveryStatus.DELIVERED, delivered_at=timezone.now(), next_attempt_at=None
        )
    elif delivery.attempts <= len(retries):
        delay = retries[delivery.attempts - 1]
        fields.update(
            status=DeliveryStatus.RETRYING,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
    else:
        fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    with transaction.atomic():
        OutboundDelivery.objects.filter(pk=delivery.pk).update(**fields)
        _count(delivery.subscription, attempt)
        if fields["status"] == DeliveryStatus.RETRYING:
            pk = delivery.pk
            transaction.on_commit(lambda: events.enqueue([pk], countdown=delay))
    if not attempt.ok:
        log.info(
            "webhook delivery %s attempt %s failed: %s",
            delivery.pk,
            delivery.attempts,
            attempt.error,
        )


def _count(subscription: Subscription, attempt: Attempt) -> None:
    rows = Subscription.objects.filter(pk=subscription.pk)
    if attempt.ok:
        rows.update(consecutive_failures=0)
        return
    rows.update(consecutive_failures=F("consecutive_failures") + 1)
    limit = settings.WEBHOOK_DISABLE_AFTER_FAILURES
    reason = (
        f"Switched off after {limit} failed deliveries in a row; the last: {attempt.error} "
        "Fix the receiver, then press Re-enable: what was held is sent then."
    )
    switched = rows.filter(enabled=True, consecutive_failures__gte=limit).update(
        enabled=False, disabled_at=timezone.now(), disabled_reason=reason
    )
    if switched:
        OutboundDelivery.objects.filter(subscription=subscription, status__in=WAITING).update(
            status=DeliveryStatus.HELD, next_attempt_at=None
        )
        tell_admins(
            subscription,
            f"The webhook subscription “{subscription}” of {subscription.team} was switched off: {reason}",
        )


def tell_admins(subscription: Subscription, message: str) -> list[Notification]:
    """A webhook_disabled notification to each admin of the team, e-mailed where wanted."""
    admins = Membership.objects.filter(
        team_id=subscription.team_id, role=Role.ADMIN
    ).select_related("user")
    return notify(
        NotificationKind.WEBHOOK_DISABLED,
        None,
        [m.user for m in admins],
        message,
        url=reverse("subscription", args=[subscription.pk]),
        team_id=subscription.team_id,
    )


def due_ids(now: datetime | None = None) -> list[int]:
    """Waiting and due: a retry whose time came, a claim whose worker vanished, or a fresh
    delivery older than DUE_AFTER (its task never came: the broker was down)."""
    now = now or timezone.now()
    due = OutboundDelivery.objects.filter(
        Q(status__in=WAITING, next_attempt_at__lte=now)
        | Q(
            status=DeliveryStatus.PENDING,
            next_attempt_at__isnull=True,
            created__lte=now - DUE_AFTER,
        )
    )
    return list(due.order_by("created", "pk").values_list("pk", flat=True)[:DUE_BATCH])


def deliver_due() -> int:
    """Send what is due (each claimed, so a task running at the same time sends nothing
    twice); the number delivered."""
    return sum(deliver(pk) for pk in due_ids())
