"""Zenodo's metadata: the crosswalk from our neutral metadata and Zenodo's rules.

Implements the deposit metadata table of the Zenodo REST API document
(reference/zenodo-rest-api.txt, "Deposit metadata") as the service behaves today
(reference/notes-zenodo.md §1.4 input rules, §1.5 publish validation, §1.7 limits).
The payload is always rebuilt from our metadata, never from what the server sent back
(notes §4 "never round-trip server JSON", zenodo/zenodo #2594).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from typing import Any

from deposits.metadata import (
    CONTRIBUTOR_TYPES,
    DATE_TYPES,
    IMAGE_TYPES,
    PUBLICATION_TYPES,
    RELATIONS,
    RESOURCE_TYPES,
    normalize_orcid,
)

from .base import FileJob, Problem

KIND = "zenodo"

# notes §1.7: RDM_RECORDS_MAX_FILES_COUNT, RDM_FILES_DEFAULT_QUOTA_SIZE / MAX_FILE_SIZE
MAX_FILES = 100
MAX_RECORD_BYTES = 50 * 10**9
MAX_FILE_BYTES = 50 * 10**9

UPLOAD_TYPES = {key for key, _ in RESOURCE_TYPES}
PUBLICATION_TYPE_IDS = {key for key, _ in PUBLICATION_TYPES}
IMAGE_TYPE_IDS = {key for key, _ in IMAGE_TYPES}
ACCESS_RIGHTS = {"open", "embargoed", "restricted", "closed"}

# Common ids of Zenodo's license vocabulary (/api/vocabularies/licenses: SPDX ids in lower
# case). Not the whole vocabulary: an id missing here is flagged so a person checks it,
# and the sandbox and production vocabularies differ anyway (notes §4, geoflow #356).
LICENSES = [
    "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nd-4.0", "cc-by-nc-sa-4.0",
    "cc-by-nc-nd-4.0", "cc0-1.0", "cc-by-3.0", "cc-by-sa-3.0", "cc-by-nc-3.0",
    "cc-by-nd-3.0", "cc-by-nc-sa-3.0", "cc-by-nc-nd-3.0", "cc-by-2.5", "cc-by-2.0",
    "cc-pddc", "odc-by-1.0", "odbl-1.0", "pddl-1.0", "etalab-2.0",
    "mit", "apache-2.0", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "isc",
    "gpl-2.0-only", "gpl-2.0-or-later", "gpl-3.0-only", "gpl-3.0-or-later",
    "lgpl-2.1-only", "lgpl-2.1-or-later", "lgpl-3.0-only", "lgpl-3.0-or-later",
    "agpl-3.0-only", "agpl-3.0-or-later", "mpl-2.0", "epl-1.0", "epl-2.0", "eupl-1.1",
    "eupl-1.2", "cecill-2.1", "cecill-b", "cecill-c", "artistic-2.0", "bsl-1.0", "zlib",
    "unlicense", "wtfpl", "ofl-1.1", "lppl-1.3c", "afl-3.0", "ecl-2.0", "ms-pl",
    "postgresql", "python-2.0", "ncsa", "0bsd", "cern-ohl-p-2.0", "cern-ohl-s-2.0",
    "cern-ohl-w-2.0", "other-open", "other-at", "other-nc", "other-closed", "other-pd",
]  # fmt: skip
_LICENSE_BY_LOWER = {lic.lower(): lic for lic in LICENSES}

_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}$")
_EDTF_DAY = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_FUNDER_DOI = re.compile(r"^10\.13039/[\w.-]+$")
_COMMUNITY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_TAG = re.compile(r"<[^>]*>")


# --------------------------------------------------------------------------- crosswalk


def license_id(value: str) -> str:
    """Zenodo's spelling of a license id we know, matching case-insensitively."""
    value = (value or "").strip()
    return _LICENSE_BY_LOWER.get(value.lower(), value.lower())


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


def _funder_doi(value: str) -> str:
    value = (value or "").strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "http://dx.doi.org/", "doi:"):
        if value.lower().startswith(prefix):
            return value[len(prefix) :]
    return value


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
        funder = _funder_doi(fund.get("funder_doi", ""))
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


# --------------------------------------------------------------------------- validation


def _problem(field: str, message: str) -> Problem:
    return Problem(field=field, message=message, source="portal", repository=KIND)


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _people(
    people: list[dict[str, Any]], path: str, what: str, *, typed: bool = False
) -> list[Problem]:
    problems = []
    for i, person in enumerate(people):
        if not str(person.get("name", "")).strip():
            problems.append(
                _problem(f"{path}.{i}.name", f"Give the {what}'s name as 'Family, Given'.")
            )
        if person.get("orcid") and normalize_orcid(person["orcid"]) is None:
            problems.append(
                _problem(
                    f"{path}.{i}.orcid",
                    f"'{person['orcid']}' is not a valid ORCID iD (16 digits as "
                    "0000-0002-1825-0097, last digit a checksum); check it on orcid.org.",
                )
            )
        if typed and person.get("type") and person["type"] not in CONTRIBUTOR_TYPES:
            problems.append(
                _problem(
                    f"{path}.{i}.type",
                    f"Zenodo does not know the contributor role '{person['type']}'; choose "
                    f"one of {', '.join(CONTRIBUTOR_TYPES)}.",
                )
            )
    return problems


def validate(
    metadata: dict[str, Any], options: dict[str, Any], files: list[FileJob]
) -> list[Problem]:
    """Zenodo's rules, checked locally (notes §1.4, §1.5, §1.7; API document tables)."""
    m = metadata
    p: list[Problem] = []

    title = (m.get("title") or "").strip()
    if len(title) < 3:
        p.append(_problem("title", "Zenodo needs a title of at least 3 characters."))

    creators = m.get("creators") or []
    if not any(str(c.get("name", "")).strip() for c in creators):
        p.append(_problem("creators", "Add at least one creator with a name."))
    p += _people(creators, "creators", "creator")
    p += _people(m.get("contributors") or [], "contributors", "contributor", typed=True)
    p += _people(
        (m.get("thesis") or {}).get("supervisors") or [], "thesis.supervisors", "supervisor"
    )

    p += _resource_type(m)

    description = m.get("description") or ""
    if description and len(_TAG.sub("", description).strip()) < 3:
        p.append(_problem("description", "Write a description of at least 3 characters, or none."))

    if m.get("publication_date") and not _EDTF_DAY.match(str(m["publication_date"])):
        p.append(_problem("publication_date", "Give the publication date as YYYY-MM-DD."))

    p += _access(m)

    if m.get("license") and str(m["license"]).strip().lower() not in _LICENSE_BY_LOWER:
        close = difflib.get_close_matches(str(m["license"]).lower(), LICENSES, n=3, cutoff=0.5)
        hint = ", ".join(close or ["cc-by-4.0", "cc0-1.0", "mit", "apache-2.0"])
        p.append(
            _problem(
                "license",
                f"Zenodo does not know the license '{m['license']}': choose one of {hint}, "
                "or another id from Zenodo's license list.",
            )
        )

    if m.get("language") and not _LANGUAGE.match(str(m["language"])):
        p.append(
            _problem(
                "language",
                "Give the language as a 2 or 3 letter ISO 639 code, such as 'en' or 'eng'.",
            )
        )

    for i, date in enumerate(m.get("dates") or []):
        if not (date.get("start") or date.get("end")):
            p.append(_problem(f"dates.{i}", "Give a start or an end date (or both)."))
        for end in ("start", "end"):
            if date.get(end) and not _EDTF_DAY.match(str(date[end])):
                p.append(_problem(f"dates.{i}.{end}", "Write the date as YYYY-MM-DD."))
        if date.get("type") not in DATE_TYPES:
            p.append(
                _problem(f"dates.{i}.type", f"Choose the kind of date: {', '.join(DATE_TYPES)}.")
            )

    for i, rel in enumerate(m.get("related_identifiers") or []):
        if not str(rel.get("identifier", "")).strip():
            p.append(
                _problem(
                    f"related_identifiers.{i}.identifier",
                    "Give the related identifier (a DOI, Handle, URL, arXiv id...).",
                )
            )
        if rel.get("relation") not in RELATIONS:
            p.append(
                _problem(
                    f"related_identifiers.{i}.relation",
                    "Choose how it relates (e.g. isSupplementTo, cites, isPartOf).",
                )
            )

    for i, subject in enumerate(m.get("subjects") or []):
        if not (subject.get("term") and subject.get("identifier")):
            p.append(
                _problem(
                    f"subjects.{i}",
                    "A subject needs a term and its identifier (a URL); use keywords for "
                    "free text.",
                )
            )

    for i, fund in enumerate(m.get("funding") or []):
        if not str(fund.get("award_number", "")).strip():
            p.append(_problem(f"funding.{i}.award_number", "Give the grant's award number."))
        funder = _funder_doi(fund.get("funder_doi", ""))
        if funder and not _FUNDER_DOI.match(funder):
            p.append(
                _problem(
                    f"funding.{i}.funder_doi",
                    "Give the funder as its Crossref Funder Registry DOI, e.g. "
                    "10.13039/501100000780 for the European Commission.",
                )
            )

    for i, loc in enumerate(m.get("locations") or []):
        if not str(loc.get("place", "")).strip():
            p.append(_problem(f"locations.{i}.place", "Give the place's name."))
        for key, bound in (("lat", 90), ("lon", 180)):
            value = loc.get(key)
            if value in (None, ""):
                continue
            try:
                ok = -bound <= float(value) <= bound
            except (TypeError, ValueError):
                ok = False
            if not ok:
                p.append(_problem(f"locations.{i}.{key}", f"Give {key} as a number in ±{bound}."))

    conference = m.get("conference") or {}
    if (conference.get("dates") or conference.get("place")) and not (
        conference.get("title") or conference.get("acronym")
    ):
        p.append(
            _problem(
                "conference.title",
                "Zenodo needs the conference's title or acronym when dates or place are given.",
            )
        )

    p += _options(options)
    p += _files(files, options)
    return p


def _resource_type(m: dict[str, Any]) -> list[Problem]:
    kind = m.get("resource_type")
    if not kind:
        return [_problem("resource_type", "Choose a resource type (dataset, software, ...).")]
    if kind not in UPLOAD_TYPES:
        return [_problem("resource_type", f"Zenodo has no resource type '{kind}'.")]
    if kind == "publication" and m.get("publication_type") not in PUBLICATION_TYPE_IDS:
        return [
            _problem(
                "publication_type",
                "Choose the kind of publication (journal article, report, preprint, ...).",
            )
        ]
    if kind == "image" and m.get("image_type") not in IMAGE_TYPE_IDS:
        return [_problem("image_type", "Choose the kind of image (figure, photo, plot, ...).")]
    return []


def _access(m: dict[str, Any]) -> list[Problem]:
    access = m.get("access_right") or "open"
    if access not in ACCESS_RIGHTS:
        return [_problem("access_right", "Choose open, embargoed, restricted or closed access.")]
    if access == "embargoed":
        until = _date(m.get("embargo_date"))
        if until is None:
            return [_problem("embargo_date", "Give the date the embargo ends (YYYY-MM-DD).")]
        if until <= dt.datetime.now(dt.UTC).date():
            return [
                _problem(
                    "embargo_date",
                    "The embargo date must be in the future; choose a later date or open access.",
                )
            ]
    if access == "restricted" and not str(m.get("access_conditions") or "").strip():
        return [
            _problem(
                "access_conditions",
                "Say under which conditions people may get the files; Zenodo asks for it "
                "with restricted access.",
            )
        ]
    return []


def _options(options: dict[str, Any]) -> list[Problem]:
    communities = options.get("communities") or []
    if not isinstance(communities, list):
        return [_problem("options.communities", "List the Zenodo community ids, one per entry.")]
    problems = []
    for i, community in enumerate(communities):
        ident = community.get("identifier") if isinstance(community, dict) else community
        if not isinstance(ident, str) or not _COMMUNITY.match(ident):
            problems.append(
                _problem(
                    f"options.communities.{i}",
                    f"'{ident}' is not a Zenodo community id: use the short name from the "
                    "community's address, e.g. 'ecfunded' for zenodo.org/communities/ecfunded.",
                )
            )
    return problems


def _files(files: list[FileJob], options: dict[str, Any]) -> list[Problem]:
    live = [f for f in files if f.status != "delete"]
    if not live:
        # notes §1.4: the deposit API forces files.enabled, so there are no metadata-only
        # records through it; publish would fail with "Missing uploaded files".
        message = "Add at least one file: Zenodo publishes no record without files."
        if options.get("metadata_only"):
            message = (
                "Zenodo's deposit API cannot make metadata-only records; add at least one file."
            )
        return [_problem("files", message)]
    problems = []
    if len(live) > MAX_FILES:
        problems.append(
            _problem(
                "files",
                f"Zenodo takes at most {MAX_FILES} files per record; you have {len(live)}. "
                "Pack them into a few archives (zip, tar).",
            )
        )
    for f in live:
        if f.size > MAX_FILE_BYTES:
            problems.append(
                _problem(
                    "files",
                    f"'{f.name}' is {f.size / 1e9:.1f} GB; Zenodo takes at most 50 GB per file.",
                )
            )
    total = sum(f.size for f in live)
    if total > MAX_RECORD_BYTES:
        problems.append(
            _problem(
                "files",
                f"The files add up to {total / 1e9:.1f} GB; Zenodo takes at most 50 GB per "
                "record (ask Zenodo support for a quota increase).",
            )
        )
    return problems


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
