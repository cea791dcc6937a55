"""Showing things the same way everywhere: fields with their problems, chips, badges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.forms import BoundField
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from deposits import lifecycle
from deposits.forms.metadata import Slot, field_path, slot_id
from deposits.links import identifier_link
from deposits.models import Identifier, Scope, Target
from deposits.repositories import registry
from deposits.repositories.base import Problem
from deposits.sizes import human_size

register = template.Library()

# Average advance of a Verdana 11px character in the badge, in pixels.
BADGE_CHAR_WIDTH = 6.6


@register.inclusion_tag("field.html", takes_context=True)
def field(
    context: dict[str, Any], bound: BoundField, show_when: str = "", wide: bool = False
) -> dict[str, Any]:
    """A field with its label, help and the slot that shows its problems."""
    path = field_path(bound.form, bound.name)
    slots: dict[str, Slot] = context.get("slots") or {}
    slot = slots.get(path) or Slot(path, [str(e) for e in bound.errors], [])
    described = [slot.id]
    if bound.help_text:
        described.insert(0, f"{bound.auto_id}_helptext")
    attrs: dict[str, str | bool] = {"aria-describedby": " ".join(described)}
    if slot:
        attrs["aria-invalid"] = "true"
    return {
        "field": bound,
        "widget": bound.as_widget(attrs=attrs),
        "path": path,
        "slot": slot,
        "show_when": show_when,
        "wide": wide,
        "choice": bound.widget_type in ("radioselect", "checkboxselectmultiple"),
        "check": bound.widget_type == "checkbox",
    }


@register.inclusion_tag("field-error.html")
def field_error(slot: Slot, oob: bool = False) -> dict[str, Any]:
    return {"slot": slot, "oob": oob}


@register.simple_tag
def error_slot_id(path: str) -> str:
    return slot_id(path)


@register.simple_tag
def problem_anchor(problem: Problem, target_id: int) -> str:
    """Where a problem is shown: a target option's in its repository's panel."""
    if problem.field.startswith("options."):
        return f"target-panel-{target_id}"
    return slot_id(problem.field)


@register.filter
def slot_at(slots: dict[str, Slot], path: str) -> Slot:
    return slots.get(path) or Slot(path, [], [])


@register.inclusion_tag("state-chip.html")
def state_chip(target: Target) -> dict[str, Any]:
    return {"target": target, "label": lifecycle.step_label(target)}


@register.filter
def version_doi(target: Target) -> Identifier | None:
    """The DOI of the latest version, from identifiers the page already fetched."""
    versions = [
        i for i in target.identifiers.all() if i.scheme == "doi" and i.scope == Scope.VERSION
    ]
    return max(versions, key=lambda i: (i.created, i.pk), default=None)


@register.filter
def identifier_url(identifier: Identifier, kind: str) -> str:
    """Where an identifier of a ``kind`` target links (``deposits.links``)."""
    try:
        scheme = registry.get(kind).scheme(identifier.scheme)
    except LookupError:
        return ""
    return identifier_link(identifier, scheme)


@register.filter
def repository(kind: str) -> str:
    """ "zenodo" -> "Zenodo"."""
    try:
        return registry.get(kind).label
    except LookupError:
        return kind.capitalize() if kind else ""


@register.filter
def size(value: int | None) -> str:
    """A size as every page and the upload progress write it (``deposits.sizes``)."""
    return human_size(value)


@register.filter
def ago(moment: datetime | None) -> str:
    """ "just now", "5 minutes ago"."""
    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment)} ago"


@register.filter
def seconds(value: float | int | None) -> str:
    """A short duration: "45 s", "12 min", "3 h"."""
    if value is None:
        return ""
    value = int(value)
    if value < 60:
        return f"{value} s"
    if value % 3600 == 0:
        return f"{value // 3600} h"
    if value % 60 == 0 or value < 90 * 60:
        return f"{round(value / 60)} min"
    return f"{round(value / 3600)} h"


@register.simple_tag
def doi_badge(doi: str, label: str = "DOI") -> str:
    """A DOI badge drawn here (no external image), like the ones repositories hand out;
    ``label`` names another scheme ("Handle")."""
    left, right = label or "DOI", doi
    left_w = int(len(left) * BADGE_CHAR_WIDTH + 12)
    right_w = int(len(right) * BADGE_CHAR_WIDTH + 12)
    width = left_w + right_w
    return format_html(
        '<svg class="doi-badge" xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" '
        'role="img" aria-label="{left}: {doi}"><title>{left}: {doi}</title>'
        '<rect width="{lw}" height="20" rx="3" fill="#555"/>'
        '<rect x="{lw}" width="{rw}" height="20" rx="3" fill="#1f6feb"/>'
        '<rect x="{lw}" width="4" height="20" fill="#1f6feb"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        '<text x="6" y="14">{left}</text><text x="{tx}" y="14">{doi}</text></g></svg>',
        w=width,
        lw=left_w,
        rw=right_w,
        tx=left_w + 6,
        left=left,
        doi=right,
    )
