"""What the portal tells people: in the portal (unread until marked) and by e-mail."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .deposits import Deposit
from .teams import Team


class NotificationKind(models.TextChoices):
    REVIEW_REQUESTED = "review_requested", "A deposit awaits review (to curators)"
    RETURNED = "returned", "My deposit was returned"
    APPROVED = "approved", "My deposit was approved"
    PUBLISHED = "published", "A deposit I follow was published"
    FAILED = "failed", "A deposit I follow failed"
    COMMENT = "comment", "A new message on a deposit I follow or review"
    RELEASE_IMPORTED = "release_imported", "A release became a new version of a deposit I follow"
    RELEASE_FAILED = "release_failed", "A release could not be imported (to admins and followers)"
    FORGE_TOKEN = "forge_token", "A release source's forge token stopped working (to admins)"
    WEBHOOK_DISABLED = "webhook_disabled", "A webhook subscription was switched off (to admins)"
    IDENTIFIER_GONE = (
        "identifier_gone",
        "A published identifier no longer resolves (to admins and followers)",
    )


# Which kinds go out by e-mail when a person has not chosen.
EMAIL_BY_DEFAULT = {
    NotificationKind.REVIEW_REQUESTED,
    NotificationKind.RETURNED,
    NotificationKind.APPROVED,
    NotificationKind.FAILED,
    NotificationKind.RELEASE_FAILED,
    NotificationKind.FORGE_TOKEN,
    NotificationKind.WEBHOOK_DISABLED,
    NotificationKind.IDENTIFIER_GONE,
}


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    deposit = models.ForeignKey(
        Deposit, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    message = models.TextField()
    url = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # E-mail: wanted (by the person's choice when it was made), then sent or failed.
    email_wanted = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user}"


class EmailChoice(models.Model):
    """One person's choice of e-mail for one kind of notification (absent: the default)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_choices"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    email = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_email_choice")]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} by e-mail {'on' if self.email else 'off'}"
