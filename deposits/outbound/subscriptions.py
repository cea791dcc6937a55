"""People managing a team's webhook subscriptions: only its admins (every member may
look at them and at their delivery log). Each change writes one line of the team's audit
trail; a secret is returned once (to show once) and never written anywhere in clear.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from django.utils import timezone

from deposits import access
from deposits.lifecycle.states import NotAllowed, User
from deposits.models import (
    TEST_EVENT,
    DeliveryStatus,
    Event,
    OutboundDelivery,
    Subscription,
    Team,
    WebhookEvent,
)

from . import addresses, events

SECRET_BYTES = 32
MAX_DESCRIPTION = 200


class Invalid(NotAllowed):
    """A value a person entered is refused; ``field`` says which, for the form."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _clean(url: str, chosen: list[str], description: str) -> tuple[str, list[str], str]:
    try:
        url = addresses.check_url(url)
    except addresses.UnsafeAddress as exc:
        raise Invalid("url", str(exc)) from None
    if len(url) > Subscription._meta.get_field("url").max_length:  # type: ignore[operator]
        raise Invalid("url", "This URL is too long: keep it under 1000 characters.")
    wanted = [e for e in WebhookEvent.values if e in set(chosen)]
    if not wanted:
        raise Invalid("events", "Choose at least one event to be told of.")
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Invalid("description", f"Keep the description under {MAX_DESCRIPTION} characters.")
    return url, wanted, description


def _person(user: User) -> AuthUser | None:
    return user if isinstance(user, AuthUser) and user.is_authenticated else None


def _audit(subscription: Subscription, user: User, message: str, **data: Any) -> None:
    actor = _person(user)
    Event.objects.create(
        team_id=subscription.team_id,
        kind="webhook",
        actor=actor,
        actor_label="" if actor else "system",
        message=message,
        data={"subscription": subscription.pk, **data},
    )


def create(
    team: Team, *, url: str, events: list[str], description: str = "", user: User
) -> tuple[Subscription, str]:
    """A new subscription and its secret (shown once; stored encrypted)."""
    access.require_admin(user, team, "add webhook subscriptions")  # type: ignore[arg-type]
    url, wanted, description = _clean(url, events, description)
    secret = new_secret()
    with transaction.atomic():
        subscription = Subscription(
            team=team,
            url=url,
            events=wanted,
            description=description,
            created_by=_person(user),
        )
        subscription.set_secret(secret)
        subscription.save()
        _audit(subscription, user, f"Webhook subscription added: {url} ({', '.join(wanted)})")
    return subscription, secret


def update(
    subscription: Subscription, *, user: User, url: str, events: list[str], description: str
) -> list[str]:
    """Change the URL, events or description; the names of what changed."""
    access.require_admin(user, subscription.team, "change its webhook subscriptions")  # type: ignore[arg-type]
    url, wanted, description = _clean(url, events, description)
    new = {"url": url, "events": wanted, "description": description}
    changed = [name for name, value in new.items() if getattr(subscription, name) != value]
    if not changed:
        return []
    with transaction.atomic():
        for name in changed:
            setattr(subscription, name, new[name])
        subscription.save(update_fields=[*changed, "updated"])
        _audit(subscription, user, f"Webhook subscription {url} changed: {', '.join(changed)}")
    return changed


def reenable(subscription: Subscription, *, user: User) -> int:
    """Switch it on again and send what was held meanwhile; how many are re-sent."""
    access.require_admin(user, subscription.team, "re-enable its webhook subscriptions")  # type: ignore[arg-type]
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        was_on = locked.enabled
        Subscription.objects.filter(pk=locked.pk).update(
            enabled=True, disabled_at=None, disabled_reason="", consecutive_failures=0
        )
        held = OutboundDelivery.objects.filter(subscription=locked, status=DeliveryStatus.HELD)
        ids = list(held.values_list("pk", flat=True))
        # a fresh round of retries for each; their earlier attempts stay in the log
        held.update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None)
        if not was_on:
            _audit(
                locked,
                user,
                f"Webhook subscription {locked.url} re-enabled; {len(ids)} held re-sent",
            )
        transaction.on_commit(lambda: events.enqueue(ids))
    subscription.refresh_from_db()
    return len(ids)


def rotate_secret(subscription: Subscription, *, user: User) -> str:
    """A new secret, in force at once (the old one stops verifying); shown once."""
    access.require_admin(user, subscription.team, "change its webhook secrets")  # type: ignore[arg-type]
    secret = new_secret()
    with transaction.atomic():
        subscription.set_secret(secret)
        subscription.save(update_fields=["secret_encrypted", "updated"])
        _audit(subscription, user, f"Webhook secret of {subscription.url} rotated")
    return secret


def delete(subscription: Subscription, *, user: User) -> None:
    """Delete it with its delivery log (waiting deliveries are not sent)."""
    access.require_admin(user, subscription.team, "delete its webhook subscriptions")  # type: ignore[arg-type]
    with transaction.atomic():
        _audit(subscription, user, f"Webhook subscription deleted: {subscription.url}")
        subscription.delete()


def send_test(subscription: Subscription, *, user: User) -> OutboundDelivery:
    """A "subscription.test" event, to check the receiver and its signature check."""
    access.require_admin(user, subscription.team, "send test events")  # type: ignore[arg-type]
    if not subscription.enabled:
        raise NotAllowed("This subscription is switched off: re-enable it first, then test it.")
    data = {
        "subscription": {"id": subscription.pk, "description": subscription.description},
        "sent_at": timezone.now().isoformat(),
    }
    with transaction.atomic():
        payload = events.envelope(TEST_EVENT, subscription.team, data)
        (delivery,) = events.queue([subscription], TEST_EVENT, payload)
    return delivery
