"""The audit trail and the API call log: read-only, filtered, searchable."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from deposits.models import ApiCall, Deposit, Event, Lookup, Target

from .scoping import ReadOnlyAdmin

TRAIL_SHOWN = 30


def audit_trail(obj: Deposit | Target) -> SafeString:
    """The latest lines of ``obj``'s audit trail, and a link to all of them."""
    if obj.pk is None:
        return SafeString("")
    key = "deposit__id__exact" if isinstance(obj, Deposit) else "target__id__exact"
    events = Event.objects.filter(**{key.removesuffix("__exact"): obj.pk})
    return render_to_string(
        "admin/deposits/audit-trail.html",
        {
            "events": events.select_related("actor", "target__account")[:TRAIL_SHOWN],
            "count": events.count(),
            "shown": TRAIL_SHOWN,
            "all_url": f"{reverse('admin:deposits_event_changelist')}?{key}={obj.pk}",
        },
    )


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = [
        "created",
        "team",
        "deposit",
        "target",
        "who",
        "kind",
        "from_state",
        "to_state",
        "message",
    ]
    list_filter = ["kind", "to_state", ("team", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["message", "deposit__title", "actor__username", "actor_label"]
    list_select_related = ["team", "deposit", "target__account", "actor"]
    date_hierarchy = "created"


class OutcomeFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("ok", "Succeeded (2xx, 3xx)"),
            ("client", "Refused (4xx)"),
            ("limited", "Rate-limited (429)"),
            ("server", "Server error (5xx)"),
            ("none", "No answer (timeout, reset)"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        conditions = {
            "ok": Q(status__gte=200, status__lt=400),
            "client": Q(status__gte=400, status__lt=500),
            "limited": Q(status=429),
            "server": Q(status__gte=500),
            "none": Q(status__isnull=True),
        }
        condition = conditions.get(self.value() or "")
        return queryset.filter(condition) if condition is not None else queryset


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAdmin):
    """Every repository request. URLs and errors are stored redacted (the HTTP layer)."""

    team_path = "account__team"
    list_display = [
        "created",
        "method",
        "url",
        "status",
        "duration_ms",
        "trace_id",
        "account",
        "target",
    ]
    list_filter = [
        OutcomeFilter,
        "status",
        "method",
        ("account", admin.RelatedOnlyFieldListFilter),
        ("created", admin.DateFieldListFilter),
    ]
    search_fields = ["url", "error", "trace_id", "account__label"]
    list_select_related = ["account", "target__deposit", "target__account"]
    date_hierarchy = "created"


@admin.register(Lookup)
class LookupAdmin(ReadOnlyAdmin):
    """What workers fetched for forms and validation (Coscine's projects and profiles)."""

    team_path = "account__team"
    list_display = ["key", "account", "fetched_at", "used_at", "error"]
    list_filter = [("account", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["key", "error"]
    list_select_related = ["account"]
    exclude = ["data"]


def error_text(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def linked(url: str, label: str) -> SafeString:
    return format_html('<a href="{}">{}</a>', url, label)
