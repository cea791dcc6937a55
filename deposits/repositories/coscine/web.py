"""Coscine's part of the deposit page: the project and resource, the application
profile's metadata form (all files and per file), the Handle and publication requests
(``panel``, ``views``, ``urls``)."""

from __future__ import annotations

from django.urls import reverse

from deposits.models import Target
from deposits.views.panels import Panel

from .panel import PANEL, panel_context
from .urls import urlpatterns

__all__ = ["panel", "urlpatterns"]


def panel(target: Target) -> Panel:
    return Panel(
        PANEL,
        target,
        panel_context(target),
        refresh_url=reverse("coscine-panel", args=[target.pk]),
    )
