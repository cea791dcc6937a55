"""Where each problem is shown: the error slot of the field its path names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django import forms

from deposits.repositories.base import Problem


def form_errors(form: forms.BaseForm, name: str) -> list[str]:
    return [str(e) for e in form.errors.get(name, [])] if form.is_bound else []


@dataclass
class Slot:
    """Where the messages about one field path are shown."""

    path: str
    errors: list[str]
    problems: list[Problem]

    @property
    def id(self) -> str:
        return slot_id(self.path)

    def __bool__(self) -> bool:
        return bool(self.errors or self.problems)


def field_path(form: forms.BaseForm, name: str) -> str:
    return f"{getattr(form, 'path_prefix', '')}{name.replace('__', '.')}"


def slot_id(path: str) -> str:
    """A DOM id for the error slot of ``path`` (no dots: htmx selects out-of-band by id)."""
    return "error-" + (path.replace(".", "-") if path else "deposit")


def place_problems(
    by_field: dict[str, list[Problem]], paths: Iterable[str]
) -> dict[str, list[Problem]]:
    """Attach each problem to the nearest field shown: its own, a parent, else the deposit."""
    known = set(paths)
    placed: dict[str, list[Problem]] = {}
    for path, problems in by_field.items():
        spot = path
        while spot and spot not in known:
            spot = spot.rpartition(".")[0]
        placed.setdefault(spot, []).extend(problems)
    return placed
