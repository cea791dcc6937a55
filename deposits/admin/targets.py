"""Targets (stuck or failed ones found and retried), their remote files and identifiers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString

from deposits import lifecycle
from deposits.models import IN_FLIGHT_STATES, Identifier, RemoteFile, State, Target

from .audit import audit_trail, error_text
from .scoping import ReadOnlyAdmin, ScopedInline, TeamScopedAdmin

# A target in flight that has not moved for this long is stuck (a worker died, or its
# task was lost): the reconciler should have taken it up by then.
STUCK_AFTER = timedelta(minutes=15)


def stuck(now: Any = None) -> Q:
    """In flight, with its lease run out or no change for STUCK_AFTER, and not merely
    waiting for a retry or a rate budget it was told to wait for."""
    now = now or timezone.now()
    waiting = Q(next_attempt_at__gt=now)
    idle = Q(lease_until__lt=now) | Q(updated__lt=now - STUCK_AFTER)
    return Q(state__in=IN_FLIGHT_STATES) & idle & ~waiting


class AttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        minutes = int(STUCK_AFTER.total_seconds() // 60)
        return [
            ("stuck", f"Stuck (queued or working, no progress for {minutes} min)"),
            ("failed", "Failed"),
            ("failed_retryable", "Failed, worth retrying"),
            ("any", "Stuck or failed"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "stuck":
            return queryset.filter(stuck())
        if value == "failed":
            return queryset.filter(state=State.FAILED)
        if value == "failed_retryable":
            return queryset.filter(state=State.FAILED, retryable=True)
        if value == "any":
            return queryset.filter(stuck() | Q(state=State.FAILED))
        return queryset


class IdentifierInline(ScopedInline):
    model = Identifier
    fields = readonly_fields = ("scheme", "value", "url", "scope")
    show_change_link = False


class RemoteFileInline(ScopedInline):
    model = RemoteFile
    fields = readonly_fields = (
        "name",
        "status",
        "bytes_sent",
        "remote_checksum",
        "attempts",
        "last_error",
    )
    show_change_link = False


@admin.register(Target)
class TargetAdmin(TeamScopedAdmin):
    team_path = "deposit__team"
    list_display = [
        "deposit",
        "account",
        "state",
        "action",
        "current_step",
        "reason",
        "retryable",
        "updated",
    ]
    list_filter = [
        AttentionFilter,
        "state",
        "account__kind",
        ("account__team", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["deposit__title", "remote_id", "account__label", "last_error"]
    list_select_related = ["deposit", "account"]
    actions = ["retry_targets"]
    # State changes go through the lifecycle (checked, audited); never edited here.
    readonly_fields = [
        "deposit",
        "account",
        "state",
        "action",
        "steps",
        "step_index",
        "progress",
        "remote_id",
        "remote_state",
        "remote_links",
        "create_marker",
        "create_started_at",
        "problems",
        "last_error",
        "retryable",
        "attempts",
        "lease_token",
        "lease_until",
        "next_attempt_at",
        "published_at",
        "created",
        "updated",
        "audit",
    ]
    fields = ["options", *readonly_fields]
    inlines = [IdentifierInline, RemoteFileInline]

    @admin.display(description="Last error")
    def reason(self, target: Target) -> str:
        return error_text(target.last_error)

    @admin.display(description="Audit trail")
    def audit(self, target: Target) -> SafeString:
        return audit_trail(target)

    @admin.action(description="Retry the selected failed targets")
    def retry_targets(self, request: HttpRequest, queryset: QuerySet[Target]) -> None:
        for target in queryset.select_related("account", "deposit"):
            try:
                lifecycle.retry(target, user=request.user)
            except (lifecycle.NotAllowed, lifecycle.Conflict) as exc:
                self.message_user(request, f"{target}: not retried. {exc}", messages.WARNING)
            else:
                self.message_user(request, f"{target}: queued again.", messages.SUCCESS)


@admin.register(RemoteFile)
class RemoteFileAdmin(ReadOnlyAdmin):
    team_path = "target__deposit__team"
    list_display = ["name", "target", "status", "bytes_sent", "attempts"]
    list_filter = ["status"]
    search_fields = ["name", "remote_id", "target__deposit__title"]
    list_select_related = ["target__deposit", "target__account"]


@admin.register(Identifier)
class IdentifierAdmin(ReadOnlyAdmin):
    team_path = "target__deposit__team"
    list_display = ["value", "scheme", "scope", "target", "created"]
    list_filter = ["scheme", "scope"]
    search_fields = ["value", "target__deposit__title"]
    list_select_related = ["target__deposit", "target__account"]
