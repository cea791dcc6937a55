"""Curation figures as people read them: durations in words, the queue as SVG bars laid
out here (the pages only draw them: the CSP allows no inline style). The portal's review
queue and the admin's index show the same figures through ``figures_for``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from deposits.lifecycle.figures import CurationFigures, curation_figures


def waited(delta: timedelta) -> str:
    """A duration as a person reads it: "3 h 20 min", "2 d 4 h", "5 min"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else "less than a minute"


def hours_text(hours: float | None) -> str:
    return "—" if hours is None else waited(timedelta(hours=hours))


@dataclass
class Bar:
    x: float
    y: float
    height: float
    count: int
    moment: datetime


@dataclass
class QueueChart:
    """The queue's length over time as bars, laid out here: the page only draws them."""

    width: int
    height: int
    bars: list[Bar]
    bar_width: float
    top: int  # the largest count (the chart's scale)
    start: datetime
    end: datetime
    description: str

    @property
    def baseline(self) -> int:
        return self.height


CHART_WIDTH, CHART_HEIGHT = 300, 60


def queue_chart(points: list[tuple[datetime, int]]) -> QueueChart | None:
    if not points:
        return None
    top = max(max(count for _, count in points), 1)
    slot = CHART_WIDTH / len(points)
    bars = []
    for index, (moment, count) in enumerate(points):
        height = round(count / top * (CHART_HEIGHT - 2), 1)
        bars.append(
            Bar(
                x=round(index * slot + 1, 1),
                y=round(CHART_HEIGHT - height, 1),
                height=height,
                count=count,
                moment=moment,
            )
        )
    first, last = points[0], points[-1]
    description = (
        f"Deposits waiting for review, {first[0]:%-d %b} to {last[0]:%-d %b}: "
        f"{first[1]} at the start, {last[1]} now, at most {top}."
    )
    return QueueChart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        bars=bars,
        bar_width=round(max(slot - 2, 1), 1),
        top=top,
        start=first[0],
        end=last[0],
        description=description,
    )


@dataclass
class Figures:
    figures: CurationFigures
    median: str
    p90: str
    returns_per_deposit: str
    oldest: str
    chart: QueueChart | None = field(default=None)


def figures_for(team_ids: set[int], now: datetime | None = None) -> Figures:
    figures = curation_figures(team_ids, now=now)
    rate = figures.returns_per_deposit
    return Figures(
        figures=figures,
        median=hours_text(figures.median_hours),
        p90=hours_text(figures.p90_hours),
        returns_per_deposit="—" if rate is None else f"{rate:.2f}",
        oldest=hours_text(figures.oldest_wait_hours),
        chart=queue_chart(figures.queue),
    )
