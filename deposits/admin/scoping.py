"""Who sees what in the admin: curators their own teams' objects, superusers all.

Keyed on the team roles (``access.curator_team_ids``), not on Django's model
permissions: a staff curator works without per-model permissions, and a staff user who
curates no team sees nothing. Another team's object is simply not there (the admin
answers as for an id that does not exist).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from deposits import access


def curated_team_ids(request: HttpRequest) -> set[int]:
    """The teams ``request.user`` curates (cached on the request: many checks per page)."""
    cached: set[int] | None = getattr(request, "_curated_team_ids", None)
    if cached is None:
        cached = access.curator_team_ids(request.user)
        request._curated_team_ids = cached  # type: ignore[attr-defined]
    return cached


def is_staff_curator(request: HttpRequest) -> bool:
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    return bool(user.is_superuser or curated_team_ids(request))


def managed_team_ids(request: HttpRequest) -> set[int]:
    """The teams whose shared things (accounts, policy) ``request.user`` may change."""
    if request.user.is_superuser:
        return curated_team_ids(request)
    return access.admin_team_ids(request.user) & curated_team_ids(request)


class TeamScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose rows belong to a team through ``team_path``.

    ``change_role``: "curator" (a curator of the object's team may change it), "admin"
    (only an admin of the team: its accounts, policy and people) or "" (nobody: written
    by the system). Adding and deleting is left to superusers unless a subclass says so.
    """

    team_path = "team"
    change_role = "curator"
    scope_distinct = False  # the path crosses a to-many relation (a user's memberships)

    # ------------------------------------------------------------------ rows

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return self.scope(qs, curated_team_ids(request))

    def scope(self, qs: QuerySet[Any], team_ids: set[int]) -> QuerySet[Any]:
        qs = qs.filter(**{f"{self.team_path}__in": team_ids})
        return qs.distinct() if self.scope_distinct else qs

    # ------------------------------------------------------------------ permissions

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_staff_curator(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not is_staff_curator(request):
            return False
        return obj is None or request.user.is_superuser or self._in(obj, curated_team_ids(request))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.change_role or not is_staff_curator(request):
            return False
        if request.user.is_superuser:
            return True
        teams = managed_team_ids(request) if self.change_role == "admin" else None
        teams = curated_team_ids(request) if teams is None else teams
        return bool(teams) if obj is None else self._in(obj, teams)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return bool(self.change_role) and request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(self.change_role) and request.user.is_active and request.user.is_superuser

    def _in(self, obj: Model, team_ids: set[int]) -> bool:
        return self.scope(self.model.objects.filter(pk=obj.pk), team_ids).exists()

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        """The form class, knowing who asks (the lifecycle checks their role too)."""
        base = super().get_form(request, obj, change=change, **kwargs)
        return type(base.__name__, (base,), {"request": request})

    # ------------------------------------------------------------------ choices

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        limited = self.scoped_choices(db_field.related_model, request)
        if limited is not None:
            kwargs["queryset"] = limited
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        limited = self.scoped_choices(db_field.related_model, request)
        if limited is not None:
            kwargs["queryset"] = limited
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def scoped_choices(self, model: type[Model], request: HttpRequest) -> QuerySet[Any] | None:
        """The rows of ``model`` a form may offer: those of the curator's own teams."""
        if request.user.is_superuser:
            return None
        if model is get_user_model():
            teams = curated_team_ids(request)
            return model.objects.filter(memberships__team_id__in=teams).distinct()
        related = self.admin_site._registry.get(model)
        if isinstance(related, TeamScopedAdmin):
            return related.get_queryset(request)
        return None


class ScopedInline(admin.TabularInline):
    """An inline that shows what the system wrote: its parent's permissions, read-only."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_staff_curator(request)


class ReadOnlyAdmin(TeamScopedAdmin):
    """The audit trail and the API log are written by the system, never by hand."""

    change_role = ""
