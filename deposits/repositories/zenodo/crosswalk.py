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

from deposits import metadata as md
from deposits.metadata import editing
from deposits.metadata.vocabulary import RELATED_IDENTIFIER_TYPES, type_for

from .rules import funder_doi, license_id

# --------------------------------------------------------------------------- crosswalk

Payload = dict[str, Any]


def _compact(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v not in (None, "", [], {})}


def _person(person: dict[str, Any], *, with_type: bool = False) -> Payload:
    """A DataCite creator/contributor as Zenodo's: name "Family, Given", affiliation,
    orcid, gnd (and the contributor's role as ``type``); Zenodo's deposit API has no
    place for an affiliation's ROR id."""
    out: Payload = {"name": str(person.get("name", "")).strip()}
    out.update(editing.person_view(person))
    out.pop("ror", None)
    if with_type:
        out["type"] = person.get("contributorType") or "Other"
    return out


def _relation(relation: str) -> str:
    """Zenodo spells DataCite's relations with a lower-case first letter."""
    return relation[:1].lower() + relation[1:]


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


def upload_type(record: md.Record) -> Payload:
    """``types`` as upload_type with its publication or image subtype."""
    rtype = md.resource_type(record)
    if rtype is None:
        types = record.get("types") if isinstance(record.get("types"), dict) else {}
        return _compact({"upload_type": (types or {}).get("resourceType")})
    out = {"upload_type": rtype.parent}
    if rtype.parent in ("publication", "image"):
        out[f"{rtype.parent}_type"] = rtype.subtype
    return _compact(out)


def _access(record: md.Record) -> Payload:
    access = md.record.access(record)
    right = access.get("right")
    return _compact(
        {
            "access_right": right,
            "embargo_date": md.date(record, "Available") if right == "embargoed" else "",
            "access_conditions": access.get("conditions") if right == "restricted" else "",
            "license": license_id(md.license_id(record)) if md.license_id(record) else "",
        }
    )


def _subjects(record: md.Record) -> Payload:
    subjects = editing.subjects_view(record)
    return _compact({"keywords": md.keywords(record), "subjects": subjects})


def _related_identifiers(record: md.Record, related: list[dict[str, str]]) -> Payload:
    """Related and alternate identifiers, then the deposit's other targets' identifiers."""
    relations: list[Payload] = []
    for item in md.items(record, "relatedIdentifiers"):
        rtype = type_for(item.get("resourceTypeGeneral"), item.get("resourceType"))
        scheme = str(item.get("relatedIdentifierType") or "")
        relations.append(
            _compact(
                {
                    "identifier": item.get("relatedIdentifier"),
                    "relation": _relation(str(item.get("relationType") or "")),
                    "resource_type": rtype.id if rtype else "",
                    "scheme": scheme.lower() if scheme in RELATED_IDENTIFIER_TYPES else scheme,
                }
            )
        )
    for item in md.items(record, "alternateIdentifiers"):
        scheme = str(item.get("alternateIdentifierType") or "")
        relations.append(
            _compact(
                {
                    "identifier": item.get("alternateIdentifier"),
                    "relation": "isAlternateIdentifier",
                    "scheme": scheme.lower() if scheme in RELATED_IDENTIFIER_TYPES else scheme,
                }
            )
        )
    seen = {str(r.get("identifier", "")).lower() for r in relations}
    for sibling in _sibling_identifiers(related):
        if sibling["identifier"].lower() not in seen:
            seen.add(sibling["identifier"].lower())
            relations.append(sibling)
    return _compact({"related_identifiers": relations})


def _grants(record: md.Record) -> Payload:
    grants = []
    for fund in md.items(record, "fundingReferences"):
        award = str(fund.get("awardNumber", "")).strip()
        funder = funder_doi(str(fund.get("funderIdentifier", "")))
        if award:
            # notes §1.4: "funderDOI::award"; a bare award id means the EC (FP7)
            grants.append({"id": f"{funder}::{award}" if funder else award})
    return _compact({"grants": grants})


def _dates_and_places(record: md.Record) -> Payload:
    """Collected/valid/withdrawn dates, locations and the journal, as Zenodo names them."""
    journal = {f"journal_{key}": value for key, value in editing.journal_view(record).items()}
    return _compact(
        {
            "dates": editing.dates_view(record),
            "locations": editing.locations_view(record),
            **journal,
        }
    )


def _publication_details(record: md.Record) -> Payload:
    """Conference, imprint, book and thesis: the portal's extensions, as Zenodo names them."""
    out: Payload = {}
    for prefix, source, keys in (
        (
            "conference",
            "conference",
            ("title", "acronym", "dates", "place", "url", "session", "session_part"),
        ),
        ("imprint", "imprint", ("publisher", "isbn", "place")),
        ("partof", "partOf", ("title", "pages")),
    ):
        block = record.get(source) if isinstance(record.get(source), dict) else {}
        out.update(_compact({f"{prefix}_{key}": (block or {}).get(key) for key in keys}))
    thesis = record.get("thesis") if isinstance(record.get("thesis"), dict) else {}
    out.update(
        _compact(
            {
                "thesis_university": (thesis or {}).get("university"),
                "thesis_supervisors": [_person(p) for p in md.items(thesis or {}, "supervisors")],
            }
        )
    )
    return out


def _communities(options: dict[str, Any]) -> Payload:
    return _compact(
        {
            "communities": [
                {"identifier": c["identifier"] if isinstance(c, dict) else str(c)}
                for c in options.get("communities") or []
            ]
        }
    )


def to_zenodo(
    metadata: md.Record,
    options: dict[str, Any] | None = None,
    related: list[dict[str, str]] | None = None,
) -> Payload:
    """Neutral metadata (a DataCite record) -> Zenodo deposit ``metadata`` (API document,
    "Deposit metadata").

    Options carry what has no neutral equivalent: ``communities`` (list of ids) and
    ``prereserve_doi``. ``related`` are identifiers of the deposit's other targets.
    """
    record = metadata
    options = options or {}
    out: Payload = _compact(
        {
            "title": md.title(record),
            **upload_type(record),
            "publication_date": md.date(record, "Issued"),
            "creators": [_person(p) for p in md.items(record, "creators")],
            "contributors": [_person(p, with_type=True) for p in md.items(record, "contributors")],
            "description": md.description(record, "Abstract"),
        }
    )
    out.update(_access(record))
    out.update(_subjects(record))
    out.update(_related_identifiers(record, related or []))
    references = [r for r in record.get("references") or [] if str(r).strip()]
    out.update(_compact({"references": references}))
    out.update(_communities(options))
    out.update(_grants(record))
    out.update(
        _compact(
            {
                "version": record.get("version"),
                "language": record.get("language"),
                "notes": md.description(record, "Other"),
                "method": md.description(record, "Methods"),
            }
        )
    )
    out.update(_dates_and_places(record))
    out.update(_publication_details(record))
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
