"""Zenodo's part of the deposit page: the options of a Zenodo target that have no neutral
equivalent (the communities the record is submitted to, notes-zenodo.md §1.4).

Thin views: the options change through ``lifecycle.set_target_options``; the checks on
them are Zenodo's rules (``rules``), shown next to the field.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from deposits import access, lifecycle
from deposits.forms.fields import split_lines
from deposits.models import Target
from deposits.repositories.base import Problem
from deposits.views.panels import Panel
from deposits.views.request import HtmxHttpRequest

from .connector import ZenodoConnector

TEMPLATE = "repositories/zenodo/panel.html"


def panel(target: Target) -> Panel:
    """The communities field of one Zenodo target, with Zenodo's problems about it."""
    communities = target.options.get("communities") or []
    ids = [c["identifier"] if isinstance(c, dict) else str(c) for c in communities]
    problems = [
        Problem.from_dict(p)
        for p in target.problems
        if str(p.get("field", "")).startswith("options.communities")
    ]
    context: dict[str, Any] = {
        "communities": "\n".join(ids),
        "problems": problems,
        "locked": lifecycle.edit_locked_reason([target], "communities"),
    }
    return Panel(TEMPLATE, target, context)


def _zenodo_target(request: HtmxHttpRequest, pk: int) -> Target:
    target = access.get_target_for(request.user, pk)
    if target.account.kind != ZenodoConnector.kind:
        raise Http404("Not a Zenodo target")
    return target


@require_POST
@login_required
def options_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Save the communities (htmx posts them when the field changes)."""
    target = _zenodo_target(request, pk)
    communities = split_lines(request.POST.get("communities", ""))
    error = ""
    try:
        target = lifecycle.set_target_options(
            target,
            {"communities": communities},
            user=request.user,
            message=f"Communities: {', '.join(communities) or 'none'}",
            what="communities",
        )
    except lifecycle.NotAllowed as exc:
        error = str(exc)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(reverse("deposit", args=[target.deposit_id]) + f"#options-{target.pk}")
    shown = panel(target)
    response = render(
        request,
        TEMPLATE,
        {"panel": shown, "error": error, "saved": not error},
    )
    if not error:
        trigger_client_event(response, "deposit-changed")
    return response


urlpatterns = [
    path("targets/<int:pk>/options/", options_view, name="zenodo-options"),
]
