from __future__ import annotations

from django.conf import settings
from django.db import models

from .accounts import LinkedAccount
from .deposits import Deposit
from .targets import Target
from .teams import Team


class Event(models.Model):
    """One line of the audit trail."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="events")
    deposit = models.ForeignKey(
        Deposit, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    target = models.ForeignKey(
        Target, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=100, blank=True, help_text="worker, reconciler, ...")
    kind = models.CharField(max_length=50)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M:%S} {self.kind}"

    @property
    def who(self) -> str:
        return str(self.actor) if self.actor_id else (self.actor_label or "system")


class ApiCall(models.Model):
    """One repository request. URLs are stored redacted; secrets never reach this table."""

    account = models.ForeignKey(
        LinkedAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="api_calls"
    )
    target = models.ForeignKey(
        Target, null=True, blank=True, on_delete=models.SET_NULL, related_name="api_calls"
    )
    method = models.CharField(max_length=10)
    url = models.CharField(max_length=1000)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    rate_headers = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # The repository's own id of the exchange, when it gives one (Coscine's ``traceId``):
    # what its support asks for.
    trace_id = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.method} {self.url} -> {self.status}"
