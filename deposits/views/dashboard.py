"""The team's deposits: a filtered, paginated table whose in-flight rows keep polling."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from deposits import access
from deposits.forms import DashboardFilters
from deposits.models import IN_FLIGHT_STATES, AccountStatus, Deposit, Target

from .request import HtmxHttpRequest

PER_PAGE = 25


def with_status(deposits: QuerySet[Deposit]) -> QuerySet[Deposit]:
    """Everything a row shows, in a fixed number of queries whatever the page size."""
    in_flight = Target.objects.filter(deposit=OuterRef("pk"), state__in=IN_FLIGHT_STATES)
    # Rows show titles, chips and identifiers: the metadata, a DataMeta account's cached
    # field definitions and connector state stay in the database.
    targets = (
        Target.objects.select_related("account")
        .defer("account__schema", "remote_data", "options", "problems")
        .prefetch_related("identifiers")
    )
    return (
        deposits.defer("metadata")
        .select_related("team")
        .annotate(in_flight=Exists(in_flight))
        .prefetch_related(Prefetch("targets", queryset=targets))
    )


def filtered(deposits: QuerySet[Deposit], filters: DashboardFilters) -> QuerySet[Deposit]:
    if query := filters.value("q"):
        deposits = deposits.filter(title__icontains=query)
    if team := filters.value("team"):
        deposits = deposits.filter(team_id=team)
    state, kind = filters.value("state"), filters.value("kind")
    if state or kind:
        match = Q(deposit=OuterRef("pk"))
        if state:
            match &= Q(state=state)
        if kind:
            match &= Q(account__kind=kind)
        deposits = deposits.filter(Exists(Target.objects.filter(match)))
    return deposits


@require_GET
@login_required
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    teams = access.teams_for(request.user)
    filters = DashboardFilters(request.GET, teams=teams)
    deposits = filtered(access.deposits_for(request.user), filters).order_by("-updated", "-pk")
    page = Paginator(with_status(deposits), PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    relink = access.accounts_for(request.user).filter(
        Q(status=AccountStatus.FAILING) | Q(expires_at__lte=timezone.now())
    )
    template = "dashboard.html"
    if request.htmx and not request.htmx.boosted:
        template += "#deposit-table"
    return render(
        request,
        template,
        {
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "relink": relink,
            "many_teams": len(teams) > 1,
            "filtering": any(request.GET.get(k) for k in ("q", "state", "kind", "team")),
        },
    )


@require_GET
@login_required
def deposit_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One row's target chips; polled while a target is queued or working."""
    deposit = get_object_or_404(with_status(access.deposits_for(request.user)), pk=pk)
    return render(request, "dashboard.html#deposit-status", {"deposit": deposit})
