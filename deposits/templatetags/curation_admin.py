"""The curation figures on the admin index: for the teams the person curates, as the
portal's review queue shows them (``deposits.views.figures``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from deposits.admin.scoping import curated_team_ids
from deposits.views.figures import figures_for

register = template.Library()


@register.inclusion_tag("admin/curation-figures.html", takes_context=True)
def admin_curation_figures(context: dict[str, Any]) -> dict[str, Any]:
    team_ids = curated_team_ids(context["request"])
    if not team_ids:
        return {"figures": None}
    return {
        "figures": figures_for(team_ids),
        "queue_url": reverse("admin:deposits_reviewrequest_changelist"),
    }
