"""The Coscine panel's views: thin, each a change through ``lifecycle.set_target_options``
(or a queued action) and the panel drawn again (``panel``) with the refusal, if any.
Every target is looked up through ``access`` (another team's target answers 404).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from deposits import access, lifecycle
from deposits.lifecycle.states import QueueUnreachable
from deposits.models import Action, Target
from deposits.views.panels import Panel
from deposits.views.request import HtmxHttpRequest

from .connector import CoscineConnector
from .panel import (
    ALL_FILES,
    FIXED_KEYS,
    KEY_PREFIXES,
    LOCAL_DATETIME,
    PANEL,
    WHAT,
    fallback_values,
    live_files,
    panel_context,
    profile_source,
    project_services,
    stored_reason,
)


def _coscine_target(request: HtmxHttpRequest, pk: int) -> Target:
    target = access.get_target_for(request.user, pk)
    if target.account.kind != CoscineConnector.kind:
        raise Http404("Not a Coscine target")
    return target


def render_panel(
    request: HtmxHttpRequest, target: Target, *, scope: str = "", error: str = ""
) -> HttpResponse:
    shown = Panel(PANEL, target, panel_context(target, scope=scope))
    return render(request, PANEL, {"panel": shown, "error": error, "saved": False})


def _answer(
    request: HtmxHttpRequest, target: Target, error: str, *, scope: str = ""
) -> HttpResponse:
    """The panel again after a change (with the refusal, if any), or the deposit page."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(reverse("deposit", args=[target.deposit_id]) + f"#coscine-{target.pk}")
    shown = Panel(PANEL, target, panel_context(target, scope=scope))
    response = render(request, PANEL, {"panel": shown, "error": error, "saved": not error})
    if not error:
        # the target's readiness and actions on its card follow the options
        trigger_client_event(response, "target-changed")
    return response


def _save(
    request: HtmxHttpRequest, target: Target, changes: dict[str, Any], message: str
) -> tuple[Target, str]:
    try:
        target = lifecycle.set_target_options(
            target, changes, user=request.user, message=message, what=WHAT
        )
    except lifecycle.NotAllowed as exc:
        return target, str(exc)
    return target, ""


def _find(items: list[dict[str, Any]], value: str, key: str = "id") -> dict[str, Any] | None:
    return next((item for item in items if str(item.get(key)) == value), None)


@require_GET
@login_required
def coscine_panel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The panel alone: for htmx to poll while a lookup loads, and to open one file's form."""
    target = _coscine_target(request, pk)
    return render_panel(request, target, scope=str(request.GET.get("scope") or ""))


@require_POST
@login_required
def coscine_project(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Choose the project; the resource chosen in another project no longer applies."""
    target = _coscine_target(request, pk)
    if stored_reason(target):
        return _answer(request, target, stored_reason(target))
    chosen = str(request.POST.get("project") or "")
    projects = lifecycle.cached(target.account, "projects").data or []
    found = _find(projects, chosen) if chosen else None
    if chosen and found is None:
        return _answer(request, target, "That project is not among your Coscine projects.")
    project = (
        {
            "id": chosen,
            "name": found.get("display_name") or found.get("name"),
            "slug": found.get("slug"),
        }
        if found
        else None
    )
    if project == (target.options.get("project") or None):
        return _answer(request, target, "")
    target, error = _save(
        request,
        target,
        {"project": project, "resource": None, "new_resource": None},
        f"Coscine project: {project['name'] if project else 'none'}",
    )
    return _answer(request, target, error)


@require_POST
@login_required
def coscine_resource(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Choose an existing resource of the project (its profile comes with it), or "new"."""
    target = _coscine_target(request, pk)
    if stored_reason(target):
        return _answer(request, target, stored_reason(target))
    project_id = str((target.options.get("project") or {}).get("id") or "")
    chosen = str(request.POST.get("resource") or "")
    if chosen == "new":
        kept = target.options.get("new_resource") or {"quota_gib": 1}
        changes: dict[str, Any] = {"resource": None, "new_resource": kept}
        message = "Coscine: a new resource will be created"
    elif chosen:
        items = lifecycle.cached(target.account, f"resources:{project_id}").data or []
        found = _find(items, chosen)
        if found is None:
            return _answer(request, target, "That resource is not in the chosen project.")
        changes = {
            "resource": {
                "id": chosen,
                "name": found.get("display_name") or found.get("name"),
                "type": found.get("general_type"),
            },
            "new_resource": None,
            "application_profile": found.get("application_profile") or None,
        }
        message = f"Coscine resource: {changes['resource']['name']}"
    else:
        changes, message = {"resource": None, "new_resource": None}, "Coscine resource: none"
    target, error = _save(request, target, changes, message)
    return _answer(request, target, error)


def new_resource_from_post(post: Any) -> dict[str, Any]:
    """The resource form as ``options["new_resource"]`` (lengths are checked by the rules,
    so what was typed is kept and its problem shown next to it)."""
    keywords = [k.strip() for k in str(post.get("keywords", "")).replace("\n", ",").split(",")]
    quota = str(post.get("quota_gib", "")).strip()
    try:
        quota_gib: int | float | str = int(quota) if quota.isdigit() else float(quota)
    except ValueError:
        quota_gib = quota
    new = {
        "name": str(post.get("name", "")).strip(),
        "display_name": str(post.get("display_name", "")).strip(),
        "description": str(post.get("description", "")).strip(),
        "visibility": str(post.get("visibility", "")),
        "disciplines": [str(d) for d in post.getlist("disciplines") if d],
        "license": str(post.get("license", "")),
        "keywords": [k for k in keywords if k],
        "resource_type": str(post.get("resource_type", "")),
        "quota_gib": quota_gib,
    }
    return {k: v for k, v in new.items() if v not in ("", [])} or {"quota_gib": 1}


@require_POST
@login_required
def coscine_new_resource(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Save the form of the resource to create, with its application profile."""
    target = _coscine_target(request, pk)
    if stored_reason(target):
        return _answer(request, target, stored_reason(target))
    new = new_resource_from_post(request.POST)
    profile = str(request.POST.get("application_profile") or "") or None
    target, error = _save(
        request,
        target,
        {"new_resource": new, "resource": None, "application_profile": profile},
        f"Coscine new resource: {new.get('name') or 'unnamed'}",
    )
    return _answer(request, target, error)


def submitted_values(form: Any, post: Any) -> dict[str, list[str]]:
    """Each field's values from the form (inputs ``v-<n>`` of the fields it lists in
    ``fields``: an unticked box or an empty multiple choice sends nothing else); fixed
    ones are not the person's to give."""
    listed = {str(n) for n in post.getlist("fields")}
    values = {}
    for index, spec in enumerate(form.fields):
        if spec.fixed or str(index) not in listed:
            continue
        given = [str(v).strip() for v in post.getlist(f"v-{index}") if str(v).strip()]
        if spec.kind == "datetime":  # the browser's input leaves out ":00" seconds
            given = [v + ":00" if len(v) == 16 and LOCAL_DATETIME.match(v) else v for v in given]
        values[spec.key] = given
    return values


def own_values(form: Any, target: Target, scope: str, post: Any) -> dict[str, list[str]]:
    """What the scope keeps as its own: each value that differs from what it would hold
    anyway (so prefilled values keep following the description, and a file follows what
    all files have); a value emptied on purpose is kept as []."""
    fallback = fallback_values(form, target.options or {}, scope, target.deposit.metadata or {})
    return {
        key: given
        for key, given in submitted_values(form, post).items()
        if given != [str(v) for v in fallback.get(key) or []]
    }


@require_POST
@login_required
def coscine_metadata(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Save one scope's metadata form (all files, or one file); "reset" drops a file's
    own values so it follows all files again."""
    target = _coscine_target(request, pk)
    scope = str(request.POST.get("scope") or ALL_FILES)
    if scope != ALL_FILES and scope not in live_files(target):
        raise Http404("No such file in this deposit")
    uri = str(target.options.get("application_profile") or "")
    form = profile_source(target, uri)[1] if uri else None
    if form is None:
        message = "The application profile is still being fetched from Coscine: try again."
        return _answer(request, target, message, scope=scope)
    every = dict(target.options.get("file_metadata") or {})
    own = {} if request.POST.get("op") == "reset" else own_values(form, target, scope, request.POST)
    if own:
        every[scope] = own
    else:
        every.pop(scope, None)
    what = "all files" if scope == ALL_FILES else scope
    target, error = _save(
        request, target, {"file_metadata": every or None}, f"Coscine metadata for {what}"
    )
    return _answer(request, target, error, scope="" if scope == ALL_FILES else scope)


def _allowed_key(key: str) -> bool:
    return key in FIXED_KEYS or any(key.startswith(p) and len(key) > len(p) for p in KEY_PREFIXES)


@require_POST
@login_required
def coscine_lookup(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Ask a worker to fetch a lookup again (the Retry button next to Coscine's error)."""
    target = _coscine_target(request, pk)
    key = str(request.POST.get("key") or "")
    if not _allowed_key(key):
        raise Http404("No such Coscine list")
    lifecycle.request_lookup(target.account, key)
    return _answer(request, target, "")


@require_POST
@login_required
def coscine_publication(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Record the publication service and message, then queue ``request_publication``."""
    target = _coscine_target(request, pk)
    service = str(request.POST.get("service") or "")
    listed = lifecycle.cached(target.account, "publication_services").data or []
    if _find(project_services(target, listed), service, "ror") is None:
        return _answer(request, target, "Choose one of the publication services listed.")
    publication = {"service": service, "message": str(request.POST.get("message") or "").strip()}
    target, error = _save(request, target, {"publication": publication}, "Publication request")
    if error:
        return _answer(request, target, error)
    try:
        target = lifecycle.request(target, Action.REQUEST_PUBLICATION, user=request.user)
    except lifecycle.NotAllowed as exc:
        return _answer(request, target, str(exc))
    except QueueUnreachable:
        messages.warning(
            request, "Request publication: queued; it starts when the workers are back."
        )
    else:
        messages.success(request, f"Request publication: queued for {target.account.label}.")
    target.refresh_from_db()
    return _answer(request, target, "")
