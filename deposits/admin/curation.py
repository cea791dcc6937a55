"""Curation in the admin: the review queue (oldest first, approve in bulk, return with a
reason on the portal's review page), the threads, notifications and e-mail choices."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from deposits import lifecycle
from deposits.lifecycle import review
from deposits.models import Comment, EmailChoice, Notification, ReviewRequest, ReviewState

from .scoping import ReadOnlyAdmin, ScopedInline, TeamScopedAdmin


def review_page_url(deposit_id: int) -> str:
    """The portal's review page of a deposit (deposits/views/curation.py)."""
    return reverse("review", args=[deposit_id])


def waited(since: Any, until: Any = None) -> str:
    hours = ((until or timezone.now()) - since).total_seconds() / 3600
    if hours < 1:
        return f"{max(0, round(hours * 60))} min"
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.0f} days"


class ReviewStateFilter(admin.SimpleListFilter):
    """The queue opens on what awaits review; the decided ones are one click away."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*[(s.value, s.label) for s in ReviewState if s != ReviewState.OPEN], ("all", "All")]

    def choices(self, changelist: Any) -> Any:
        value = self.value() or ReviewState.OPEN
        yield {
            "selected": value == ReviewState.OPEN,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": ReviewState.OPEN.label,
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value() or ReviewState.OPEN
        return queryset if value == "all" else queryset.filter(state=value)


class CommentInline(ScopedInline):
    model = Comment
    fields = readonly_fields = ("created", "author", "kind", "body")
    show_change_link = False


@admin.register(ReviewRequest)
class ReviewRequestAdmin(TeamScopedAdmin):
    """Read-mostly: decisions go through the lifecycle (approve here, return on the
    review page, where the reason is written)."""

    team_path = "deposit__team"
    change_role = ""
    list_display = [
        "deposit",
        "team",
        "submitted_by",
        "submitted_at",
        "waiting",
        "state",
        "decided_by",
        "review_link",
    ]
    list_filter = [ReviewStateFilter]
    ordering = ["submitted_at", "pk"]
    search_fields = ["deposit__title", "submitted_by__username", "reason"]
    list_select_related = ["deposit__team", "submitted_by", "decided_by"]
    readonly_fields = (
        "deposit",
        "state",
        "target_list",
        "submitted_by",
        "submitted_at",
        "waiting",
        "decided_by",
        "decided_at",
        "reason",
        "review_link",
    )
    fields = readonly_fields
    inlines = [CommentInline]
    actions = ["approve"]

    @admin.display(description="Team")
    def team(self, obj: ReviewRequest) -> str:
        return str(obj.deposit.team)

    @admin.display(description="Waiting")
    def waiting(self, obj: ReviewRequest) -> str:
        if obj.state != ReviewState.OPEN:
            return f"decided after {waited(obj.submitted_at, obj.decided_at)}"
        return waited(obj.submitted_at)

    @admin.display(description="Targets")
    def target_list(self, obj: ReviewRequest) -> str:
        return ", ".join(f"{t.account.label} ({t.get_state_display()})" for t in obj.targets.all())

    @admin.display(description="Review page")
    def review_link(self, obj: ReviewRequest) -> SafeString:
        label = "Review, return with a reason…" if obj.state == ReviewState.OPEN else "Open"
        return format_html('<a href="{}">{}</a>', review_page_url(obj.deposit_id), label)

    @admin.action(description="Approve the selected deposits")
    def approve(self, request: HttpRequest, queryset: QuerySet[ReviewRequest]) -> None:
        for item in queryset.select_related("deposit"):
            deposit = item.deposit
            if item.state != ReviewState.OPEN:
                self.message_user(
                    request,
                    f"{deposit}: not approved, it is {item.get_state_display().lower()}.",
                    messages.WARNING,
                )
                continue
            try:
                review.approve(deposit, user=request.user)
            except (lifecycle.NotAllowed, PermissionDenied) as exc:
                self.message_user(request, f"{deposit}: not approved. {exc}", messages.WARNING)
            else:
                self.message_user(
                    request, f"{deposit}: approved, it is being published.", messages.SUCCESS
                )


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    """The threads: written in the portal (``review.add_comment``), kept as they were."""

    team_path = "deposit__team"
    list_display = ["created", "deposit", "author", "kind", "body"]
    list_filter = ["kind"]
    search_fields = ["body", "deposit__title", "author__username"]
    list_select_related = ["deposit", "author"]
    date_hierarchy = "created"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created", "user", "kind", "deposit", "read_at", "email_wanted", "emailed_at"]
    list_filter = ["kind", "email_wanted", ("team", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["message", "user__username", "deposit__title", "email_error"]
    list_select_related = ["user", "deposit"]
    date_hierarchy = "created"


@admin.register(EmailChoice)
class EmailChoiceAdmin(TeamScopedAdmin):
    """Each person's e-mail choices (they make them in the portal); a superuser may fix one."""

    team_path = "user__memberships__team"
    scope_distinct = True
    change_role = "superuser"
    list_display = ["user", "kind", "email"]
    list_filter = ["kind", "email"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser
