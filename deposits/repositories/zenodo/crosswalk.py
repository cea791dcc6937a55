"""Zenodo's metadata: the crosswalk from our neutral metadata to Zenodo's payload, and
Zenodo's error field paths back to ours.

Implements the deposit metadata table of the Zenodo REST API document
(reference/zenodo-rest-api.txt, "Deposit metadata") as the service behaves today
(reference/notes-zenodo.md §1.4 input rules, §1.8 error field paths). The payload is
always rebuilt from our metadata, never from what the server sent back (notes §4 "never
round-trip server JSON", zenodo/zenodo #2594). Zenodo's rules for that metadata, checked
locally, and its license vocabulary are in ``rules``.
"""

from __future__ import annotations

from typing import Any

from deposits.metadata import normalize_orcid

from .rules import funder_doi, license_id

# --------------------------------------------------------------------------- crosswalk


def _person(person: dict[str, Any], *, with_type: bool = False) -> dict[str, Any]:
    """A creator/contributor/supervisor: name "Family, Given", affiliation, orcid, gnd."""
    out: dict[str, Any] = {"name": str(person.get("name", "")).strip()}
    if person.get("affiliation"):
        out["affiliation"] = person["affiliation"]
    if person.get("orcid"):
        out["orcid"] = normalize_orcid(person["orcid"]) or person["orcid"]
    if person.get("gnd"):
        out["gnd"] = person["gnd"]
    if with_type:
        out["type"] = person.get("type") or "Other"
    return out


def _compact(item: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: item[k] for k in keys if item.get(k) not in (None, "", [], {})}


def _sibling_identifiers(related: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Identifiers of the deposit's other targets, cited from this record.

    The same deposit in another repository holds the same files, so its version
    identifier ``isIdenticalTo`` this one unless the lifecycle says otherwise
    (``relation`` in the item). Concept identifiers name all versions, not this one,
    and are left out unless a relation is given.
    """
    out = []
    for item in related:
        relation = item.get("relation") or (
            "isIdenticalTo" if item.get("scope") != "concept" else ""
        )
        value = item.get("value", "")
        if not relation or not value:
            continue
        # Zenodo detects DOIs from the bare value; other schemes are safest as a URL.
        identifier = value if item.get("scheme") == "doi" or not item.get("url") else item["url"]
        out.append({"identifier": identifier, "relation": relation})
    return out


def to_zenodo(
    metadata: dict[str, Any],
    options: dict[str, Any] | None = None,
    related: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Neutral metadata -> Zenodo deposit ``metadata`` (API document, "Deposit metadata").

    Options carry what has no neutral equivalent: ``communities`` (list of ids) and
    ``prereserve_doi``. ``related`` are identifiers of the deposit's other targets.
    """
    m = metadata
    options = options or {}
    out: dict[str, Any] = {}

    def put(key: str, value: Any) -> None:
        if value not in (None, "", [], {}):
            out[key] = value

    put("title", (m.get("title") or "").strip())
    put("upload_type", m.get("resource_type"))
    if m.get("resource_type") == "publication":
        put("publication_type", m.get("publication_type"))
    if m.get("resource_type") == "image":
        put("image_type", m.get("image_type"))
    put("publication_date", m.get("publication_date"))
    put("creators", [_person(p) for p in m.get("creators") or []])
    put("contributors", [_person(p, with_type=True) for p in m.get("contributors") or []])
    put("description", m.get("description"))

    access = m.get("access_right")
    put("access_right", access)
    if access == "embargoed":
        put("embargo_date", m.get("embargo_date"))
    if access == "restricted":
        put("access_conditions", m.get("access_conditions"))
    if m.get("license"):
        put("license", license_id(m["license"]))

    put("keywords", [k for k in m.get("keywords") or [] if str(k).strip()])
    put(
        "subjects",
        [_compact(s, ("term", "identifier", "scheme")) for s in m.get("subjects") or []],
    )

    relations = [
        _compact(r, ("identifier", "relation", "resource_type", "scheme"))
        for r in m.get("related_identifiers") or []
    ]
    seen = {str(r.get("identifier", "")).lower() for r in relations}
    for sibling in _sibling_identifiers(related or []):
        if sibling["identifier"].lower() not in seen:
            seen.add(sibling["identifier"].lower())
            relations.append(sibling)
    put("related_identifiers", relations)

    put("references", [r for r in m.get("references") or [] if str(r).strip()])
    put(
        "communities",
        [
            {"identifier": c["identifier"] if isinstance(c, dict) else str(c)}
            for c in options.get("communities") or []
        ],
    )
    grants = []
    for fund in m.get("funding") or []:
        award = str(fund.get("award_number", "")).strip()
        funder = funder_doi(fund.get("funder_doi", ""))
        if award:
            # notes §1.4: "funderDOI::award"; a bare award id means the EC (FP7)
            grants.append({"id": f"{funder}::{award}" if funder else award})
    put("grants", grants)

    put("version", m.get("version"))
    put("language", m.get("language"))
    put("notes", m.get("notes"))
    put("method", m.get("method"))
    put(
        "dates",
        [_compact(d, ("start", "end", "type", "description")) for d in m.get("dates") or []],
    )
    put(
        "locations",
        [_compact(loc, ("lat", "lon", "place", "description")) for loc in m.get("locations") or []],
    )

    for prefix, source, keys in (
        ("journal", "journal", ("title", "volume", "issue", "pages")),
        (
            "conference",
            "conference",
            ("title", "acronym", "dates", "place", "url", "session", "session_part"),
        ),
        ("imprint", "imprint", ("publisher", "isbn", "place")),
        ("partof", "part_of", ("title", "pages")),
    ):
        block = m.get(source) or {}
        for key in keys:
            put(f"{prefix}_{key}", block.get(key))
    thesis = m.get("thesis") or {}
    put("thesis_university", thesis.get("university"))
    put("thesis_supervisors", [_person(p) for p in thesis.get("supervisors") or []])

    if options.get("prereserve_doi"):
        out["prereserve_doi"] = True
    return out


# --------------------------------------------------------------------------- field paths

_PREFIXED = {
    "journal_": "journal.",
    "conference_": "conference.",
    "imprint_": "imprint.",
    "partof_": "part_of.",
    "thesis_": "thesis.",
}
_RENAMED = {
    "upload_type": "resource_type",
    "resource_type": "resource_type",
    "rights": "license",
    "languages": "language",
    "grants": "funding",
    "communities": "options.communities",
    "embargo_date": "embargo_date",
    "access.embargo": "embargo_date",
    "files.enabled": "files",
    "files": "files",
}


def neutral_field(path: str) -> str:
    """Map a Zenodo error field path back to our neutral field path.

    Legacy paths ("metadata.creators.0.name", "metadata.upload_type") and RDM paths
    ("metadata.creators.0.person_or_org.family_name", "metadata.rights.0.id") both occur
    (notes §1.8).
    """
    path = (path or "").strip()
    if path.startswith("metadata."):
        path = path[len("metadata.") :]
    for zenodo, neutral in sorted(_RENAMED.items(), key=lambda kv: -len(kv[0])):
        if path == zenodo or path.startswith(zenodo + "."):
            rest = path[len(zenodo) :]
            if neutral in ("license", "language", "files", "embargo_date", "resource_type"):
                return neutral
            if neutral == "funding":  # grants.0.id -> funding.0: one grant is one funding
                return ".".join(["funding", *rest.split(".")[1:2]])
            return neutral + rest
    for zenodo, neutral in _PREFIXED.items():
        if path.startswith(zenodo):
            return neutral + path[len(zenodo) :]
    parts = path.split(".")
    if parts and parts[0] in ("creators", "contributors") and "person_or_org" in parts:
        # RDM nests names: creators.0.person_or_org.family_name -> creators.0.name
        head = parts[: parts.index("person_or_org")]
        tail = parts[parts.index("person_or_org") + 1 :]
        if tail and tail[0] in ("identifiers",):
            return ".".join([*head, "orcid"])
        return ".".join([*head, "name"])
    if parts and parts[0] in ("creators", "contributors") and "affiliations" in parts:
        return ".".join([*parts[: parts.index("affiliations")], "affiliation"])
    return path
