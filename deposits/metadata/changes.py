"""What differs between two descriptions of a deposit, field by field, and between two
lists of files: the published version against the local draft.

Both records are compared through the editor's flat view (``editing.to_view``), so a
change is named by the same path the editor and the repositories' rules use
("creators.1.orcid", "version"), and a reordering of what the editor does not show
(an extra key DataCite ignores) is not a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .editing import to_view
from .record import Record


@dataclass(frozen=True)
class FieldChange:
    path: str  # "title", "creators.1.orcid"
    before: str
    after: str


@dataclass(frozen=True)
class FileChange:
    name: str
    change: str  # "added" | "removed" | "replaced"
    # {"name", "size", "md5"} of the published file and of the local one
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def _flat(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flat(inner, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        if value:
            out[prefix] = ", ".join(str(v) for v in value)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _flat(inner, f"{prefix}.{index}", out)
    elif value not in (None, ""):
        out[prefix] = str(value)


def flat_view(record: Record) -> dict[str, str]:
    """The editor's view of ``record`` as path -> text, empty values left out."""
    out: dict[str, str] = {}
    _flat(to_view(record or {}), "", out)
    return out


def field_changes(before: Record, after: Record) -> list[FieldChange]:
    """Every editor field whose value differs, in the editor's order of paths."""
    old, new = flat_view(before), flat_view(after)
    paths = list(old) + [p for p in new if p not in old]
    return [
        FieldChange(path, old.get(path, ""), new.get(path, ""))
        for path in paths
        if old.get(path, "") != new.get(path, "")
    ]


def file_changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[FileChange]:
    """Files added, removed or replaced (other bytes under the same name).

    Each side is a list of ``{"name", "size", "md5"}``.
    """
    old = {str(f["name"]): f for f in before}
    new = {str(f["name"]): f for f in after}
    changes: list[FileChange] = []
    for name in sorted(set(old) | set(new)):
        was, now = old.get(name), new.get(name)
        if was is None:
            changes.append(FileChange(name, "added", after=now))
        elif now is None:
            changes.append(FileChange(name, "removed", before=was))
        elif was.get("md5") != now.get("md5"):
            changes.append(FileChange(name, "replaced", was, now))
    return changes
