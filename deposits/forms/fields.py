"""Form fields the metadata editor builds from: plain text, lines, ISO dates, choices."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms


def choices(pairs: Iterable[tuple[str, str]], blank: str = "—") -> list[tuple[str, str]]:
    return [("", blank), *pairs]


def named(values: Iterable[str]) -> list[tuple[str, str]]:
    """ "DataCollector" -> ("DataCollector", "Data collector")."""
    return [(value, _split_camel(value)) for value in values]


def _split_camel(value: str) -> str:
    out = "".join(f" {ch}" if ch.isupper() else ch for ch in value).strip()
    return out[:1].upper() + out[1:].lower()


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def date(label: str | None = None, help_text: str = "") -> forms.DateField:
    """A date picker; the browser shows the date in its own format and sends YYYY-MM-DD,
    so no format is promised in the help text."""
    return forms.DateField(
        label=label,
        required=False,
        widget=DateInput(),
        input_formats=["%Y-%m-%d"],
        help_text=help_text,
    )


def text(label: str = "", help_text: str = "", **attrs: str) -> forms.CharField:
    return forms.CharField(
        label=label or None,
        required=False,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs) if attrs else None,
    )


def lines(label: str, help_text: str, rows: int = 3) -> forms.CharField:
    """A list of strings, one per line."""
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def split_lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")
