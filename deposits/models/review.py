"""Curation: a deposit's requests for review and the thread of messages on it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .deposits import Deposit
from .targets import Target


class ReviewState(models.TextChoices):
    OPEN = "open", "Awaiting review"
    APPROVED = "approved", "Approved"
    RETURNED = "returned", "Returned to the author"
    WITHDRAWN = "withdrawn", "Withdrawn by the author"


class ReviewRequest(models.Model):
    """One submission of a deposit for review, and what became of it.

    At most one is open per deposit. ``actions`` maps each target under review to the
    action its approval queues ({"12": "publish"}).
    """

    deposit = models.ForeignKey(Deposit, on_delete=models.CASCADE, related_name="reviews")
    targets = models.ManyToManyField(Target, related_name="reviews")
    actions = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=12, choices=ReviewState.choices, default=ReviewState.OPEN, db_index=True
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(db_index=True)
    # Who submitted it when no person did ("The release v1.1 of GitHub lab/tools").
    submitted_as = models.CharField(max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The curator's reason for a return (mandatory), or their note with an approval.
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["submitted_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["deposit"],
                condition=models.Q(state="open"),
                name="one_open_review_per_deposit",
            )
        ]

    def __str__(self) -> str:
        return f"Review of {self.deposit} ({self.get_state_display()})"


class CommentKind(models.TextChoices):
    COMMENT = "comment", "Comment"
    SUBMITTED = "submitted", "Submitted for review"
    WITHDRAWN = "withdrawn", "Withdrew the request"
    RETURNED = "returned", "Returned to the author"
    APPROVED = "approved", "Approved"
    EDITED = "edited", "Edited the metadata"


class Comment(models.Model):
    """One entry of a deposit's thread: a message, or a review action with its words."""

    deposit = models.ForeignKey(Deposit, on_delete=models.CASCADE, related_name="comments")
    review = models.ForeignKey(
        ReviewRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=CommentKind.choices, default=CommentKind.COMMENT)
    body = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.author} on {self.deposit}"
