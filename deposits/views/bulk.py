"""Bulk actions for curators: choose deposits and an action, preview, then run.

The preview is a dry run (``lifecycle.bulk.plan``: nothing changes); Run posts the same
choice with the preview's fingerprints and a confirmed flag, and shows each item's
result. Deposits of other teams are "not found", like ids that do not exist.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from deposits import access
from deposits.lifecycle import bulk
from deposits.lifecycle.states import NotAllowed
from deposits.models import Deposit, ReviewRequest, ReviewState, State, Target

from .dashboard import with_status
from .request import HtmxHttpRequest

LISTED = 200  # deposits listed to choose from
FILTERS = {
    "": "All deposits",
    "awaiting": "Awaiting review",
    "failed": "With a failed target",
    "stale": f"With a remote draft untouched for {bulk.DEFAULT_STALE_DAYS} days",
}
PARAM_NAMES = (
    "reason",
    "keyword",
    "community",
    "funder_doi",
    "funder_name",
    "award_number",
    "days",
)


def _filtered(deposits: QuerySet[Deposit], show: str) -> QuerySet[Deposit]:
    if show == "awaiting":
        open_ = ReviewRequest.objects.filter(deposit=OuterRef("pk"), state=ReviewState.OPEN)
        return deposits.filter(Exists(open_))
    if show == "failed":
        failed = Target.objects.filter(deposit=OuterRef("pk"), state=State.FAILED)
        return deposits.filter(Exists(failed))
    if show == "stale":
        old = timezone.now() - timedelta(days=bulk.DEFAULT_STALE_DAYS)
        stale = Target.objects.filter(
            Q(deposit=OuterRef("pk")) & ~Q(remote_id="") & Q(published_at=None, updated__lt=old)
        )
        return deposits.filter(Exists(stale))
    return deposits


def _choices(user: Any, show: str, chosen: list[int]) -> tuple[list[Deposit], bool]:
    """The deposits to choose from (the filter's, and those already chosen)."""
    mine = access.reviewable_deposits_for(user)
    listed = list(with_status(_filtered(mine, show)).order_by("-updated")[:LISTED])
    have = {d.pk for d in listed}
    extra = [pk for pk in chosen if pk not in have]
    if extra:
        listed = list(with_status(mine.filter(pk__in=extra)).order_by("-updated")) + listed
    return listed, len({d.team_id for d in listed}) > 1


def _preview_keys(data: QueryDict) -> dict[str, str]:
    """The preview's ``key=fingerprint`` pairs, as the Run form posts them back."""
    seen = {}
    for pair in data.getlist("seen"):
        key, _, fingerprint = pair.partition("=")
        if key and fingerprint:
            seen[key] = fingerprint
    return seen


@require_http_methods(["GET", "POST"])
@login_required
def bulk_page(request: HtmxHttpRequest) -> HttpResponse:
    user = request.user
    if not access.curator_team_ids(user):
        raise PermissionDenied(
            "Only curators (and team admins) can use bulk actions. Ask a curator of your "
            "team, or an admin to give you the curator role."
        )
    data = request.POST if request.method == "POST" else request.GET
    ids = bulk.parse_ids(data.getlist("ids") if request.method == "POST" else data.get("ids", ""))
    account_ids = bulk.parse_ids(data.get("accounts", ""))
    show = data.get("show", "") if data.get("show", "") in FILTERS else ""
    name = data.get("action", "approve")
    values = {k: data.get(k, "") for k in PARAM_NAMES}
    context: dict[str, Any] = {
        "actions": list(bulk.ACTIONS.values()),
        "chosen_action": name if name in bulk.ACTIONS else "approve",
        "filters": FILTERS,
        "show": show,
        "ids": ids,
        "accounts": ",".join(str(a) for a in account_ids),
        "values": values,
        "default_days": bulk.DEFAULT_STALE_DAYS,
    }
    if request.method == "POST":
        context.update(_act(request, name, ids, account_ids))
    context["deposits"], context["many_teams"] = _choices(user, show, ids)
    status = 400 if context.get("error") else 200
    return render(request, "bulk/bulk.html", context, status=status)


def _act(
    request: HtmxHttpRequest, name: str, ids: list[int], account_ids: list[int]
) -> dict[str, Any]:
    """Preview (a dry run) or, with ``confirmed``, run; or the error to fix first."""
    if not ids and not account_ids:
        return {"error": "Choose at least one deposit (tick its box), then press Preview."}
    try:
        action = bulk.get(name)
        params = bulk.clean_params(action, request.POST)
    except NotAllowed as exc:
        return {"error": str(exc)}
    if request.POST.get("confirmed") == "1":
        results = bulk.run(
            action,
            request.user,
            deposit_ids=ids,
            params=params,
            preview=_preview_keys(request.POST),
            account_ids=account_ids,
        )
        counts = {
            s: sum(1 for r in results if r.status == s) for s in ("done", "skipped", "failed")
        }
        return {"action": action, "results": results, "counts": counts}
    plans = bulk.plan(action, request.user, deposit_ids=ids, params=params, account_ids=account_ids)
    return {
        "action": action,
        "plans": plans,
        "will": sum(1 for p in plans if p.will),
        "params": params,
    }
