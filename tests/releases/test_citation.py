"""Reading a release's .zenodo.json or CITATION.cff into the neutral metadata, and every
problem said with where it is."""

from __future__ import annotations

import json

from deposits.metadata import to_view
from deposits.releases.citation import read_metadata

CFF = """\
cff-version: 1.2.0
message: If you use this software, please cite it as below.
title: Soil moisture tools
authors:
  - family-names: Lovelace
    given-names: Ada
    orcid: https://orcid.org/0000-0002-1825-0097
    affiliation: Analytical Engines Ltd
  - name: The Soil Lab
abstract: Tools for <soil> moisture.
version: 2.1.0
date-released: 2026-11-01
keywords: [soil, moisture]
license: Apache-2.0
repository-code: https://github.com/lab/analysis
"""

ZENODO = {
    "title": "Soil moisture tools (Zenodo)",
    "upload_type": "software",
    "creators": [
        {"name": "Hopper, Grace", "affiliation": "US Navy", "orcid": "0000-0002-1825-0097"}
    ],
    "description": "<p>From <b>.zenodo.json</b></p>",
    "license": "cc-by-4.0",
    "keywords": ["soil"],
    "related_identifiers": [
        {"identifier": "10.5281/zenodo.1", "relation": "isSupplementTo", "scheme": "doi"}
    ],
    "version": "3.0",
    "communities": [{"identifier": "soil"}],
}


def test_a_citation_cff_becomes_neutral_metadata():
    citation = read_metadata({"CITATION.cff": CFF.encode()})
    assert citation.problems == []
    assert citation.metadata_from == "CITATION.cff"
    view = to_view(citation.metadata)
    assert view["title"] == "Soil moisture tools"
    assert view["creators"] == [
        {
            "name": "Lovelace, Ada",
            "affiliation": "Analytical Engines Ltd",
            "orcid": "0000-0002-1825-0097",
        },
        {"name": "The Soil Lab"},
    ]
    assert view["description"] == "<p>Tools for &lt;soil&gt; moisture.</p>"
    assert view["version"] == "2.1.0" == citation.version
    assert view["publication_date"] == "2026-11-01"
    assert view["keywords"] == ["soil", "moisture"]
    assert view["license"] == "Apache-2.0"
    assert view["resource_type"] == "software"
    assert view["related_identifiers"] == [
        {"identifier": "https://github.com/lab/analysis", "relation": "IsSupplementTo",
         "scheme": "url"}
    ]  # fmt: skip


def test_zenodo_json_wins_over_citation_cff():
    citation = read_metadata(
        {".zenodo.json": json.dumps(ZENODO).encode(), "CITATION.cff": CFF.encode()}
    )
    assert citation.problems == []
    assert citation.metadata_from == ".zenodo.json"
    view = to_view(citation.metadata)
    assert view["title"] == "Soil moisture tools (Zenodo)"
    assert view["creators"] == [
        {"name": "Hopper, Grace", "affiliation": "US Navy", "orcid": "0000-0002-1825-0097"}
    ]
    assert view["license"] == "CC-BY-4.0"
    assert view["related_identifiers"][0]["relation"] == "IsSupplementTo"
    assert citation.version == "3.0"
    assert any("CITATION.cff was not read" in note for note in citation.notes)
    assert any("communities" in note for note in citation.notes)


def test_invalid_json_says_where():
    citation = read_metadata({".zenodo.json": b'{\n  "title": "x",\n    "creators": [,]\n}'})
    assert citation.metadata == {}
    assert [p["message"] for p in citation.problems] == [
        "the .zenodo.json is not valid JSON (line 3, column 18): Expecting value"
    ]


def test_zenodo_json_problems_name_their_fields():
    bad = {
        "upload_type": "spreadsheet",
        "license": "my-own-license",
        "creators": [{"name": "Ok, Fine"}, {"affiliation": "nobody"}],
        "related_identifiers": [{"identifier": "x", "relation": "isFriendOf"}],
    }
    citation = read_metadata({".zenodo.json": json.dumps(bad).encode()})
    assert {p["field"]: p["message"] for p in citation.problems} == {
        "upload_type": ".zenodo.json upload_type: “spreadsheet” is not one of Zenodo's "
        "upload types",
        "license": ".zenodo.json license: “my-own-license” is not a license id the portal "
        "knows (an SPDX id such as cc-by-4.0 or MIT, https://spdx.org/licenses/)",
        "creators[1]": ".zenodo.json creators[1]: needs a name (“Family, Given”)",
        "related_identifiers[0].relation": ".zenodo.json related_identifiers[0].relation: "
        "“isFriendOf” is not a relation",
    }
    assert citation.metadata == {}  # nothing half-read is applied


def test_cff_schema_violations_say_line_and_path():
    text = CFF.replace(
        "  - family-names: Lovelace\n    given-names: Ada\n", "  - given-names: Ada\n"
    )
    text = text.replace("orcid: https://orcid.org/0000-0002-1825-0097", "orcid: 0000-0002")
    text = text.replace("license: Apache-2.0", "license: Apache-Two")
    text += "colour: green\n"
    citation = read_metadata({"CITATION.cff": text.encode()})
    assert [p["message"] for p in citation.problems] == [
        "CITATION.cff line 5: authors[0] needs family-names or name",
        "CITATION.cff line 15: colour is not a key of the Citation File Format 1.2.0",
        "CITATION.cff line 13: license “Apache-Two” is not an SPDX license id "
        "(https://spdx.org/licenses/)",
    ]
    assert citation.metadata == {}


def test_a_cff_missing_required_keys_and_a_bad_orcid():
    text = (
        "cff-version: 1.2.0\ntitle: x\nauthors:\n  - family-names: Doe\n"
        "    orcid: 0000-0002-1825-0097\n"
    )
    messages = [p["message"] for p in read_metadata({"CITATION.cff": text.encode()}).problems]
    assert "CITATION.cff: needs message" in messages
    assert (
        "CITATION.cff line 5: authors[0].orcid “0000-0002-1825-0097” does not have the "
        "expected form (https://orcid\\.org/[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]{1})"
    ) in messages


def test_invalid_yaml_says_where():
    citation = read_metadata({"CITATION.cff": b"title: [unclosed\nauthors: x\n"})
    assert len(citation.problems) == 1
    assert citation.problems[0]["message"].startswith("the CITATION.cff is not valid YAML (line")


def test_yaml_that_would_build_objects_is_refused():
    text = b"title: !!python/object/apply:os.system ['true']\n"
    citation = read_metadata({"CITATION.cff": text})
    assert citation.problems and "not valid YAML" in citation.problems[0]["message"]


def test_no_citation_file_keeps_the_metadata_and_says_so():
    citation = read_metadata({})
    assert citation.metadata_from == "" and citation.metadata == {} and citation.problems == []
    assert citation.notes == [
        "The archive has no .zenodo.json or CITATION.cff: the deposit's metadata is kept, "
        "only the version changes."
    ]
