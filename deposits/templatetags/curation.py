"""The review queue's link in the nav, for those who may review (with what waits)."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Count, Q

from deposits.models import Membership, ReviewRequest, ReviewState, Role

register = template.Library()


def _reviewer_counts(user: Any) -> tuple[bool, int]:
    """Whether ``user`` reviews any team, and how many requests wait there: one query
    (it runs on every page), the same teams as ``access.curator_team_ids``."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False, 0
    if user.is_superuser:
        return True, ReviewRequest.objects.filter(state=ReviewState.OPEN).count()
    found = (
        Membership.objects.filter(user=user)
        .filter(Q(role__in=[Role.CURATOR, Role.ADMIN]) | Q(team__members_review=True))
        .aggregate(
            teams=Count("team", distinct=True),
            waiting=Count(
                "team__deposits__reviews",
                filter=Q(team__deposits__reviews__state=ReviewState.OPEN),
                distinct=True,
            ),
        )
    )
    return bool(found["teams"]), int(found["waiting"] or 0)


@register.inclusion_tag("curation/nav-link.html", takes_context=True)
def review_queue_link(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    show, waiting = _reviewer_counts(getattr(request, "user", None))
    return {"show": show, "waiting": waiting, "path": request.path if request else ""}
