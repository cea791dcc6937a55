"""The neutral metadata is a DataCite 4.5 record: the editor's fields map onto it and back
without loss, and every record exports as DataCite JSON and XML that the ``datacite``
package's schema accepts."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from datacite import schema45
from lxml import etree

from bench.common import METADATA as BENCH_VIEW
from deposits import metadata as md
from deposits.management.demo_deposit import VIEW as DEMO_VIEW
from tests.factories import FULL_VIEW as FACTORY_VIEW
from tests.repositories.conftest import FULL_VIEW as EVERY_FIELD_VIEW

EXAMPLES = {
    "every-field": EVERY_FIELD_VIEW,
    "demo": DEMO_VIEW,
    "factory": FACTORY_VIEW,
    "bench": BENCH_VIEW,
}
NS = {"d": "http://datacite.org/schema/kernel-4"}


def normalised(view: dict[str, Any]) -> dict[str, Any]:
    """A view as the editor gives it back: ORCID iDs bare (the editor normalises them)."""
    out = copy.deepcopy(view)
    for person in out.get("creators", []) + out.get("contributors", []):
        if person.get("orcid"):
            person["orcid"] = md.normalize_orcid(person["orcid"])
    return out


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_field_round_trips(name: str) -> None:
    view = EXAMPLES[name]
    record = md.to_record(view)
    assert md.to_view(record) == normalised(view)
    # and saving the editor's view again changes nothing
    assert md.to_record(md.to_view(record), record) == record


def test_fields_land_where_datacite_keeps_them() -> None:
    record = md.to_record(EVERY_FIELD_VIEW)
    assert record["titles"] == [{"title": EVERY_FIELD_VIEW["title"]}]
    assert record["types"] == {
        "resourceTypeGeneral": "JournalArticle",
        "resourceType": "Journal article",
    }
    assert record["publicationYear"] == "2024"
    assert {"date": "2024-05-01", "dateType": "Issued"} in record["dates"]
    assert {
        "date": "2019-01-01/2024-01-01",
        "dateType": "Collected",
        "dateInformation": "Field season",
    } in record["dates"]
    doe = record["creators"][0]
    assert doe["familyName"] == "Doe" and doe["givenName"] == "Jane"
    assert doe["affiliation"] == [{"name": "University of Hamburg"}]
    assert {
        "nameIdentifier": "0000-0002-1825-0097",
        "nameIdentifierScheme": "ORCID",
        "schemeUri": "https://orcid.org",
    } in doe["nameIdentifiers"]
    assert record["contributors"][0]["contributorType"] == "DataCurator"
    assert {"description": "Calibrated sensors.", "descriptionType": "Other"} in record[
        "descriptions"
    ]
    assert record["rightsList"][0]["rightsIdentifierScheme"] == "SPDX"
    assert {"subject": "soil"} in record["subjects"]
    assert record["relatedIdentifiers"][0]["relationType"] == "IsSupplementTo"
    assert record["fundingReferences"][0]["funderIdentifierType"] == "Crossref Funder ID"
    assert record["relatedItems"][0]["firstPage"] == "1"
    assert record["relatedItems"][0]["lastPage"] == "10"


def test_editing_keeps_what_the_editor_does_not_show() -> None:
    record = md.to_record(EVERY_FIELD_VIEW)
    record["titles"].append({"title": "Bodenfeuchte", "titleType": "TranslatedTitle", "lang": "de"})
    record["creators"][0]["affiliation"] = [
        {"name": "University of Hamburg", "affiliationIdentifier": "https://ror.org/00g30e956"}
    ]
    record["creators"][0]["nameIdentifiers"].append(
        {"nameIdentifier": "123", "nameIdentifierScheme": "Cristin"}
    )
    record["sizes"] = ["12 MB"]
    view = md.to_view(record)
    view["version"] = "2.0"
    edited = md.to_record(view, record)
    assert edited["version"] == "2.0"
    assert edited["titles"][1]["titleType"] == "TranslatedTitle"
    assert edited["creators"][0]["affiliation"][0]["affiliationIdentifier"].endswith("00g30e956")
    assert {"nameIdentifier": "123", "nameIdentifierScheme": "Cristin"} in edited["creators"][0][
        "nameIdentifiers"
    ]
    assert edited["sizes"] == ["12 MB"]


def test_removing_a_creator_never_hands_their_ids_to_another() -> None:
    record = md.to_record(EVERY_FIELD_VIEW)
    record["creators"][0]["nameIdentifiers"].append(
        {"nameIdentifier": "123", "nameIdentifierScheme": "Cristin"}
    )
    view = md.to_view(record)
    view["creators"] = view["creators"][1:]  # Doe removed; Roe is now the first row
    edited = md.to_record(view, record)
    assert [c["name"] for c in edited["creators"]] == ["Roe, Richard"]
    assert "nameIdentifiers" not in edited["creators"][0]


def test_zenodo_relation_spelling_is_read_as_datacite() -> None:
    record = md.to_record(
        {"related_identifiers": [{"identifier": "10.1/x", "relation": "isPartOf"}]}
    )
    assert record["relatedIdentifiers"] == [
        {"relatedIdentifier": "10.1/x", "relationType": "IsPartOf"}
    ]


def test_the_abstract_is_sanitised_and_plain_text_is_not() -> None:
    record = md.to_record(
        {"description": '<p onclick="x()">Hi<script>1</script></p>', "notes": "a < b"}
    )
    assert md.description(record, "Abstract") == "<p>Hi</p>"
    assert md.description(record, "Other") == "a < b"


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_exports_as_valid_datacite(name: str) -> None:
    record = md.to_record(EXAMPLES[name])
    data = md.datacite_json(record, doi="10.5281/zenodo.123", publisher="Zenodo", year="2025")
    assert schema45.validate(data)
    assert data["doi"] == "10.5281/zenodo.123"
    # the portal's extensions stay home
    assert not {"access", "references", "conference", "imprint", "partOf", "thesis"} & set(data)
    assert all("resourceType" not in r for r in data.get("relatedIdentifiers", []))
    assert all("description" not in g for g in data.get("geoLocations", []))
    xml = etree.fromstring(md.datacite_xml(data).encode())
    assert xml.find("d:identifier", NS).text == "10.5281/zenodo.123"
    titles = [t.text for t in xml.findall("d:titles/d:title", NS)]
    assert titles == [EXAMPLES[name]["title"]]
    creators = [c.text for c in xml.findall("d:creators/d:creator/d:creatorName", NS)]
    assert creators == [c["name"] for c in EXAMPLES[name]["creators"]]


def test_the_export_adds_what_datacite_requires() -> None:
    record = md.to_record(EVERY_FIELD_VIEW)
    data = md.datacite_json(record, publisher="Team Hydro")
    assert data["publisher"] == {"name": "Team Hydro"}
    assert data["publicationYear"] == "2024"
    assert "doi" not in data
    assert data["fundingReferences"][0]["funderName"] == "European Commission"
    assert {"rights": "Open access", "rightsUri": "info:eu-repo/semantics/openAccess"} in data[
        "rightsList"
    ]
    assert data["descriptions"][0] == {
        "description": "Hourly soil moisture.",
        "descriptionType": "Abstract",
    }


def test_a_record_missing_what_datacite_requires_says_what() -> None:
    with pytest.raises(md.ExportError) as caught:
        md.datacite_json(md.to_record({"version": "1"}))
    text = " ".join(caught.value.problems)
    assert "creators" in text and "titles" in text and "types" in text
