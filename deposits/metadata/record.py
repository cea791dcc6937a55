"""Reading a stored record: the values several parts of the portal need, found where
DataCite keeps them (the main title among ``titles``, the abstract among ``descriptions``,
the publication date among ``dates``...), and the checks every value passes on its way in.
"""

from __future__ import annotations

import re
from typing import Any

import nh3

from .vocabulary import ISSUED, ResourceType, type_for

Record = dict[str, Any]

# Tags a repository description may carry (Zenodo renders a similar subset).
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "i",
    "li", "ol", "p", "pre", "strong", "sub", "sup", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}

# ROR ids: 0, six of a Crockford base32 alphabet, two check digits (ror.readme.io).
ROR_RE = re.compile(r"^(?:https?://ror\.org/)?(0[0-9a-hjkmnp-tv-z]{6}[0-9]{2})$")
ORCID_RE = re.compile(r"^(?:https?://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$")


def sanitize_html(html: str) -> str:
    """Strip everything but simple formatting; scripts and event handlers never survive."""
    return nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ).strip()


def normalize_orcid(value: str) -> str | None:
    """The bare ORCID iD if ``value`` is one (with a valid checksum), else None."""
    match = ORCID_RE.match((value or "").strip())
    if not match:
        return None
    digits = match.group(1).replace("-", "")
    total = 0
    for char in digits[:-1]:
        total = (total + int(char)) * 2
    check = (12 - total % 11) % 11
    expected = "X" if check == 10 else str(check)
    return match.group(1) if digits[-1] == expected else None


def normalize_ror(value: object) -> str:
    """A ROR id as DataCite records it (https://ror.org/0...), "" for none; a value that
    is no ROR id is kept as typed (the editor refuses it before it gets here)."""
    text = str(value or "").strip()
    match = ROR_RE.match(text.lower())
    return f"https://ror.org/{match.group(1)}" if match else text


def empty(value: Any) -> bool:
    return value in ("", None, [], {})


def clean(record: Record) -> Record:
    """A record as it is stored: the abstract (HTML) sanitised, empty values dropped."""
    out: Record = {}
    for key, value in record.items():
        if key == "descriptions" and isinstance(value, list):
            value = [_sanitized(d) for d in value if isinstance(d, dict)]
            value = [d for d in value if d["description"]]
        if not empty(value):
            out[key] = value
    return out


def _sanitized(item: dict[str, Any]) -> dict[str, Any]:
    text = str(item.get("description") or "")
    if item.get("descriptionType") == "Abstract":
        text = sanitize_html(text)
    return {**item, "description": text}


def items(record: Record, key: str) -> list[dict[str, Any]]:
    """The list of objects under ``key`` (anything else there is ignored)."""
    value = record.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def title(record: Record) -> str:
    """The main title: the first without a ``titleType``."""
    for item in items(record, "titles"):
        if not item.get("titleType"):
            return str(item.get("title") or "").strip()
    return ""


def description(record: Record, kind: str = "Abstract") -> str:
    for item in items(record, "descriptions"):
        if item.get("descriptionType") == kind:
            return str(item.get("description") or "")
    return ""


def date(record: Record, kind: str = ISSUED) -> str:
    """The first date of a DataCite ``dateType`` (``Issued``: the publication date)."""
    for item in items(record, "dates"):
        if item.get("dateType") == kind:
            return str(item.get("date") or "")
    return ""


def resource_type(record: Record) -> ResourceType | None:
    """The portal's resource type for the record's ``types``, if it is one of ours."""
    types = record.get("types")
    if not isinstance(types, dict):
        return None
    return type_for(types.get("resourceTypeGeneral"), types.get("resourceType"))


def identifier(person: dict[str, Any], scheme: str) -> str:
    """A person's name identifier of one scheme (ORCID, GND, ...), or ""."""
    for item in person.get("nameIdentifiers") or []:
        if isinstance(item, dict) and item.get("nameIdentifierScheme") == scheme:
            return str(item.get("nameIdentifier") or "")
    return ""


def affiliation(person: dict[str, Any]) -> str:
    """A person's affiliations' names, joined as one line."""
    names = [
        str(a.get("name", "")).strip()
        for a in person.get("affiliation") or []
        if isinstance(a, dict)
    ]
    return "; ".join(name for name in names if name)


def ror(person: dict[str, Any]) -> str:
    """The ROR id of a person's first affiliation, or ""."""
    for item in person.get("affiliation") or []:
        if isinstance(item, dict) and item.get("affiliationIdentifierScheme") == "ROR":
            return str(item.get("affiliationIdentifier") or "")
    return ""


def keywords(record: Record) -> list[str]:
    """Free-text subjects: those with neither a scheme nor a value URI."""
    return [
        str(s["subject"])
        for s in items(record, "subjects")
        if s.get("subject") and not (s.get("subjectScheme") or s.get("valueUri"))
    ]


def access(record: Record) -> dict[str, Any]:
    """The ``access`` extension: {right, conditions}; open when not said."""
    value = record.get("access")
    return value if isinstance(value, dict) else {}


def license_id(record: Record) -> str:
    """The SPDX-style id of the first rights entry that has one."""
    for item in items(record, "rightsList"):
        if item.get("rightsIdentifier"):
            return str(item["rightsIdentifier"])
    return ""
