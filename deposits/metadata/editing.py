"""The editor's view of a record: one flat dict of fields, and the way back.

DataCite nests what a person edits as one field (an ORCID iD is a ``nameIdentifiers``
entry of scheme ORCID; the publication date is the ``dates`` entry of type Issued), so
the deposit editor and the repositories' rules speak of fields by these paths instead::

    title                    titles[no titleType].title
    resource_type            types (with publication_type / image_type, see vocabulary)
    publication_type, image_type
    publication_date         dates[Issued].date (and publicationYear)
    creators.N.{name, affiliation, ror, orcid, gnd}
                             creators[N]: name (+ familyName/givenName when "Family,
                             Given"), affiliation[].name and its ROR id,
                             nameIdentifiers ORCID/GND
    contributors.N.{..., type}      contributors[N], type = contributorType
    description              descriptions[Abstract] (HTML, sanitised)
    method, notes            descriptions[Methods], descriptions[Other]
    access_right, access_conditions access.right, access.conditions (extension)
    embargo_date             dates[Available].date
    license                  rightsList[SPDX].rightsIdentifier
    keywords                 subjects without scheme or value URI
    subjects.N.{term, identifier, scheme}   subjects: subject, valueUri, subjectScheme
    related_identifiers.N.{identifier, relation, resource_type, scheme}
                             relatedIdentifiers (relation IsAlternateIdentifier:
                             alternateIdentifiers)
    funding.N.{funder_doi, funder_name, award_number}   fundingReferences
    dates.N.{start, end, type, description}  dates (start/end as an ISO 8601 range)
    locations.N.{place, lat, lon, description}   geoLocations
    version, language        version, language
    journal.{title, volume, issue, pages}    relatedItems[IsPublishedIn Journal]
    references, conference.*, imprint.*, part_of.*, thesis.university,
    thesis.supervisors.N.*   extensions (see the package's docstring)

``to_record(view, previous)`` keeps what the view cannot show (a translated title,
a second affiliation's ROR id, a rights entry without an id...), so editing loses
nothing the editor does not display.
"""

from __future__ import annotations

from typing import Any

from . import record as rec
from .record import Record, empty, items
from .vocabulary import (
    ALTERNATE,
    AVAILABLE,
    CROSSREF_FUNDER,
    DATE_TYPES,
    GND_URI,
    IDENTIFIER_TYPE_BY_LOWER,
    ISSUED,
    ORCID_URI,
    RELATION_CHOICES,
    ROR_URI,
    SPDX,
    SPDX_URI,
    TYPE_BY_ID,
    type_for,
)

View = dict[str, Any]

# Keys of the record the view maps; anything else in a record is kept as it is.
MAPPED = {
    "titles", "types", "dates", "publicationYear", "creators", "contributors",
    "descriptions", "access", "rightsList", "subjects", "relatedIdentifiers",
    "alternateIdentifiers", "fundingReferences", "geoLocations", "version", "language",
    "relatedItems", "references", "conference", "imprint", "partOf", "thesis",
}  # fmt: skip
# Keys of the view; any other key a view holds is stored as it is.
FIELDS = {
    "title", "resource_type", "publication_type", "image_type", "publication_date",
    "creators", "contributors", "description", "method", "notes", "access_right",
    "access_conditions", "embargo_date", "license", "keywords", "subjects",
    "related_identifiers", "funding", "dates", "locations", "version", "language",
    "journal", "references", "conference", "imprint", "part_of", "thesis",
}  # fmt: skip
DESCRIPTION_TYPES = {"description": "Abstract", "method": "Methods", "notes": "Other"}
JOURNAL = {"relationType": "IsPublishedIn", "relatedItemType": "Journal"}


def _compact(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if not empty(v)}


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


# --------------------------------------------------------------------------- persons


def person_record(view: dict[str, Any], previous: dict[str, Any] | None = None) -> Record:
    """A creator/contributor as DataCite has it; ``previous`` (the same person as stored
    before) keeps identifiers and affiliations the view does not show."""
    previous = previous or {}
    name = _text(view.get("name"))
    out: Record = {"name": name}
    family, sep, given = name.partition(",")
    if sep:
        out.update(nameType="Personal", familyName=family.strip(), givenName=given.strip())
    elif previous.get("name") == name:
        out.update(
            {k: previous[k] for k in ("nameType", "familyName", "givenName") if k in previous}
        )
    ids = [
        i
        for i in previous.get("nameIdentifiers") or []
        if isinstance(i, dict) and i.get("nameIdentifierScheme") not in ("ORCID", "GND")
    ]
    orcid = _text(view.get("orcid"))
    if orcid:
        ids.insert(
            0,
            {
                "nameIdentifier": rec.normalize_orcid(orcid) or orcid,
                "nameIdentifierScheme": "ORCID",
                "schemeUri": ORCID_URI,
            },
        )
    if _text(view.get("gnd")):
        ids.append(
            {
                "nameIdentifier": _text(view["gnd"]),
                "nameIdentifierScheme": "GND",
                "schemeUri": GND_URI,
            }
        )
    out["nameIdentifiers"] = ids
    affiliation, ror = _text(view.get("affiliation")), rec.normalize_ror(view.get("ror", ""))
    unchanged = rec.affiliation(previous) == affiliation and rec.ror(previous) == ror
    if affiliation and unchanged:
        out["affiliation"] = previous["affiliation"]
    elif affiliation:
        out["affiliation"] = [{"name": affiliation, **(_ror(ror) if ror else {})}]
    if view.get("type"):
        out["contributorType"] = view["type"]
    return _compact(out)


def _ror(ror: str) -> dict[str, str]:
    return {
        "affiliationIdentifier": ror,
        "affiliationIdentifierScheme": "ROR",
        "schemeUri": ROR_URI,
    }


def person_view(person: dict[str, Any], *, typed: bool = False) -> dict[str, Any]:
    out = {
        "name": _text(person.get("name")),
        "affiliation": rec.affiliation(person),
        "ror": rec.ror(person),
        "orcid": rec.identifier(person, "ORCID"),
        "gnd": rec.identifier(person, "GND"),
    }
    if typed:
        out["type"] = person.get("contributorType", "")
    return _compact(out)


def _people(view_rows: Any, previous: list[dict[str, Any]]) -> list[Record]:
    """Each row with what was stored for the same person: the same name, taken once, so
    rows removed or reordered in the editor never hand one person's ids to another."""
    rows = [row for row in view_rows or [] if isinstance(row, dict)]
    unclaimed = list(previous)
    out = []
    for row in rows:
        name = _text(row.get("name"))
        before = next((p for p in unclaimed if _text(p.get("name")) == name), None)
        if before is not None:
            unclaimed.remove(before)
        out.append(person_record(row, before))
    return out


# --------------------------------------------------------------------------- view -> record


def _types(view: View) -> dict[str, str] | None:
    kind = _text(view.get("resource_type"))
    sub = {"publication": "publication_type", "image": "image_type"}.get(kind)
    if sub and view.get(sub):
        kind = f"{kind}-{view[sub]}"
    rtype = TYPE_BY_ID.get(kind)
    if rtype is not None:
        return {"resourceTypeGeneral": rtype.general, "resourceType": rtype.label}
    # Not one of ours: kept as the subtype of Other, so nothing is lost and rules see it.
    return {"resourceTypeGeneral": "Other", "resourceType": kind} if kind else None


def _dates(view: View, previous: Record) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if view.get("publication_date"):
        out.append({"date": _text(view["publication_date"]), "dateType": ISSUED})
    if view.get("embargo_date"):
        out.append({"date": _text(view["embargo_date"]), "dateType": AVAILABLE})
    for row in view.get("dates") or []:
        start, end = _text(row.get("start")), _text(row.get("end"))
        when = f"{start}/{end}" if end else start
        out.append(
            _compact(
                {
                    "date": when,
                    "dateType": row.get("type"),
                    "dateInformation": row.get("description"),
                }
            )
        )
    shown = {ISSUED, AVAILABLE, None, *DATE_TYPES}
    out += [d for d in items(previous, "dates") if d.get("dateType") not in shown]
    return out


def _descriptions(view: View, previous: Record) -> list[dict[str, Any]]:
    out = [
        {"description": view[key], "descriptionType": kind}
        for key, kind in DESCRIPTION_TYPES.items()
        if _text(view.get(key))
    ]
    shown = set(DESCRIPTION_TYPES.values())
    return out + [
        d for d in items(previous, "descriptions") if d.get("descriptionType") not in shown
    ]


def _rights(view: View, previous: Record) -> list[dict[str, Any]]:
    out = []
    if _text(view.get("license")):
        out.append(
            {
                "rightsIdentifier": _text(view["license"]),
                "rightsIdentifierScheme": SPDX,
                "schemeUri": SPDX_URI,
            }
        )
    return out + [r for r in items(previous, "rightsList") if not r.get("rightsIdentifier")]


def _subjects(view: View) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"subject": _text(k)} for k in view.get("keywords") or [] if _text(k)
    ]
    for row in view.get("subjects") or []:
        out.append(
            _compact(
                {
                    "subject": _text(row.get("term")),
                    "valueUri": _text(row.get("identifier")),
                    "subjectScheme": _text(row.get("scheme")),
                }
            )
        )
    return out


def _identifier_type(scheme: Any) -> str:
    value = _text(scheme)
    return IDENTIFIER_TYPE_BY_LOWER.get(value.lower(), value)


def relation_type(value: Any) -> str:
    """DataCite's spelling of a relation, also when given as Zenodo's ("isPartOf")."""
    text = _text(value)
    upper = text[:1].upper() + text[1:]
    return upper if upper in RELATION_CHOICES else text


def _related(view: View) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(relatedIdentifiers, alternateIdentifiers)."""
    related, alternate = [], []
    for row in view.get("related_identifiers") or []:
        relation = relation_type(row.get("relation"))
        if relation == ALTERNATE:
            alternate.append(
                _compact(
                    {
                        "alternateIdentifier": _text(row.get("identifier")),
                        "alternateIdentifierType": _identifier_type(row.get("scheme")),
                    }
                )
            )
            continue
        rtype = TYPE_BY_ID.get(_text(row.get("resource_type")))
        related.append(
            _compact(
                {
                    "relatedIdentifier": _text(row.get("identifier")),
                    "relatedIdentifierType": _identifier_type(row.get("scheme")),
                    "relationType": relation,
                    "resourceTypeGeneral": rtype.general if rtype else None,
                    # extension: the subtype, as in ``types`` (the export leaves it out)
                    "resourceType": rtype.label if rtype else None,
                }
            )
        )
    return related, alternate


def _funding(view: View) -> list[dict[str, Any]]:
    return [
        _compact(
            {
                "funderName": _text(row.get("funder_name")),
                "funderIdentifier": _text(row.get("funder_doi")),
                "funderIdentifierType": CROSSREF_FUNDER if _text(row.get("funder_doi")) else "",
                "awardNumber": _text(row.get("award_number")),
            }
        )
        for row in view.get("funding") or []
    ]


def _locations(view: View) -> list[dict[str, Any]]:
    out = []
    for row in view.get("locations") or []:
        point = _compact({"pointLatitude": row.get("lat"), "pointLongitude": row.get("lon")})
        out.append(
            _compact(
                {
                    "geoLocationPlace": _text(row.get("place")),
                    "geoLocationPoint": point,
                    "description": _text(row.get("description")),  # extension
                }
            )
        )
    return out


def _related_items(view: View, previous: Record) -> list[dict[str, Any]]:
    out = []
    journal = view.get("journal") or {}
    if any(_text(v) for v in journal.values()):
        first, sep, last = _text(journal.get("pages")).partition("-")
        pages = {"firstPage": first, "lastPage": last} if sep and first and last else {}
        out.append(
            _compact(
                {
                    **JOURNAL,
                    "titles": [{"title": _text(journal["title"])}] if journal.get("title") else [],
                    "volume": _text(journal.get("volume")),
                    "issue": _text(journal.get("issue")),
                    **(pages or {"firstPage": _text(journal.get("pages"))}),
                }
            )
        )
    return out + [i for i in items(previous, "relatedItems") if not _is_journal(i)]


def _is_journal(item: dict[str, Any]) -> bool:
    return all(item.get(k) == v for k, v in JOURNAL.items())


def _thesis(view: View, previous: Record) -> dict[str, Any]:
    thesis = view.get("thesis") or {}
    before = previous.get("thesis") if isinstance(previous.get("thesis"), dict) else {}
    return _compact(
        {
            "university": _text(thesis.get("university")),
            "supervisors": _people(thesis.get("supervisors"), items(before or {}, "supervisors")),
        }
    )


def to_record(view: View, previous: Record | None = None) -> Record:
    """The record for an editor's view; ``previous`` supplies what the view does not show."""
    previous = previous or {}
    related, alternate = _related(view)
    out: Record = {k: v for k, v in previous.items() if k not in MAPPED}
    out.update({k: v for k, v in view.items() if k not in FIELDS})
    title = _text(view.get("title"))
    out.update(
        titles=([{"title": title}] if title else [])
        + [t for t in items(previous, "titles") if t.get("titleType")],
        types=_types(view),
        dates=_dates(view, previous),
        publicationYear=_text(view.get("publication_date"))[:4],
        creators=_people(view.get("creators"), items(previous, "creators")),
        contributors=_people(view.get("contributors"), items(previous, "contributors")),
        descriptions=_descriptions(view, previous),
        access=_compact(
            {"right": view.get("access_right"), "conditions": _text(view.get("access_conditions"))}
        ),
        rightsList=_rights(view, previous),
        subjects=_subjects(view),
        relatedIdentifiers=related,
        alternateIdentifiers=alternate,
        fundingReferences=_funding(view),
        geoLocations=_locations(view),
        version=_text(view.get("version")),
        language=_text(view.get("language")),
        relatedItems=_related_items(view, previous),
        references=[_text(r) for r in view.get("references") or [] if _text(r)],
        conference=_compact(dict(view.get("conference") or {})),
        imprint=_compact(dict(view.get("imprint") or {})),
        partOf=_compact(dict(view.get("part_of") or {})),
        thesis=_thesis(view, previous),
    )
    return rec.clean(out)


# --------------------------------------------------------------------------- record -> view


def _type_view(record: Record) -> dict[str, str]:
    rtype = rec.resource_type(record)
    if rtype is None:
        types = record.get("types") if isinstance(record.get("types"), dict) else {}
        return {"resource_type": str((types or {}).get("resourceType") or "")}
    sub = {"publication": "publication_type", "image": "image_type"}.get(rtype.parent)
    return {"resource_type": rtype.parent, **({sub: rtype.subtype} if sub else {})}


def dates_view(record: Record) -> list[dict[str, Any]]:
    out = []
    for item in items(record, "dates"):
        if item.get("dateType") not in (*DATE_TYPES, None):  # None: not chosen yet
            continue
        start, _, end = str(item.get("date") or "").partition("/")
        out.append(
            _compact(
                {
                    "start": start,
                    "end": end,
                    "type": item.get("dateType"),
                    "description": item.get("dateInformation"),
                }
            )
        )
    return out


def subjects_view(record: Record) -> list[dict[str, Any]]:
    return [
        _compact(
            {
                "term": s.get("subject"),
                "identifier": s.get("valueUri"),
                "scheme": s.get("subjectScheme"),
            }
        )
        for s in items(record, "subjects")
        if s.get("subjectScheme") or s.get("valueUri")
    ]


def _scheme_view(value: Any) -> str:
    text = _text(value)
    return text.lower() if text in IDENTIFIER_TYPE_BY_LOWER.values() else text


def _related_view(record: Record) -> list[dict[str, Any]]:
    out = []
    for item in items(record, "relatedIdentifiers"):
        rtype = type_for(item.get("resourceTypeGeneral"), item.get("resourceType"))
        out.append(
            _compact(
                {
                    "identifier": item.get("relatedIdentifier"),
                    "relation": item.get("relationType"),
                    "resource_type": rtype.id if rtype else "",
                    "scheme": _scheme_view(item.get("relatedIdentifierType")),
                }
            )
        )
    for item in items(record, "alternateIdentifiers"):
        out.append(
            _compact(
                {
                    "identifier": item.get("alternateIdentifier"),
                    "relation": ALTERNATE,
                    "scheme": _scheme_view(item.get("alternateIdentifierType")),
                }
            )
        )
    return out


def _funding_view(record: Record) -> list[dict[str, Any]]:
    return [
        _compact(
            {
                "funder_doi": f.get("funderIdentifier"),
                "funder_name": f.get("funderName"),
                "award_number": f.get("awardNumber"),
            }
        )
        for f in items(record, "fundingReferences")
    ]


def locations_view(record: Record) -> list[dict[str, Any]]:
    out = []
    for g in items(record, "geoLocations"):
        point = g.get("geoLocationPoint") if isinstance(g.get("geoLocationPoint"), dict) else {}
        out.append(
            _compact(
                {
                    "place": g.get("geoLocationPlace"),
                    "lat": (point or {}).get("pointLatitude"),
                    "lon": (point or {}).get("pointLongitude"),
                    "description": g.get("description"),
                }
            )
        )
    return out


def journal_view(record: Record) -> dict[str, Any]:
    for item in items(record, "relatedItems"):
        if _is_journal(item):
            first, last = _text(item.get("firstPage")), _text(item.get("lastPage"))
            titles = [t for t in item.get("titles") or [] if isinstance(t, dict)]
            return _compact(
                {
                    "title": titles[0].get("title") if titles else "",
                    "volume": item.get("volume"),
                    "issue": item.get("issue"),
                    "pages": f"{first}-{last}" if first and last else first or last,
                }
            )
    return {}


def _thesis_view(record: Record) -> dict[str, Any]:
    thesis = record.get("thesis") if isinstance(record.get("thesis"), dict) else {}
    return _compact(
        {
            "university": (thesis or {}).get("university"),
            "supervisors": [person_view(p) for p in items(thesis or {}, "supervisors")],
        }
    )


def to_view(record: Record) -> View:
    """The editor's fields for a stored record."""
    access = rec.access(record)
    out: View = {k: v for k, v in record.items() if k not in MAPPED}
    out.update(
        title=rec.title(record),
        **_type_view(record),
        publication_date=rec.date(record, ISSUED),
        embargo_date=rec.date(record, AVAILABLE),
        creators=[person_view(p) for p in items(record, "creators")],
        contributors=[person_view(p, typed=True) for p in items(record, "contributors")],
        description=rec.description(record, "Abstract"),
        method=rec.description(record, "Methods"),
        notes=rec.description(record, "Other"),
        access_right=access.get("right", ""),
        access_conditions=access.get("conditions", ""),
        license=rec.license_id(record),
        keywords=rec.keywords(record),
        subjects=subjects_view(record),
        related_identifiers=_related_view(record),
        funding=_funding_view(record),
        dates=dates_view(record),
        locations=locations_view(record),
        version=record.get("version", ""),
        language=record.get("language", ""),
        journal=journal_view(record),
        references=list(record.get("references") or []),
        conference=dict(record.get("conference") or {}),
        imprint=dict(record.get("imprint") or {}),
        part_of=dict(record.get("partOf") or {}),
        thesis=_thesis_view(record),
    )
    return _compact(out)
