"""Deposits in the admin: the metadata edited through the portal's own validated editor
(never a raw JSON box), the targets, files, reviews and the audit trail."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.safestring import SafeString

from deposits import access, lifecycle
from deposits.forms import MetadataEditor
from deposits.forms.metadata import edit_rows
from deposits.models import Deposit, DepositFile, ReviewRequest, Target

from .audit import audit_trail
from .scoping import ScopedInline, TeamScopedAdmin


class DepositAdminForm(forms.ModelForm):
    """No model field of its own: the metadata editor of the portal, bound alongside.

    ``request`` and ``row_data`` are set on a per-request subclass (``get_form``).
    """

    request: HttpRequest
    row_data: Any = None  # posted data with a row added or removed: shown, not saved

    class Meta:
        model = Deposit
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        deposit: Deposit = self.instance
        data = self.data if self.is_bound else self.row_data
        self.editor = MetadataEditor(cast(Any, data), metadata=deposit.metadata)
        # For the template, which would look ``editor.form`` up as a group key first.
        self.metadata_form, self.metadata_groups = self.editor.form, self.editor.groups
        targets = list(deposit.targets.select_related("account"))
        reviewer = access.can_review(self.request.user, deposit.team)
        self.locked = lifecycle.edit_locked_reason(targets, "metadata", reviewer=reviewer)
        self.targets = targets

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.locked:
            raise forms.ValidationError(f"Not saved: {self.locked}")
        if not self.editor.is_valid():
            count = self.editor.error_count()
            raise forms.ValidationError(
                f"Not saved: fix the {count} field{'s' if count != 1 else ''} marked below."
            )
        return data


class TargetInline(ScopedInline):
    model = Target
    fields = readonly_fields = ("account", "state", "remote_id", "published_at", "last_error")


class DepositFileInline(ScopedInline):
    model = DepositFile
    fields = readonly_fields = ("name", "size", "status", "md5", "sha256")


class ReviewInline(ScopedInline):
    model = ReviewRequest
    fields = readonly_fields = ("state", "submitted_by", "submitted_at", "decided_by", "reason")


def bulk_url(ids: list[int]) -> str:
    """The portal's bulk page for these deposits (deposits/views/bulk.py)."""
    return f"{reverse('bulk')}?ids={','.join(str(i) for i in ids)}"


@admin.register(Deposit)
class DepositAdmin(TeamScopedAdmin):
    form = DepositAdminForm
    list_display = ["__str__", "team", "created_by", "updated"]
    list_filter = [("team", admin.RelatedOnlyFieldListFilter), "targets__state"]
    search_fields = ["title", "team__name"]
    readonly_fields = ("title", "team", "created_by", "created", "updated", "audit")
    fields = readonly_fields
    list_select_related = ["team", "created_by"]
    inlines = [TargetInline, DepositFileInline, ReviewInline]
    date_hierarchy = "updated"
    save_on_top = True  # Enter in a field saves (the first button), never removes a row
    actions = ["bulk_action"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        base = super().get_form(request, obj, change=change, **kwargs)
        row_data = getattr(request, "_metadata_rows", None)
        return type(base.__name__, (base,), {"row_data": row_data})

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # deposits start in the portal (a team, a title, its targets)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        op = request.POST.get("row", "") if request.method == "POST" else ""
        if op and object_id:
            # Add or remove a row of a repeating group: shown again, nothing saved yet.
            request._metadata_rows = edit_rows(request.POST, op)  # type: ignore[attr-defined]
            request.method = "GET"
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Deposit, form: Any, change: bool) -> None:
        """The portal's own save: the same record, the same audit line, the same lock (a
        curator may correct a deposit under review; the thread says so)."""
        try:
            lifecycle.save_metadata(obj, form.editor.to_metadata, user=request.user, reviewer=True)
        except lifecycle.NotAllowed as exc:
            messages.error(request, f"Not saved: {exc}")
        obj.refresh_from_db()

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return super().log_change(request, obj, "Edited the metadata")

    def view_on_site(self, obj: Deposit) -> str:
        return reverse("deposit", args=[obj.pk])

    @admin.display(description="Audit trail")
    def audit(self, deposit: Deposit) -> SafeString:
        return audit_trail(deposit)

    @admin.action(description="Bulk action…")
    def bulk_action(self, request: HttpRequest, queryset: QuerySet[Deposit]) -> HttpResponse:
        ids = sorted(queryset.values_list("pk", flat=True))
        return HttpResponseRedirect(bulk_url(ids))


@admin.register(DepositFile)
class DepositFileAdmin(TeamScopedAdmin):
    team_path = "deposit__team"
    change_role = ""  # files change in the portal, where uploads are checked and hashed
    list_display = ["name", "deposit", "size", "status", "md5", "created"]
    list_filter = ["status"]
    search_fields = ["name", "md5", "sha256", "deposit__title"]
    readonly_fields = ["uid", "size", "received", "md5", "sha256", "blob", "created"]
    list_select_related = ["deposit"]
