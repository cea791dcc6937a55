"""Curation figures: time in review, returns per deposit, the queue's length over time."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from deposits.models import ReviewRequest, ReviewState


@dataclass(frozen=True)
class CurationFigures:
    decided: int  # approvals and returns in the period
    median_hours: float | None  # time from submit to decision
    p90_hours: float | None
    returns_per_deposit: float | None  # returns over deposits reviewed in the period
    waiting: int  # open requests now
    oldest_wait_hours: float | None
    queue: list[tuple[datetime, int]]  # open requests at each point, oldest first


def curation_figures(
    team_ids: Iterable[int],
    *,
    days: int = 30,
    points: int = 30,
    now: datetime | None = None,
) -> CurationFigures:
    """The figures over the last ``days`` for the given teams' deposits."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    reviews = ReviewRequest.objects.filter(deposit__team_id__in=list(team_ids))
    decided = list(
        reviews.filter(
            state__in=[ReviewState.APPROVED, ReviewState.RETURNED], decided_at__gte=since
        ).values_list("submitted_at", "decided_at", "state", "deposit_id")
    )
    hours = sorted((d - s).total_seconds() / 3600 for s, d, _, _ in decided if d)
    returns = sum(1 for *_, state, _ in decided if state == ReviewState.RETURNED)
    deposits = {deposit for *_, deposit in decided}
    open_since = list(reviews.filter(state=ReviewState.OPEN).values_list("submitted_at", flat=True))
    step = timedelta(days=days) / max(1, points - 1)
    spans = list(
        reviews.filter(submitted_at__lte=now)
        .filter(Q(decided_at__isnull=True) | Q(decided_at__gte=since))
        .values_list("submitted_at", "decided_at")
    )
    queue = []
    for i in range(points):
        moment = since + step * i
        queue.append(
            (moment, sum(1 for s, d in spans if s <= moment and (d is None or d > moment)))
        )
    return CurationFigures(
        decided=len(decided),
        median_hours=statistics.median(hours) if hours else None,
        p90_hours=_percentile(hours, 0.9),
        returns_per_deposit=returns / len(deposits) if deposits else None,
        waiting=len(open_since),
        oldest_wait_hours=(now - min(open_since)).total_seconds() / 3600 if open_since else None,
        queue=queue,
    )


def _percentile(ordered: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of an ordered list (None when empty)."""
    if not ordered:
        return None
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]
