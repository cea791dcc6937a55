"""Release sources as people see them: the team's list, linking one (its secret shown
once, with the steps to paste it into the forge), a source's deliveries and releases,
a release's preview and what became of it, and the admins' buttons.

Every member sees everything but the secret; only an admin changes anything
(``deposits.releases.sources`` says who may, and writes the audit trail).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deposits import access
from deposits.lifecycle.states import NotAllowed
from deposits.models import (
    RELEASE_PENDING,
    Deposit,
    Forge,
    MissedRelease,
    Release,
    ReleaseSource,
    ReleaseStatus,
    Team,
)
from deposits.releases import sources

from .request import HtmxHttpRequest

DELIVERIES_SHOWN = 25
RELEASES_SHOWN = 50
# A release page refreshes itself while a worker may still change what it shows.
STILL_MOVING = {*RELEASE_PENDING, ReleaseStatus.PUBLISHING}


# --------------------------------------------------------------------------- forms


class SourceForm(forms.Form):
    deposit = forms.ModelChoiceField(
        queryset=Deposit.objects.none(),
        help_text="Each release becomes a new version of this deposit.",
    )
    forge = forms.ChoiceField(choices=Forge.choices, label="Code forge")
    repository = forms.CharField(
        max_length=300,
        help_text="GitHub: owner/name. GitLab: group/project (or group/sub/project).",
    )
    api_url = forms.CharField(
        label="API URL",
        required=False,
        max_length=500,
        help_text="Leave empty for github.com or gitlab.com; e.g. https://gitlab.example.org/api/v4.",
    )
    token = forms.CharField(
        label="Forge token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Only for a private repository (read access to its releases). Stored "
        "encrypted and never shown again.",
    )
    include_drafts = forms.BooleanField(required=False, label="Import draft releases too")
    include_prereleases = forms.BooleanField(required=False, label="Import pre-releases too")
    missed = forms.ChoiceField(
        label="A release no webhook brought (found by the periodic listing)",
        choices=MissedRelease.choices,
        widget=forms.RadioSelect,
        initial=MissedRelease.IMPORT,
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["deposit"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Deposit.objects.filter(team=team).order_by("title")
        field.error_messages["invalid_choice"] = (
            f"That deposit is not one of {team}'s: choose one of the team's deposits."
        )


class SourceEditForm(SourceForm):
    remove_token = forms.BooleanField(required=False, label="Remove the stored token")
    enabled = forms.BooleanField(
        required=False, label="Switched on (off: deliveries are refused, no listing)"
    )

    field_order = [
        *SourceForm.base_fields,
        "remove_token",
        "enabled",
    ]

    def __init__(self, *args: Any, source: ReleaseSource, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "deposit": source.deposit_id,
                "forge": source.forge,
                "repository": source.repository,
                "api_url": source.api_url,
                "include_drafts": source.include_drafts,
                "include_prereleases": source.include_prereleases,
                "missed": source.missed,
                "enabled": source.enabled,
            },
        )
        super().__init__(*args, team=source.team, **kwargs)
        self.fields["token"].help_text = (
            f"Empty: keep the stored one ({source.token_hint or 'none'}). Needed again when "
            "the forge or the API URL changes."
        )


def _add_problem(form: forms.Form, exc: NotAllowed) -> None:
    field = getattr(exc, "field", None)
    form.add_error(field if field in form.fields else None, str(exc))


def _no_store(response: HttpResponse) -> HttpResponse:
    """A page with a secret on it: never kept by the browser or a proxy."""
    response["Cache-Control"] = "no-store"
    return response


def _is_web_link(url: str) -> bool:
    """A forge's link is shown only as http(s): anything else it sends is text."""
    return url.startswith(("https://", "http://"))


# --------------------------------------------------------------------------- pages


@require_GET
@login_required
def source_list(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The team's sources; with ?deposit=<pk>, the small section of that deposit's page."""
    team = access.get_team_for(request.user, pk)
    manageable = team.pk in access.admin_team_ids(request.user)
    found = (
        ReleaseSource.objects.filter(team=team)
        .select_related("deposit")
        .order_by("deposit__title", "repository")
    )
    deposit_id = request.GET.get("deposit", "")
    if deposit_id.isdigit():
        deposit = access.get_deposit_for(request.user, int(deposit_id))
        latest = [(s, s.releases.first()) for s in found.filter(deposit=deposit)]
        return render(
            request,
            "releases/deposit-section.html",
            {"deposit": deposit, "rows": latest, "manageable": manageable},
        )
    rows = [(s, s.deliveries.first(), s.releases.first()) for s in found]
    return render(
        request,
        "releases/sources.html",
        {"team": team, "rows": rows, "manageable": manageable},
    )


@sensitive_post_parameters("token")
@require_http_methods(["GET", "POST"])
@login_required
def source_new(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    team = access.get_team_for(request.user, pk)
    access.require_admin(request.user, team, "link repositories as release sources")
    initial = {"deposit": request.GET.get("deposit") or None, "missed": MissedRelease.IMPORT}
    form = SourceForm(request.POST or None, team=team, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            source, secret = sources.create_source(
                data["deposit"],
                forge=data["forge"],
                repository=data["repository"],
                api_url=data["api_url"],
                token=data["token"],
                include_drafts=data["include_drafts"],
                include_prereleases=data["include_prereleases"],
                missed=data["missed"],
                user=request.user,
            )
        except NotAllowed as exc:
            _add_problem(form, exc)
        else:
            return _secret_page(request, source, secret, new=True)
    return render(request, "releases/source-form.html", {"team": team, "form": form})


def _secret_page(
    request: HtmxHttpRequest, source: ReleaseSource, secret: str, *, new: bool
) -> HttpResponse:
    context = {
        "source": source,
        "secret": secret,
        "new": new,
        "endpoint": sources.endpoint_url(source),
        "repository_url": sources.repository_url(source),
    }
    return _no_store(render(request, "releases/source-secret.html", context))


@require_GET
@login_required
def source_page(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A source: its settings, endpoint, deliveries and releases (the activity part is
    polled while the page is open)."""
    source = access.get_source_for(request.user, pk)
    context = {
        "source": source,
        "endpoint": sources.endpoint_url(source),
        "repository_url": sources.repository_url(source),
        "manageable": source.team_id in access.admin_team_ids(request.user),
        "deliveries": source.deliveries.select_related("release")[:DELIVERIES_SHOWN],
        "releases": source.releases.all()[:RELEASES_SHOWN],
        "replayable": sources.REPLAYABLE,
    }
    if request.htmx:
        return render(request, "releases/source.html#activity", context)
    return render(request, "releases/source.html", context)


@sensitive_post_parameters("token")
@require_http_methods(["GET", "POST"])
@login_required
def source_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    source = access.get_source_for(request.user, pk)
    access.require_admin(request.user, source.team, "change its release sources")
    form = SourceEditForm(request.POST or None, source=source)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            changed = sources.update_source(source, user=request.user, **data)
        except NotAllowed as exc:
            _add_problem(form, exc)
        else:
            messages.success(request, f"Saved {source}." if changed else "Nothing changed.")
            return redirect("release-source", pk=source.pk)
    return render(
        request, "releases/source-form.html", {"team": source.team, "form": form, "source": source}
    )


@require_http_methods(["GET", "POST"])
@login_required
def source_secret(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Rotate the secret: asked first (the forge's hook stops working until it has the new
    one), then the new secret is shown once."""
    source = access.get_source_for(request.user, pk)
    access.require_admin(request.user, source.team, "rotate the secrets of its release sources")
    if request.method == "GET" or not request.POST.get("confirmed"):
        return _confirm(
            request,
            source,
            title=f"New secret for {source}?",
            consequences=[
                "The current secret stops working at once: deliveries signed with it are "
                "refused until you paste the new one into the forge's webhook settings.",
                "The new secret is shown once, on the next page.",
                "A release published meanwhile is not lost: the periodic listing finds it.",
            ],
            action="release-source-secret",
            label="Make a new secret",
            danger=False,
        )
    secret = sources.rotate_secret(source, user=request.user)
    return _secret_page(request, source, secret, new=False)


@require_http_methods(["GET", "POST"])
@login_required
def source_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    source = access.get_source_for(request.user, pk)
    access.require_admin(request.user, source.team, "delete its release sources")
    if request.method == "GET" or not request.POST.get("confirmed"):
        return _confirm(
            request,
            source,
            title=f"Delete the release source {source}?",
            consequences=[
                "Its endpoint answers 404 from now on: remove the webhook on the forge too.",
                "Its delivery log and its list of releases are deleted; the versions already "
                f"made of {source.deposit} stay, with their history.",
            ],
            action="release-source-delete",
            label="Delete release source",
            danger=True,
        )
    team_pk = source.team_id
    sources.delete_source(source, user=request.user)
    messages.success(request, f"Deleted the release source {source}.")
    return redirect("release-sources", pk=team_pk)


def _confirm(
    request: HtmxHttpRequest,
    source: ReleaseSource,
    *,
    title: str,
    consequences: list[str],
    action: str,
    label: str,
    danger: bool,
) -> HttpResponse:
    context = {
        "title": title,
        "consequences": consequences,
        "action_url": reverse(action, args=[source.pk]),
        "cancel_url": reverse("release-source", args=[source.pk]),
        "confirm_label": label,
        "danger": danger,
        "irreversible": danger,
        "action": action,
    }
    return render(request, "confirm.html", context)


@require_POST
@login_required
def source_list_now(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    source = access.get_source_for(request.user, pk)
    try:
        sources.list_now(source, user=request.user)
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.info(
            request,
            f"Listing the releases of {source} now: new ones appear below in a moment.",
        )
    return redirect("release-source", pk=source.pk)


@require_POST
@login_required
def source_check(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    source = access.get_source_for(request.user, pk)
    try:
        sources.check_token(source, user=request.user)
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, f"Checking the token of {source}: its status shows here shortly.")
    return redirect("release-source", pk=source.pk)


@require_GET
@login_required
def release_page(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    release = access.get_release_for(request.user, pk)
    changes = release.changes or {}
    return render(
        request,
        "releases/release.html",
        {
            "release": release,
            "source": release.source,
            "fields": changes.get("fields") or [],
            "files": changes.get("files") or [],
            "changes": changes,
            "manageable": release.source.team_id in access.admin_team_ids(request.user),
            "can_replay": sources.can_replay(release),
            "pending": release.status in STILL_MOVING,
            "forge_link": release.html_url if _is_web_link(release.html_url) else "",
            "deliveries": release.deliveries.all()[:DELIVERIES_SHOWN],
        },
    )


@require_POST
@login_required
def release_replay(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    release: Release = access.get_release_for(request.user, pk)
    try:
        sources.replay(release, user=request.user)
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Importing {release.tag} now: it becomes a new version shortly.")
    return redirect("release", pk=release.pk)


urlpatterns = [
    path("teams/<int:pk>/releases/", source_list, name="release-sources"),
    path("teams/<int:pk>/releases/new/", source_new, name="release-source-new"),
    path("releases/<int:pk>/", source_page, name="release-source"),
    path("releases/<int:pk>/edit/", source_edit, name="release-source-edit"),
    path("releases/<int:pk>/secret/", source_secret, name="release-source-secret"),
    path("releases/<int:pk>/delete/", source_delete, name="release-source-delete"),
    path("releases/<int:pk>/list/", source_list_now, name="release-source-list"),
    path("releases/<int:pk>/check/", source_check, name="release-source-check"),
    path("releases/r/<int:pk>/", release_page, name="release"),
    path("releases/r/<int:pk>/replay/", release_replay, name="release-replay"),
]
