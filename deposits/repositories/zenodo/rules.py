"""Zenodo's rules for a deposit, checked locally, and Zenodo's license vocabulary.

Implements the input rules of the deposit metadata table of the Zenodo REST API document
(reference/zenodo-rest-api.txt, "Deposit metadata") as the service behaves today
(reference/notes-zenodo.md §1.4 input rules, §1.5 publish validation, §1.7 limits), so
that what we flag is what Zenodo would refuse. The license ids are those of Zenodo's
license vocabulary (notes §4). The crosswalk to Zenodo's payload is in ``crosswalk``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from typing import Any

from deposits import metadata as md
from deposits.metadata import (
    CONTRIBUTOR_TYPES,
    DATE_TYPES,
    IMAGE_TYPES,
    PUBLICATION_TYPES,
    RELATION_CHOICES,
    RESOURCE_TYPES,
    normalize_orcid,
)

from ..base import FileJob, FileState, Problem

KIND = "zenodo"
View = dict[str, Any]  # the editor's view of a record (deposits.metadata.editing)

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


def license_id(value: str) -> str:
    """Zenodo's spelling of a license id we know, matching case-insensitively."""
    value = (value or "").strip()
    return _LICENSE_BY_LOWER.get(value.lower(), value.lower())


def funder_doi(value: str) -> str:
    value = (value or "").strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "http://dx.doi.org/", "doi:"):
        if value.lower().startswith(prefix):
            return value[len(prefix) :]
    return value


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


def _title(m: View) -> list[Problem]:
    if len((m.get("title") or "").strip()) < 3:
        return [_problem("title", "Zenodo needs a title of at least 3 characters.")]
    return []


def _persons(m: View) -> list[Problem]:
    creators = m.get("creators") or []
    p = []
    if not any(str(c.get("name", "")).strip() for c in creators):
        p.append(_problem("creators", "Add at least one creator with a name."))
    p += _people(creators, "creators", "creator")
    p += _people(m.get("contributors") or [], "contributors", "contributor", typed=True)
    p += _people(
        (m.get("thesis") or {}).get("supervisors") or [], "thesis.supervisors", "supervisor"
    )
    return p


def _texts(m: View) -> list[Problem]:
    """Description, publication date, license and language."""
    p = []
    description = m.get("description") or ""
    if description and len(_TAG.sub("", description).strip()) < 3:
        p.append(_problem("description", "Write a description of at least 3 characters, or none."))
    if m.get("publication_date") and not _EDTF_DAY.match(str(m["publication_date"])):
        p.append(_problem("publication_date", "Give the publication date as YYYY-MM-DD."))
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
    return p


def _dates(m: View) -> list[Problem]:
    p = []
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
    return p


def _relations(m: View) -> list[Problem]:
    p = []
    for i, rel in enumerate(m.get("related_identifiers") or []):
        if not str(rel.get("identifier", "")).strip():
            p.append(
                _problem(
                    f"related_identifiers.{i}.identifier",
                    "Give the related identifier (a DOI, Handle, URL, arXiv id...).",
                )
            )
        if rel.get("relation") not in RELATION_CHOICES:
            p.append(
                _problem(
                    f"related_identifiers.{i}.relation",
                    "Choose how it relates (e.g. is supplement to, cites, is part of).",
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
    return p


def _funding(m: View) -> list[Problem]:
    p = []
    for i, fund in enumerate(m.get("funding") or []):
        if not str(fund.get("award_number", "")).strip():
            p.append(_problem(f"funding.{i}.award_number", "Give the grant's award number."))
        funder = funder_doi(fund.get("funder_doi", ""))
        if funder and not _FUNDER_DOI.match(funder):
            p.append(
                _problem(
                    f"funding.{i}.funder_doi",
                    "Give the funder as its Crossref Funder Registry DOI, e.g. "
                    "10.13039/501100000780 for the European Commission.",
                )
            )
    return p


def _coordinate(value: Any, bound: int) -> bool:
    try:
        return -bound <= float(value) <= bound
    except (TypeError, ValueError):
        return False


def _locations(m: View) -> list[Problem]:
    p = []
    for i, loc in enumerate(m.get("locations") or []):
        if not str(loc.get("place", "")).strip():
            p.append(_problem(f"locations.{i}.place", "Give the place's name."))
        for key, bound in (("lat", 90), ("lon", 180)):
            value = loc.get(key)
            if value not in (None, "") and not _coordinate(value, bound):
                p.append(_problem(f"locations.{i}.{key}", f"Give {key} as a number in ±{bound}."))
    return p


def _conference(m: View) -> list[Problem]:
    conference = m.get("conference") or {}
    if (conference.get("dates") or conference.get("place")) and not (
        conference.get("title") or conference.get("acronym")
    ):
        return [
            _problem(
                "conference.title",
                "Zenodo needs the conference's title or acronym when dates or place are given.",
            )
        ]
    return []


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


METADATA_RULES = (
    _title, _persons, _resource_type, _texts, _access, _dates,
    _relations, _funding, _locations, _conference,
)  # fmt: skip


def validate(metadata: md.Record, options: dict[str, Any], files: list[FileJob]) -> list[Problem]:
    """Zenodo's rules, checked locally (notes §1.4, §1.5, §1.7; API document tables).

    The rules read the editor's view of the record, so each problem names the field a
    person corrects ("creators.0.orcid").
    """
    view = md.to_view(metadata)
    problems = [problem for rule in METADATA_RULES for problem in rule(view)]
    return problems + _options(options) + _files(files, options)


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
    live = [f for f in files if f.status != FileState.DELETE]
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
