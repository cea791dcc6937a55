"""The curation figures on the admin index: for the teams the person curates."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from deposits.admin.scoping import curated_team_ids
from deposits.lifecycle.figures import CurationFigures, curation_figures

register = template.Library()

CHART_WIDTH, CHART_HEIGHT = 300, 60


def hours(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 1:
        return f"{round(value * 60)} min"
    if value < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} days"


def queue_bars(figures: CurationFigures) -> dict[str, Any]:
    """The queue's length over time as SVG bars (attributes only: the CSP allows no
    inline style)."""
    points = figures.queue
    peak = max((count for _, count in points), default=0)
    width = CHART_WIDTH / max(1, len(points))
    bars = []
    for index, (moment, count) in enumerate(points):
        height = 0.0 if not peak else (CHART_HEIGHT - 2) * count / peak
        bars.append(
            {
                "x": f"{index * width:.1f}",
                "y": f"{CHART_HEIGHT - max(height, 1):.1f}",
                "width": f"{max(width - 1, 1):.1f}",
                "height": f"{max(height, 1):.1f}",
                "title": f"{moment:%Y-%m-%d %H:%M}: {count} waiting",
                "empty": count == 0,
            }
        )
    return {"bars": bars, "peak": peak, "width": CHART_WIDTH, "height": CHART_HEIGHT}


@register.inclusion_tag("admin/curation-figures.html", takes_context=True)
def admin_curation_figures(context: dict[str, Any], days: int = 30) -> dict[str, Any]:
    request = context["request"]
    team_ids = curated_team_ids(request)
    if not team_ids:
        return {"figures": None}
    figures = curation_figures(team_ids, days=days)
    return {
        "figures": figures,
        "days": days,
        "median": hours(figures.median_hours),
        "p90": hours(figures.p90_hours),
        "oldest": hours(figures.oldest_wait_hours),
        "returns": (
            "–" if figures.returns_per_deposit is None else f"{figures.returns_per_deposit:.2f}"
        ),
        "chart": queue_bars(figures),
        "queue_url": reverse("admin:deposits_reviewrequest_changelist"),
    }
