"""The curators' side: every model, searchable; tokens write-only; the audit read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from deposits import lifecycle
from deposits.models import (
    ApiCall,
    Deposit,
    DepositFile,
    Event,
    Identifier,
    LinkedAccount,
    Membership,
    RemoteFile,
    Target,
    Team,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """The audit trail and the API log are written by the system, never by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --------------------------------------------------------------------------- teams


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__email", "team__name"]
    autocomplete_fields = ["user", "team"]


# --------------------------------------------------------------------------- accounts


class LinkedAccountForm(forms.ModelForm):
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


@admin.register(LinkedAccount)
class LinkedAccountAdmin(admin.ModelAdmin):
    form = LinkedAccountForm
    list_display = ["label", "kind", "team", "status", "identity", "token_hint", "last_checked_at"]
    list_filter = ["kind", "status", "team"]
    search_fields = ["label", "identity", "base_url", "team__name"]
    readonly_fields = [
        "token_hint",
        "identity",
        "status",
        "last_checked_at",
        "last_error",
        "created",
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
        "rate_windows",
        "settings",
        "created",
    ]
    actions = ["verify_tokens"]

    @admin.action(description="Check the tokens of the selected accounts")
    def verify_tokens(self, request: HttpRequest, queryset: QuerySet[LinkedAccount]) -> None:
        for account in queryset:
            lifecycle.verify_account(account, user=request.user)
        self.message_user(request, f"Checking {queryset.count()} account(s).")


# --------------------------------------------------------------------------- deposits


class DepositFileInline(admin.TabularInline):
    model = DepositFile
    extra = 0
    fields = readonly_fields = ("name", "size", "status", "md5", "sha256")
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0
    fields = readonly_fields = ("account", "state", "remote_id", "published_at", "last_error")
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Deposit)
class DepositAdmin(admin.ModelAdmin):
    list_display = ["__str__", "team", "created_by", "updated"]
    list_filter = ["team", "targets__state"]
    search_fields = ["title", "team__name"]
    readonly_fields = ["title", "created", "updated"]
    list_select_related = ["team", "created_by"]
    inlines = [TargetInline, DepositFileInline]
    date_hierarchy = "updated"


@admin.register(DepositFile)
class DepositFileAdmin(admin.ModelAdmin):
    list_display = ["name", "deposit", "size", "status", "md5", "created"]
    list_filter = ["status"]
    search_fields = ["name", "md5", "sha256", "deposit__title"]
    readonly_fields = ["uid", "size", "received", "md5", "sha256", "blob", "created"]
    list_select_related = ["deposit"]


class IdentifierInline(admin.TabularInline):
    model = Identifier
    extra = 0
    fields = readonly_fields = ("scheme", "value", "url", "scope")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RemoteFileInline(admin.TabularInline):
    model = RemoteFile
    extra = 0
    fields = readonly_fields = (
        "name",
        "status",
        "bytes_sent",
        "remote_checksum",
        "attempts",
        "last_error",
    )
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TargetAdmin(admin.ModelAdmin):
    list_display = ["deposit", "account", "state", "action", "current_step", "remote_id", "updated"]
    list_filter = [
        "state",
        "account__kind",
        ("account__team", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["deposit__title", "remote_id", "account__label"]
    list_select_related = ["deposit", "account"]
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
    ]
    fields = ["options", *readonly_fields]
    inlines = [IdentifierInline, RemoteFileInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


admin.site.register(Target, TargetAdmin)


@admin.register(RemoteFile)
class RemoteFileAdmin(ReadOnlyAdmin):
    list_display = ["name", "target", "status", "bytes_sent", "attempts"]
    list_filter = ["status"]
    search_fields = ["name", "remote_id", "target__deposit__title"]
    list_select_related = ["target__deposit", "target__account"]


@admin.register(Identifier)
class IdentifierAdmin(ReadOnlyAdmin):
    list_display = ["value", "scheme", "scope", "target", "created"]
    list_filter = ["scheme", "scope"]
    search_fields = ["value", "target__deposit__title"]
    list_select_related = ["target__deposit", "target__account"]


# --------------------------------------------------------------------------- audit


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
    list_filter = ["kind", "to_state", "team"]
    search_fields = ["message", "deposit__title", "actor__username", "actor_label"]
    list_select_related = ["team", "deposit", "target__account", "actor"]
    date_hierarchy = "created"


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAdmin):
    list_display = ["created", "method", "url", "status", "duration_ms", "account", "target"]
    list_filter = ["method", "status", ("account", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["url", "error"]
    list_select_related = ["account", "target__deposit"]
    date_hierarchy = "created"
