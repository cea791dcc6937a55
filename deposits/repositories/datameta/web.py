"""DataMeta's part of the deposit page: the sample table of a DataMeta target, sheet
import with its preview, and what DataMeta gave back (``views``, ``urls``)."""

from __future__ import annotations

from django.urls import reverse

from deposits.models import Target
from deposits.views.panels import Panel

from .urls import urlpatterns
from .views import PANEL, panel_context

__all__ = ["panel", "urlpatterns"]


def panel(target: Target) -> Panel:
    return Panel(
        PANEL,
        target,
        panel_context(target),
        refresh_url=reverse("datameta-panel", args=[target.pk]),
    )
