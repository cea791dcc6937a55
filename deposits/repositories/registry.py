"""Which repositories the portal knows: one line per repository package.

Each package under ``deposits/repositories/<kind>/`` holds everything about one
repository: ``connector`` (a ``base.Connector`` subclass named in ``PACKAGES``), its
crosswalk, rules and error parsing, and optionally ``web`` (the target panel's views,
``urlpatterns`` and templates). The packages are Django apps (settings add ``PACKAGES``
to INSTALLED_APPS), so their templates and template tags are found like any app's.

This module is read by the settings: it imports nothing at module level.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Connector

# package -> its connector class. Adding a repository is one line here.
PACKAGES: dict[str, str] = {
    "deposits.repositories.zenodo": "ZenodoConnector",
    "deposits.repositories.datameta": "DataMetaConnector",
    "deposits.repositories.coscine": "CoscineConnector",
}


@cache
def _loaded() -> dict[str, tuple[Connector, str | None]]:
    """kind -> (connector, package); tests may add connectors without a package."""
    found: dict[str, tuple[Connector, str | None]] = {}
    for package, name in PACKAGES.items():
        connector = getattr(importlib.import_module(f"{package}.connector"), name)()
        found[connector.kind] = (connector, package)
    return found


def connectors() -> dict[str, Connector]:
    return {kind: connector for kind, (connector, _) in _loaded().items()}


def get(kind: str) -> Connector:
    try:
        return _loaded()[kind][0]
    except KeyError:
        raise LookupError(f"No connector for repository kind {kind!r} yet") from None


def kinds() -> list[str]:
    return list(_loaded())


def choices() -> list[tuple[str, str]]:
    """(kind, display name) of every registered repository, for model and form choices."""
    return [(kind, connector.label) for kind, (connector, _) in _loaded().items()]


def register(connector: Connector) -> None:
    """Tests: add a connector made in the test (it has no package, so no web part)."""
    _loaded()[connector.kind] = (connector, None)


def unregister(kind: str) -> None:
    _loaded().pop(kind, None)


def web(kind: str) -> ModuleType | None:
    """The repository's web part (``<package>.web``), or None when it has none."""
    package = _loaded().get(kind, (None, None))[1]
    if package is None or importlib.util.find_spec(f"{package}.web") is None:
        return None
    return importlib.import_module(f"{package}.web")


def web_parts() -> dict[str, ModuleType]:
    """Each repository's web part, by kind, for the URLconf and the deposit page."""
    parts = {}
    for kind in kinds():
        part = web(kind)
        if part is not None:
            parts[kind] = part
    return parts
