"""Teams (with their review policy), memberships and linked accounts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from deposits import access, lifecycle
from deposits.lifecycle.teams import POLICY_FIELDS, set_account_review, set_team_policy
from deposits.models import LinkedAccount, Membership, State, Team

from .scoping import TeamScopedAdmin, is_staff_curator, managed_team_ids


class MembershipInline(admin.TabularInline):
    """People are added by a superuser (the user picker lists every account)."""

    model = Membership
    extra = 1
    autocomplete_fields = ["user"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_staff_curator(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser


class RequestForm(forms.ModelForm):
    """A model form that knows who is asking (set by ``get_form``)."""

    request: HttpRequest

    def require_admin(self, changed: list[str], what: str) -> None:
        """Refuse a change of ``changed`` fields the lifecycle would refuse (not an admin)."""
        team = self.instance.team if isinstance(self.instance, LinkedAccount) else self.instance
        if changed and self.instance.pk is not None:
            try:
                access.require_admin(self.request.user, team, what)
            except PermissionDenied as exc:
                raise forms.ValidationError(str(exc)) from None


class TeamForm(RequestForm):
    class Meta:
        model = Team
        fields = ["name", "slug", *POLICY_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        changed = [name for name in POLICY_FIELDS if name in self.changed_data]
        self.require_admin(changed, "change its review policy")
        return data


@admin.register(Team)
class TeamAdmin(TeamScopedAdmin):
    team_path = "pk"
    change_role = "admin"  # the policy is the team admins' to set
    list_display = ["name", "slug", "review_required", "self_approval", "members_review"]
    list_filter = ["review_required", "self_approval", "members_review"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug"]}),
        ("Review policy", {"fields": ["review_required", "self_approval", "members_review"]}),
    ]
    inlines = [MembershipInline]
    form = TeamForm

    def save_model(self, request: HttpRequest, obj: Team, form: Any, change: bool) -> None:
        """The policy changes through the lifecycle (checked, written to the audit trail)."""
        wanted = {name: bool(form.cleaned_data.get(name)) for name in POLICY_FIELDS}
        changed = change and any(name in form.changed_data for name in POLICY_FIELDS)
        if changed:
            stored = Team.objects.get(pk=obj.pk)
            for name in POLICY_FIELDS:
                setattr(obj, name, getattr(stored, name))
        super().save_model(request, obj, form, change)
        if changed:
            set_team_policy(obj, user=request.user, **wanted)

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        return self.prepopulated_fields if self.has_change_permission(request, obj) else {}


@admin.register(Membership)
class MembershipAdmin(TeamScopedAdmin):
    change_role = "superuser"  # see MembershipInline
    list_display = ["user", "team", "role"]
    list_filter = ["role", ("team", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "user__email", "team__name"]
    autocomplete_fields = ["user", "team"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser


class LinkedAccountForm(RequestForm):
    new_token = forms.CharField(
        label="New token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Write-only: leave empty to keep the current token.",
    )

    class Meta:
        model = LinkedAccount
        fields = [
            "team",
            "kind",
            "label",
            "base_url",
            "expires_at",
            "review",
            "rate_windows",
            "settings",
        ]

    def clean_base_url(self) -> str:
        try:
            return lifecycle.check_base_url(self.cleaned_data["base_url"])
        except lifecycle.NotAllowed as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.require_admin(
            ["review"] if "review" in self.changed_data else [], "change its linked accounts"
        )
        if self.instance.pk is None and not data.get("new_token"):
            self.add_error("new_token", "A new account needs a token.")
        return data

    def save(self, commit: bool = True) -> LinkedAccount:
        account: LinkedAccount = super().save(commit=False)
        if self.cleaned_data.get("new_token"):
            account.set_token(self.cleaned_data["new_token"])
        if commit:
            account.save()
        return account


def _seconds(value: Any) -> str:
    if value is None:
        return "unknown"
    seconds = int(value)
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def _window(seconds: int) -> str:
    return {60: "minute", 3600: "hour", 86400: "day"}.get(seconds, f"{seconds} s")


def budget_lines(account: LinkedAccount) -> list[str]:
    """One line per rate window: what is used of it and when it resets."""
    lines = []
    for w in lifecycle.account_budget(account):
        used = "unknown" if w.get("used") is None else str(w["used"])
        line = f"{used} of {w['limit']} per {_window(int(w['seconds']))} used"
        if w.get("remaining") is not None:
            line += f", {w['remaining']} left, resets in {_seconds(w.get('resets_in'))}"
        if w.get("blocked_until"):
            line += " (paused: the repository asked to wait)"
        lines.append(line)
    return lines


@admin.register(LinkedAccount)
class LinkedAccountAdmin(TeamScopedAdmin):
    form = LinkedAccountForm
    change_role = "admin"
    list_display = [
        "label",
        "kind",
        "team",
        "status",
        "identity",
        "token_hint",
        "queue",
        "rate_budget_short",
        "last_checked_at",
    ]
    list_filter = ["kind", "status", ("team", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["label", "identity", "base_url", "team__name"]
    readonly_fields = [
        "token_hint",
        "identity",
        "status",
        "last_checked_at",
        "last_error",
        "created",
        "queue",
        "rate_budget",
    ]
    fields = [
        "team",
        "kind",
        "label",
        "base_url",
        "new_token",
        "token_hint",
        "expires_at",
        "identity",
        "status",
        "last_checked_at",
        "last_error",
        "review",
        "queue",
        "rate_budget",
        "rate_windows",
        "settings",
        "created",
    ]
    actions = ["verify_tokens"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                queued=Count("targets", filter=Q(targets__state=State.QUEUED)),
                working=Count("targets", filter=Q(targets__state=State.WORKING)),
            )
        )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "team" and not request.user.is_superuser:
            kwargs["queryset"] = Team.objects.filter(pk__in=managed_team_ids(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: LinkedAccount, form: Any, change: bool) -> None:
        """Whether it needs review changes through the lifecycle (audited)."""
        rule = form.cleaned_data.get("review", "")
        if change and "review" in form.changed_data:
            obj.review = LinkedAccount.objects.get(pk=obj.pk).review
            super().save_model(request, obj, form, change)
            set_account_review(obj, user=request.user, rule=rule)
        else:
            super().save_model(request, obj, form, change)

    @admin.display(description="Queue")
    def queue(self, account: LinkedAccount) -> str:
        queued = getattr(account, "queued", None)
        working = getattr(account, "working", None)
        if queued is None or working is None:
            counts = account.targets.filter(state__in=[State.QUEUED, State.WORKING])
            queued = counts.filter(state=State.QUEUED).count()
            working = counts.filter(state=State.WORKING).count()
        return f"{queued} queued, {working} working"

    @admin.display(description="Rate budget")
    def rate_budget(self, account: LinkedAccount) -> SafeString:
        if account.pk is None:
            return SafeString("")
        return format_html_join(
            SafeString("<br>"), "{}", ((line,) for line in budget_lines(account))
        )

    @admin.display(description="Budget")
    def rate_budget_short(self, account: LinkedAccount) -> str:
        return "; ".join(line.split(",")[0] for line in budget_lines(account))

    @admin.action(description="Check the tokens of the selected accounts")
    def verify_tokens(self, request: HttpRequest, queryset: QuerySet[LinkedAccount]) -> None:
        for account in queryset:
            lifecycle.verify_account(account, user=request.user)
        self.message_user(request, f"Checking {queryset.count()} account(s).")
