"""Input rules of the deposit API: the body deserializer (notes §1.4) and publish checks (§1.5).

What is kept is the legacy-shaped metadata the deposit API echoes back, with the service's
defaults applied and unknown keys dropped. Draft-level problems are not reported on
``PUT`` (the legacy serializer drops them, notes §0), only at publish.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from django.http import HttpRequest

from .errors import ApiError, ValidationFailed
from .vocabularies import (
    ACCESS_RIGHTS,
    LANGUAGES_639_1,
    RESOURCE_SUBTYPES,
    license_id,
    resource_type_exists,
)

STRING_FIELDS = [
    "title",
    "description",
    "notes",
    "method",
    "version",
    "publication_date",
    "embargo_date",
    "access_conditions",
    "upload_type",
    "publication_type",
    "image_type",
    "doi",
    "journal_title",
    "journal_volume",
    "journal_issue",
    "journal_pages",
    "conference_title",
    "conference_acronym",
    "conference_dates",
    "conference_place",
    "conference_url",
    "conference_session",
    "conference_session_part",
    "imprint_isbn",
    "imprint_place",
    "partof_title",
    "partof_pages",
    "thesis_university",
]
PEOPLE_FIELDS = ("creators", "contributors", "thesis_supervisors")
OTHER_FIELDS = [
    "access_right",
    "license",
    "keywords",
    "related_identifiers",
    "communities",
    "grants",
    "dates",
    "language",
    "locations",
    "references",
    "subjects",
    "imprint_publisher",
    "prereserve_doi",
]
KNOWN_FIELDS = frozenset([*STRING_FIELDS, *PEOPLE_FIELDS, *OTHER_FIELDS])
EDTF = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?(/\d{4}(-\d{2}(-\d{2})?)?)?$")
NO_FILES = (
    "Missing uploaded files. To disable files for this record please mark it as metadata-only."
)
Errors = dict[str, list[str]]


def read_json(request: HttpRequest) -> dict[str, Any]:
    """The JSON object of a create/update body; an empty body counts as ``{}``."""
    if not request.body.strip():
        return {}
    content_type = request.content_type or ""
    if content_type and content_type != "application/json":
        raise ApiError(415, "Invalid 'Content-Type' header. Expected one of: application/json.")
    try:
        body = json.loads(request.body)
    except ValueError as exc:
        raise ApiError(400, "Unable to decode JSON data in request body.") from exc
    if not isinstance(body, dict):
        raise ValidationFailed({"_schema": ["Invalid input type."]})
    return body


def deserialize(body: dict[str, Any]) -> dict[str, Any] | None:
    """Turn a deposition body into stored metadata, or ``None`` when it has no ``metadata``.

    Only ``metadata`` (and ``files``, which is forced) is accepted at the top level; inside
    ``metadata`` unknown keys are dropped silently (notes §0, §1.4).
    """
    unknown = sorted(set(body) - {"metadata", "files"})
    if unknown:
        raise ValidationFailed({key: ["Unknown field."] for key in unknown})
    if "metadata" not in body:
        return None
    raw = body["metadata"]
    if not isinstance(raw, dict):
        raise ValidationFailed({"metadata": ["Invalid input type."]})
    errors: Errors = {}
    given = {key: value for key, value in raw.items() if key in KNOWN_FIELDS and value is not None}
    if set(given) == {"imprint_publisher"}:
        raise ValidationFailed({"metadata": ["Metadata must be non-empty"]})
    metadata: dict[str, Any] = {}
    _strings(given, metadata, errors)
    metadata.setdefault("publication_date", datetime.date.today().isoformat())
    metadata["imprint_publisher"] = "Zenodo"
    _access(given, metadata, errors)
    for name in PEOPLE_FIELDS:
        if name in given:
            metadata[name] = _people(name, given[name], errors)
    _keywords(given, metadata, errors)
    _communities(given, metadata, errors)
    _related_identifiers(given, metadata, errors)
    _language(given, metadata, errors)
    _dates(given, metadata, errors)
    _grants(given, metadata, errors)
    for name in ("locations", "references", "subjects"):
        if isinstance(given.get(name), list):
            metadata[name] = given[name]
    if errors:
        raise ValidationFailed(errors)
    return metadata


def _strings(given: dict[str, Any], metadata: dict[str, Any], errors: Errors) -> None:
    """The free-text fields (``STRING_FIELDS``): each must be a string."""
    for name in STRING_FIELDS:
        if name in given:
            if isinstance(given[name], str):
                metadata[name] = given[name]
            else:
                errors[f"metadata.{name}"] = ["Not a valid string."]


def _keywords(given: dict[str, Any], metadata: dict[str, Any], errors: Errors) -> None:
    """A list of strings."""
    if "keywords" in given:
        keywords = given["keywords"]
        if isinstance(keywords, list) and all(isinstance(k, str) for k in keywords):
            metadata["keywords"] = keywords
        else:
            errors["metadata.keywords"] = ["Not a valid list."]


def _access(given: dict[str, Any], metadata: dict[str, Any], errors: Errors) -> None:
    """``access_right`` and the default license (CC0 for datasets, else CC-BY, notes §1.4)."""
    access_right = given.get("access_right", "open")
    if access_right not in ACCESS_RIGHTS or (
        access_right == "embargoed" and not given.get("embargo_date")
    ):
        errors["metadata.access_right"] = ["Unknown access type."]
        return
    metadata["access_right"] = access_right
    if "license" in given:
        value = given["license"]
        if isinstance(value, dict):
            value = value.get("id")
        if not isinstance(value, str):
            errors["metadata.license"] = [
                "Invalid license value provided. Expected a string or an object with an id."
            ]
        elif license_id(value) is None:
            errors["metadata.license"] = [f"Invalid license provided: {value}"]
        else:
            metadata["license"] = license_id(value)
    elif access_right in ("open", "embargoed"):
        metadata["license"] = "cc0-1.0" if given.get("upload_type") == "dataset" else "cc-by-4.0"


def _people(name: str, value: Any, errors: Errors) -> list[dict[str, Any]]:
    """Creators and the like: ``name`` as "Family, Given"; ORCID and GND without URL prefix."""
    if not isinstance(value, list):
        errors[f"metadata.{name}"] = ["Not a valid list."]
        return []
    people = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            errors[f"metadata.{name}.{index}"] = ["Invalid input type."]
            continue
        person: dict[str, Any] = {
            "name": str(item.get("name") or "").strip(),
            "affiliation": item.get("affiliation") or None,
        }
        for scheme, prefix in (("orcid", "https://orcid.org/"), ("gnd", "https://d-nb.info/gnd/")):
            if item.get(scheme):
                person[scheme] = str(item[scheme]).removeprefix(prefix).removeprefix(f"{scheme}:")
        if name == "contributors" and item.get("type"):
            person["type"] = item["type"]
        people.append(person)
    return people


def _communities(given: dict[str, Any], metadata: dict[str, Any], errors: Errors) -> None:
    """Must be ``[{"identifier": ...}]``; applying them at publish never fails (notes §1.4)."""
    if "communities" not in given:
        return
    value = given["communities"]
    if isinstance(value, list) and all(
        isinstance(c, dict) and isinstance(c.get("identifier"), str) for c in value
    ):
        metadata["communities"] = [{"identifier": c["identifier"]} for c in value]
    else:
        errors["communities"] = ['Invalid communities: expected [{"identifier": "..."}].']


def _related_identifiers(given: dict[str, Any], metadata: dict[str, Any], errors: Errors) -> None:
    if "related_identifiers" not in given:
        return
    value = given["related_identifiers"]
    if not isinstance(value, list):
        errors["metadata.related_identifiers"] = ["Not a valid list."]
        return
    kept = []
    for index, item in enumerate(value):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("relation"), str)
            and isinstance(item.get("identifier"), str)
        ):
            errors[f"metadata.related_identifiers.{index}"] = [
                "A related identifier needs a string identifier and relation."
            ]
            continue
        entry = {
            "identifier": item["identifier"],
            "relation": item["relation"],
            "scheme": _scheme(item["identifier"]),
        }
        if item.get("resource_type"):
            entry["resource_type"] = item["resource_type"]
        kept.append(entry)
    metadata["related_identifiers"] = kept


def _scheme(identifier: str) -> str:
    """Zenodo detects the scheme from the identifier itself (notes §1.4)."""
    checks = (
        ("doi", r"^(doi:|https?://(dx\.)?doi\.org/)?10\.\d{4,}/"),
        ("arxiv", r"^(arxiv:)?\d{4}\.\d{4,5}(v\d+)?$"),
        ("url", r"^https?://"),
        ("isbn", r"^(97[89])?\d{9}[\dX]$"),
        ("urn", r"^urn:"),
    )
    for scheme, pattern in checks:
        if re.match(pattern, identifier, re.IGNORECASE):
            return scheme
    return "other"


def _language(given: dict[str, Any], metadata: dict[str, Any], errors: Errors) -> None:
    """ISO 639-1 codes are stored as their ISO 639-2 equivalent, as RDM does."""
    if "language" not in given:
        return
    value = given["language"]
    if not isinstance(value, str) or len(value) not in (2, 3) or not value.isalpha():
        errors["metadata.language"] = ["Language must be either ISO-639-1 or 639-2 compatible."]
        return
    metadata["language"] = LANGUAGES_639_1.get(value.lower(), value.lower())


def _dates(given: dict[str, Any], metadata: dict[str, Any], errors: Errors) -> None:
    if "dates" not in given:
        return
    value = given["dates"]
    if not isinstance(value, list) or not all(isinstance(d, dict) for d in value):
        errors["metadata.dates"] = ["Not a valid list."]
        return
    for index, item in enumerate(value):
        if not (item.get("start") or item.get("end")):
            errors["metadata.dates"] = ["Invalid date provided."]
        if not item.get("type"):
            errors[f"metadata.dates.{index}.type"] = ["Missing data for required field."]
    metadata["dates"] = value


def _grants(given: dict[str, Any], metadata: dict[str, Any], errors: Errors) -> None:
    """``"funderDOI::award"``; a bare award id is an EU FP7 grant (notes §1.4)."""
    if "grants" not in given:
        return
    value = given["grants"]
    if not isinstance(value, list) or not all(
        isinstance(g, dict) and isinstance(g.get("id"), str) for g in value
    ):
        errors["metadata.grants"] = ['Invalid grants: expected [{"id": "funderDOI::award"}].']
        return
    metadata["grants"] = [
        {"id": g["id"] if "::" in g["id"] else f"10.13039/501100000780::{g['id']}"} for g in value
    ]


def publish_errors(metadata: dict[str, Any], file_count: int) -> Errors:
    """RDM's strict validation at publish (notes §1.5): what a draft may be missing until then."""
    errors: Errors = {}
    title = metadata.get("title") or ""
    if not title:
        errors["metadata.title"] = ["Missing data for required field."]
    elif len(title) < 3:
        errors["metadata.title"] = ["Shorter than minimum length 3."]
    creators = metadata.get("creators") or []
    if not creators:
        errors["metadata.creators"] = ["Missing data for required field."]
    for index, creator in enumerate(creators):
        if not creator.get("name"):
            errors[f"metadata.creators.{index}.person_or_org.family_name"] = [
                "Family name must be filled."
            ]
    upload_type = metadata.get("upload_type")
    if not upload_type:
        errors["metadata.resource_type"] = ["Missing data for required field."]
    else:
        subtype = metadata.get(f"{upload_type}_type") if upload_type in RESOURCE_SUBTYPES else None
        if not resource_type_exists(upload_type, subtype):
            resource_type = f"{upload_type}-{subtype}" if subtype else upload_type
            errors["metadata.resource_type"] = [f"Invalid value {resource_type}."]
    if not EDTF.match(metadata.get("publication_date") or ""):
        errors["metadata.publication_date"] = ["Please provide a valid date or interval."]
    description = metadata.get("description")
    if description and len(description) < 3:
        errors["metadata.description"] = ["Shorter than minimum length 3."]
    if file_count == 0:
        errors["files.enabled"] = [NO_FILES]
    return errors
