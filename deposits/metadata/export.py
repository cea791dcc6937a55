"""A record as DataCite 4.5 JSON and XML, checked with the ``datacite`` package's schema.

The stored record is DataCite-shaped already; the export leaves out the portal's
extensions, adds what DataCite requires and the portal knows from elsewhere (the DOI,
the publisher, the publication year, access as an info:eu-repo rights entry, a funder's
name) and drops entries DataCite would refuse for want of a required part (a related
item without a title, a point with one coordinate), so every export validates.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from datacite import schema45

from .record import Record, access, empty, items
from .vocabulary import ACCESS_RIGHTS_URI, FUNDER_NAMES

SCHEMA_VERSION = "http://datacite.org/schema/kernel-4"
# The properties of each DataCite object the export copies; the rest are extensions.
KEEP = {
    "relatedIdentifiers": (
        "relatedIdentifier", "relatedIdentifierType", "relationType", "resourceTypeGeneral",
        "relatedMetadataScheme", "schemeUri", "schemeType",
    ),
    "geoLocations": ("geoLocationPlace", "geoLocationPoint", "geoLocationBox", "geoLocationPolygon"),
}  # fmt: skip
COPIED = (
    "creators", "titles", "types", "subjects", "contributors", "dates", "language",
    "alternateIdentifiers", "sizes", "formats", "version", "rightsList", "descriptions",
    "fundingReferences", "relatedItems",
)  # fmt: skip
_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)?(10\.\d{4,9}/\S+)$", re.I)
_ARXIV = re.compile(r"^(?:arxiv:)?\d{4}\.\d{4,5}(v\d+)?$", re.I)
_TAG = re.compile(r"<[^>]+>")


class ExportError(ValueError):
    """The record cannot be expressed as valid DataCite; ``problems`` says where."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _identifier_type(value: str) -> str:
    if _DOI.match(value):
        return "DOI"
    if _ARXIV.match(value):
        return "arXiv"
    if value.lower().startswith(("http://", "https://")):
        return "URL"
    return "URN" if value.lower().startswith("urn:") else "URL"


def _related_identifiers(record: Record) -> list[dict[str, Any]]:
    out = []
    for item in items(record, "relatedIdentifiers"):
        kept = {k: item[k] for k in KEEP["relatedIdentifiers"] if not empty(item.get(k))}
        if not kept.get("relatedIdentifier") or not kept.get("relationType"):
            continue
        kept.setdefault("relatedIdentifierType", _identifier_type(kept["relatedIdentifier"]))
        out.append(kept)
    return out


def _geo_locations(record: Record) -> list[dict[str, Any]]:
    out = []
    for item in items(record, "geoLocations"):
        kept = {k: item[k] for k in KEEP["geoLocations"] if not empty(item.get(k))}
        point = kept.get("geoLocationPoint")
        if isinstance(point, dict) and not {"pointLatitude", "pointLongitude"} <= set(point):
            kept.pop("geoLocationPoint")
        if kept:
            out.append(kept)
    return out


def _funding(record: Record) -> list[dict[str, Any]]:
    out = []
    for item in items(record, "fundingReferences"):
        funder = str(item.get("funderIdentifier") or "")
        bare = funder.removeprefix("https://doi.org/")
        name = item.get("funderName") or FUNDER_NAMES.get(bare) or funder
        if name:
            out.append({**item, "funderName": name})
    return out


def _rights(record: Record) -> list[dict[str, Any]]:
    rights = list(items(record, "rightsList"))
    right = access(record).get("right") or "open"
    if right in ACCESS_RIGHTS_URI:
        rights.append(
            {"rights": f"{right.capitalize()} access", "rightsUri": ACCESS_RIGHTS_URI[right]}
        )
    return rights


def _descriptions(record: Record) -> list[dict[str, Any]]:
    """DataCite descriptions are plain text: the abstract's HTML tags are taken out."""
    out = []
    for item in items(record, "descriptions"):
        text = _TAG.sub("", str(item.get("description") or "")).strip()
        if text and item.get("descriptionType"):
            out.append({**item, "description": text})
    return out


def _problem(error: Any) -> str:
    """ "creators: 'creators' is a required property": the path first, a missing
    property included, so a reader (or the page) knows which field it concerns."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = re.search(r"'([^']+)'", error.message)
        path.append(missing.group(1) if missing else "")
    return f"{'.'.join(path) or 'record'}: {error.message}"


def datacite_json(
    record: Record, *, doi: str = "", publisher: str = "", year: str = ""
) -> dict[str, Any]:
    """The DataCite 4.5 JSON for a record; raises ExportError if it does not validate."""
    data: dict[str, Any] = {k: record[k] for k in COPIED if not empty(record.get(k))}
    match = _DOI.match(doi or "")
    if match:
        data["doi"] = match.group(1)
    stored = record.get("publisher") if isinstance(record.get("publisher"), dict) else {}
    data["publisher"] = stored or {"name": publisher or "(unpublished)"}
    data["publicationYear"] = (
        str(record.get("publicationYear") or year or dt.datetime.now(dt.UTC).year)
    )[:4]
    data["descriptions"] = _descriptions(record)
    data["relatedIdentifiers"] = _related_identifiers(record)
    data["geoLocations"] = _geo_locations(record)
    data["fundingReferences"] = _funding(record)
    data["rightsList"] = _rights(record)
    data["relatedItems"] = [i for i in items(record, "relatedItems") if i.get("titles")]
    data["schemaVersion"] = SCHEMA_VERSION
    data = {k: v for k, v in data.items() if not empty(v)}
    problems = [_problem(error) for error in schema45.validator.iter_errors(data)]
    if problems:
        raise ExportError(problems)
    return data


def datacite_xml(data: dict[str, Any]) -> str:
    """DataCite 4.5 XML for JSON from ``datacite_json``."""
    return str(schema45.tostring(data))
