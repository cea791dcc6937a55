"""Which connector serves which repository kind: one line per repository."""

from __future__ import annotations

from functools import cache

from .base import Connector


@cache
def connectors() -> dict[str, Connector]:
    from .datameta import DataMetaConnector
    from .zenodo import ZenodoConnector

    return {c.kind: c for c in (ZenodoConnector(), DataMetaConnector())}


def get(kind: str) -> Connector:
    try:
        return connectors()[kind]
    except KeyError:
        raise LookupError(f"No connector for repository kind {kind!r} yet") from None


def kinds() -> list[str]:
    return list(connectors())
