"""An APA-like citation of a published target, from the neutral metadata and its DOI."""

from __future__ import annotations

from typing import Any

from deposits import metadata as md

# APA's bracketed descriptions of what kind of work it is.
DESCRIPTIONS = {
    "dataset": "Data set",
    "software": "Computer software",
    "poster": "Poster",
    "presentation": "Presentation slides",
    "image": "Image",
    "video": "Video",
    "lesson": "Lesson",
    "workflow": "Workflow",
    "model": "Model",
    "physicalobject": "Physical object",
}


def _initials(given: str) -> str:
    parts = [p for p in given.replace("-", " - ").split() if p]
    out = []
    for part in parts:
        out.append("-" if part == "-" else f"{part[0]}.")
    return " ".join(out).replace(" - ", "-")


def author(name: str) -> str:
    """ "Curie, Marie Salomea" -> "Curie, M. S."; organisations stay as they are."""
    family, comma, given = name.partition(",")
    if not comma or not given.strip():
        return name.strip()
    return f"{family.strip()}, {_initials(given.strip())}"


def authors(creators: list[dict[str, Any]]) -> str:
    names = [author(str(c.get("name", ""))) for c in creators if c.get("name")]
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    if len(names) > 20:  # APA 7: the first 19, an ellipsis, the last
        return ", ".join(names[:19]) + ", … " + names[-1]
    return ", ".join(names[:-1]) + ", & " + names[-1]


def description(metadata: md.Record) -> str:
    rtype = md.resource_type(metadata)
    if rtype is None:
        return ""
    if rtype.parent == "publication":
        return rtype.label if rtype.subtype else ""
    return DESCRIPTIONS.get(rtype.parent, "")


def citation(metadata: md.Record, *, publisher: str, doi: str, year: str, url: str = "") -> str:
    """An APA-like citation; ``url`` is the identifier's resolver link (a DOI's is
    https://doi.org/<doi>, a Handle's https://hdl.handle.net/<handle>)."""
    parts = []
    who = authors(md.items(metadata, "creators"))
    if who:
        parts.append(f"{who} ({year or 'n.d.'}).")
    else:
        parts.append(f"({year or 'n.d.'}).")
    title = (md.title(metadata) or "Untitled").rstrip(".")
    extra = []
    if metadata.get("version"):
        extra.append(f"(Version {metadata['version']})")
    if description(metadata):
        extra.append(f"[{description(metadata)}]")
    parts.append(" ".join([title, *extra]) + ".")
    if publisher:
        parts.append(f"{publisher}.")
    if url or doi:
        parts.append(url or f"https://doi.org/{doi}")
    return " ".join(parts)
