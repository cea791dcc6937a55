"""Notifications out: a team's subscriptions (a URL told of chosen events, signed as the
Standard Webhooks specification says) and each delivery to them (``deposits/outbound/``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from deposits import secrets

from .teams import Team


class WebhookEvent(models.TextChoices):
    SUBMITTED = "deposit.submitted", "Submitted for review"
    RETURNED = "deposit.returned", "Returned to the author"
    APPROVED = "deposit.approved", "Approved by a curator"
    PUBLISHED = "deposit.published", "Published"
    FAILED = "deposit.failed", "Failed"
    NEW_VERSION = "deposit.new_version", "New version published"
    RELEASE_IMPORTED = "release.imported", "Release imported"


# Sent by "Send a test event" only; never chosen.
TEST_EVENT = "subscription.test"


class Subscription(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="subscriptions")
    url = models.URLField(max_length=1000)
    description = models.CharField(max_length=200, blank=True)
    # "whsec_" + base64 of the key, as Standard Webhooks libraries take it
    secret_encrypted = models.TextField(editable=False)
    events = models.JSONField(default=list, blank=True)  # WebhookEvent values
    enabled = models.BooleanField(default=True)
    # Set when repeated failures switched it off (a person switches it on again).
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team", "url"]

    def __str__(self) -> str:
        return self.description or self.url

    @property
    def secret(self) -> str:
        return secrets.decrypt(self.secret_encrypted)

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = secrets.encrypt(secret)

    def wants(self, event: str) -> bool:
        return event in (self.events or [])


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    RETRYING = "retrying", "Failed, will retry"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Gave up"
    HELD = "held", "Held: the subscription is switched off"


class OutboundDelivery(models.Model):
    """One event for one subscription: its payload (as signed) and every attempt."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    message_id = models.CharField(max_length=64, unique=True)  # the webhook-id header
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # [{"at": iso, "status": 200 | None, "ms": 31, "error": ""}], oldest first
    log = models.JSONField(default=list, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.event} to {self.subscription}: {self.status}"
