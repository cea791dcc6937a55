"""The DataMeta panel's data, for pages that include it with only ``target`` at hand."""

from __future__ import annotations

from typing import Any

from django import template

from deposits.models import Target

register = template.Library()


@register.simple_tag
def datameta_panel(target: Target) -> dict[str, Any]:
    """What ``deposits/datameta/target-panel.html`` shows (deposits.views.datameta)."""
    from deposits.views.datameta import panel_context

    return panel_context(target)


@register.filter
def get_item(mapping: dict[str, Any] | None, key: str) -> Any:
    return (mapping or {}).get(key, "")
