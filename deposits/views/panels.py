"""Repositories' own parts of the deposit page: one panel per target whose repository
has a web part (``deposits/repositories/<kind>/web.py``), found through the registry.

A web part's ``panel(target)`` returns a ``Panel``: the template (in the repository's
package) and what it shows, worked out there. The deposit page includes each panel in
turn and never names a repository.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deposits.models import Target
from deposits.repositories import registry


@dataclass
class Panel:
    template: str
    target: Target
    context: dict[str, Any] = field(default_factory=dict)
    # Where the page fetches the panel again when the deposit changes ("" if it never
    # changes by itself); the page keeps a slot for it, so no change is missed.
    refresh_url: str = ""


def panels(targets: list[Target]) -> list[Panel]:
    found = []
    for target in targets:
        part = registry.web(target.account.kind)
        panel = getattr(part, "panel", None)
        if panel is not None:
            shown = panel(target)
            if shown is not None:
                found.append(shown)
    return found
