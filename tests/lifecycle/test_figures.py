"""Curation figures at a fixed moment: time in review, returns per deposit, the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deposits.lifecycle.figures import curation_figures
from deposits.models import ReviewRequest, ReviewState
from tests.factories import DepositFactory, TeamFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def review(deposit: Any, submitted: datetime, decided: datetime | None, state: str) -> None:
    ReviewRequest.objects.create(
        deposit=deposit, submitted_at=submitted, decided_at=decided, state=state
    )


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def reviews(team: Any) -> dict[str, Any]:
    """Ten decisions in the last 30 days (1..10 hours), two of them returns; an old one,
    a withdrawn one, an open one, and another team's."""
    a, b, c = (DepositFactory(team=team) for _ in range(3))
    for hours, deposit, state in [
        (1, a, ReviewState.RETURNED),
        (2, a, ReviewState.APPROVED),
        (3, b, ReviewState.RETURNED),
        (4, b, ReviewState.APPROVED),
        (5, c, ReviewState.APPROVED),
        (6, c, ReviewState.APPROVED),
        (7, c, ReviewState.APPROVED),
        (8, c, ReviewState.APPROVED),
        (9, c, ReviewState.APPROVED),
        (10, c, ReviewState.APPROVED),
    ]:
        decided = days_ago(hours)  # decided `hours` days ago, after `hours` hours
        review(deposit, decided - timedelta(hours=hours), decided, state)
    review(a, days_ago(45), days_ago(44), ReviewState.APPROVED)  # before the period
    review(b, days_ago(12), days_ago(11), ReviewState.WITHDRAWN)  # not a decision
    review(c, NOW - timedelta(hours=30), None, ReviewState.OPEN)
    other = DepositFactory(team=TeamFactory(slug="elsewhere"))
    review(other, days_ago(3), days_ago(2), ReviewState.RETURNED)
    review(other, days_ago(1), None, ReviewState.OPEN)
    return {"team": team, "other": other.team}


def test_time_in_review_is_the_median_and_the_90th_percentile(reviews: Any) -> None:
    figures = curation_figures([reviews["team"].pk], now=NOW)
    assert figures.decided == 10
    assert figures.median_hours == pytest.approx(5.5)  # of 1..10 hours
    assert figures.p90_hours == pytest.approx(9)  # nearest rank: the 9th of 10


def test_returns_are_counted_per_deposit_reviewed(reviews: Any) -> None:
    figures = curation_figures([reviews["team"].pk], now=NOW)
    assert figures.returns_per_deposit == pytest.approx(2 / 3)


def test_waiting_is_what_is_open_now(reviews: Any) -> None:
    figures = curation_figures([reviews["team"].pk], now=NOW)
    assert figures.waiting == 1
    assert figures.oldest_wait_hours == pytest.approx(30)
    both = curation_figures([reviews["team"].pk, reviews["other"].pk], now=NOW)
    assert both.waiting == 2 and both.decided == 11


def test_the_queue_length_is_counted_at_each_point(reviews: Any) -> None:
    figures = curation_figures([reviews["team"].pk], days=30, points=31, now=NOW)
    assert len(figures.queue) == 31
    moments = [moment for moment, _ in figures.queue]
    assert moments[0] == days_ago(30) and moments[-1] == NOW
    counts = {moment: count for moment, count in figures.queue}
    # whole days: the decisions fall in between, the withdrawn one waited 11-12 days ago
    assert counts[days_ago(12)] == 1 and counts[days_ago(11.0)] == 0
    assert counts[days_ago(1)] == 1  # only the open one (30 h ago)
    assert counts[days_ago(2)] == 0
    assert counts[NOW] == 1
    assert sum(counts.values()) == 3


def test_no_reviews_no_figures(team: Any) -> None:
    figures = curation_figures([team.pk], now=NOW)
    assert figures.decided == 0 and figures.waiting == 0
    assert figures.median_hours is None and figures.p90_hours is None
    assert figures.returns_per_deposit is None and figures.oldest_wait_hours is None
    assert all(count == 0 for _, count in figures.queue)
