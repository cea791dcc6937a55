"""Neutral metadata -> Zenodo deposit metadata, and Zenodo's rules checked locally."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from deposits.metadata import to_record
from deposits.repositories.zenodo.crosswalk import to_zenodo
from deposits.repositories.zenodo.rules import validate

from .conftest import FULL_METADATA, FULL_VIEW, file_job


def test_it_crosswalks_a_full_deposit():
    options = {"communities": ["ecfunded", {"identifier": "zenodo"}], "prereserve_doi": True}
    related = [
        {
            "scheme": "doi",
            "value": "10.5072/zenodo.131",
            "url": "https://doi.org/10.5072/zenodo.131",
            "scope": "version",
        },
        {
            "scheme": "doi",
            "value": "10.5072/zenodo.100",
            "url": "https://doi.org/10.5072/zenodo.100",
            "scope": "concept",
        },
        {
            "scheme": "handle",
            "value": "21.11101/0000-0007-ABCD-E",
            "url": "https://hdl.handle.net/21.11101/0000-0007-ABCD-E",
            "scope": "version",
        },
        {"scheme": "doi", "value": "10.1234/PAPER", "scope": "version"},  # already cited
    ]
    out = to_zenodo(FULL_METADATA, options, related)
    assert out == {
        "title": "Soil moisture of the Elbe floodplain, 2019-2024",
        "upload_type": "publication",
        "publication_type": "article",
        "publication_date": "2024-05-01",
        "creators": [
            {
                "name": "Doe, Jane",
                "affiliation": "University of Hamburg",
                "orcid": "0000-0002-1825-0097",
                "gnd": "170118215",
            },
            {"name": "Roe, Richard"},
        ],
        "contributors": [{"name": "Smith, Ann", "affiliation": "UFZ", "type": "DataCurator"}],
        "description": "<p>Hourly soil moisture.</p>",
        "access_right": "open",
        "license": "cc-by-4.0",
        "keywords": ["soil", "hydrology"],
        "subjects": [
            {
                "term": "Hydrology",
                "identifier": "http://id.loc.gov/authorities/subjects/sh85063079",
                "scheme": "url",
            }
        ],
        "related_identifiers": [
            {
                "identifier": "10.1234/paper",
                "relation": "isSupplementTo",
                "resource_type": "publication-article",
            },
            {"identifier": "10.5072/zenodo.131", "relation": "isIdenticalTo"},
            {
                "identifier": "https://hdl.handle.net/21.11101/0000-0007-ABCD-E",
                "relation": "isIdenticalTo",
            },
        ],
        "references": ["Doe J (2020). Earlier work. Journal. 10.1234/old"],
        "communities": [{"identifier": "ecfunded"}, {"identifier": "zenodo"}],
        "grants": [{"id": "10.13039/501100000780::283595"}],
        "version": "1.2.0",
        "language": "eng",
        "notes": "Calibrated sensors.",
        "method": "<p>TDR probes.</p>",
        "dates": [
            {
                "start": "2019-01-01",
                "end": "2024-01-01",
                "type": "Collected",
                "description": "Field season",
            }
        ],
        "locations": [
            {"lat": 53.5, "lon": 10.0, "place": "Elbe floodplain", "description": "Site A"}
        ],
        "journal_title": "Hydrology Letters",
        "journal_volume": "12",
        "journal_issue": "3",
        "journal_pages": "1-10",
        "conference_title": "EGU 2024",
        "conference_acronym": "EGU24",
        "conference_dates": "14-19 April 2024",
        "conference_place": "Vienna, Austria",
        "conference_url": "https://egu24.eu",
        "conference_session": "HS1",
        "conference_session_part": "2",
        "imprint_publisher": "Hamburg University Press",
        "imprint_isbn": "978-3-16-148410-0",
        "imprint_place": "Hamburg, Germany",
        "partof_title": "Floodplains",
        "partof_pages": "20-30",
        "thesis_university": "University of Hamburg",
        "thesis_supervisors": [
            {"name": "Major, Max", "affiliation": "UHH", "orcid": "0000-0002-1694-233X"}
        ],
        "prereserve_doi": True,
    }


def test_access_details_travel_only_with_their_access_right():
    embargoed = to_zenodo(
        to_record(
            {"access_right": "embargoed", "embargo_date": "2030-01-01", "access_conditions": "x"}
        )
    )
    assert embargoed == {"access_right": "embargoed", "embargo_date": "2030-01-01"}
    restricted = to_zenodo(
        to_record(
            {
                "access_right": "restricted",
                "embargo_date": "2030-01-01",
                "access_conditions": "Ask us",
            }
        )
    )
    assert restricted == {"access_right": "restricted", "access_conditions": "Ask us"}


def test_a_bare_award_is_sent_as_is_and_subtypes_only_when_they_apply():
    out = to_zenodo(
        to_record(
            {
                "resource_type": "dataset",
                "publication_type": "article",
                "funding": [{"award_number": "283595"}],
            }
        )
    )
    assert out == {"upload_type": "dataset", "grants": [{"id": "283595"}]}
    photo = to_record({"resource_type": "image", "image_type": "photo"})
    assert to_zenodo(photo)["image_type"] == "photo"


def fields(metadata, options=None, files=None):
    files = [file_job("a.csv", b"1")] if files is None else files
    problems = validate(metadata, options or {}, files)
    assert all(p.repository == "zenodo" and p.message for p in problems)
    return [p.field for p in problems]


def test_the_full_example_passes():
    assert fields(FULL_METADATA) == []


def meta(**changes):
    """FULL_METADATA with fields of the editor's view changed (None: removed)."""
    data = copy.deepcopy(FULL_VIEW)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return to_record(data)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"title": "ab"}, ["title"]),
        ({"title": None}, ["title"]),
        ({"creators": []}, ["creators"]),
        ({"creators": [{"name": " "}]}, ["creators", "creators.0.name"]),
        ({"creators": [{"name": "Doe, J", "orcid": "0000-0002-1825-0098"}]}, ["creators.0.orcid"]),
        ({"contributors": [{"name": "A", "type": "Boss"}]}, ["contributors.0.type"]),
        ({"contributors": [{"name": "A", "orcid": "1234"}]}, ["contributors.0.orcid"]),
        ({"resource_type": None}, ["resource_type"]),
        ({"resource_type": "cake"}, ["resource_type"]),
        ({"publication_type": None}, ["publication_type"]),
        ({"resource_type": "image", "image_type": None}, ["image_type"]),
        ({"description": "<p>a</p>"}, ["description"]),
        ({"publication_date": "1 May 2024"}, ["publication_date"]),
        ({"access_right": "secret"}, ["access_right"]),
        ({"access_right": "embargoed"}, ["embargo_date"]),
        ({"access_right": "embargoed", "embargo_date": "2001-01-01"}, ["embargo_date"]),
        ({"access_right": "restricted"}, ["access_conditions"]),
        ({"license": "cc-by"}, ["license"]),
        ({"language": "english"}, ["language"]),
        ({"language": "e"}, ["language"]),
        ({"dates": [{"type": "Collected"}]}, ["dates.0"]),
        ({"dates": [{"start": "2020-01-01"}]}, ["dates.0.type"]),
        ({"dates": [{"start": "yesterday", "type": "Valid"}]}, ["dates.0.start"]),
        ({"related_identifiers": [{"relation": "cites"}]}, ["related_identifiers.0.identifier"]),
        (
            {"related_identifiers": [{"identifier": "10.1/x", "relation": "likes"}]},
            ["related_identifiers.0.relation"],
        ),
        ({"subjects": [{"identifier": "http://id.loc.gov/x"}]}, ["subjects.0"]),
        ({"subjects": [{"term": "x", "scheme": "url"}]}, ["subjects.0"]),
        ({"funding": [{"funder_doi": "10.13039/501100000780"}]}, ["funding.0.award_number"]),
        ({"funding": [{"funder_doi": "NSF", "award_number": "1"}]}, ["funding.0.funder_doi"]),
        ({"locations": [{"lat": 100, "lon": 0}]}, ["locations.0.place", "locations.0.lat"]),
        ({"conference": {"dates": "May 2024"}}, ["conference.title"]),
        ({"thesis": {"supervisors": [{"name": ""}]}}, ["thesis.supervisors.0.name"]),
    ],
)
def test_each_rule(changes, expected):
    assert fields(meta(**changes)) == expected


def test_a_future_embargo_is_fine():
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert fields(meta(access_right="embargoed", embargo_date=tomorrow)) == []


def test_licenses_match_case_insensitively_and_suggest_close_ones():
    assert fields(meta(license="MIT")) == []
    (problem,) = validate(meta(license="cc-by"), {}, [file_job("a", b"1")])
    assert "cc-by" in problem.message and "cc-by-4.0" in problem.message


def test_community_ids_are_checked():
    assert fields(FULL_METADATA, {"communities": ["ecfunded"]}) == []
    assert fields(FULL_METADATA, {"communities": ["Not an id!"]}) == ["options.communities.0"]
    assert fields(FULL_METADATA, {"communities": "ecfunded"}) == ["options.communities"]


def test_files_are_required_counted_and_sized():
    assert fields(FULL_METADATA, files=[]) == ["files"]
    assert fields(FULL_METADATA, {"metadata_only": True}, files=[]) == ["files"]
    many = [file_job(f"f{i}", b"1") for i in range(101)]
    assert fields(FULL_METADATA, files=many) == ["files"]
    huge = file_job("huge.tar", b"1")
    huge.size = 51 * 10**9
    assert fields(FULL_METADATA, files=[huge]) == ["files", "files"]  # per file and in all
    halves = [file_job("a", b"1"), file_job("b", b"1")]
    for f in halves:
        f.size = 26 * 10**9
    assert fields(FULL_METADATA, files=halves) == ["files"]
    gone = file_job("old.csv", b"1", status="delete")
    assert fields(FULL_METADATA, files=[gone]) == ["files"]
