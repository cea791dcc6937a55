"""Every recorded Zenodo reply in reference/zenodo-fixtures parses through the connector."""

from __future__ import annotations

import json

import pytest

from deposits.repositories.zenodo.replies import BucketObject, Deposition

from .conftest import FIXTURES, load_fixture

ALL = sorted(FIXTURES.rglob("*.json"))


def test_the_fixtures_are_there():
    # a missing reference directory must fail loudly, never skip
    assert FIXTURES.is_dir(), f"Zenodo contract fixtures missing at {FIXTURES}"
    assert len(ALL) >= 11


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_parses(path):
    data = json.loads(path.read_text())
    if isinstance(data, list):
        parsed = [Deposition.from_json(item) for item in data]
        assert parsed and all(d.id and d.links for d in parsed)
    elif "key" in data and "checksum" in data:
        obj = BucketObject.from_json(data)
        assert len(obj.checksum) == 32 and not obj.checksum.startswith("md5:")
    else:
        deposition = Deposition.from_json(data)
        result = deposition.result("parsed", identifiers=deposition.identifiers())
        assert result.remote_id == str(data["id"])
        assert result.remote_state in ("unsubmitted", "inprogress", "done")
        assert result.remote_links and all(isinstance(v, str) for v in result.remote_links.values())
        for f in deposition.files:
            assert f.filename and f.id and len(f.checksum) == 32 and f.filesize > 0


def test_a_fresh_draft_has_no_identifiers():
    for name in (
        "zenodraft-sandbox-2024-01/101.json",
        "misc/zenodo_prod_2023-12_create_empty_deposition.json",
    ):
        draft = Deposition.from_json(load_fixture(name))
        assert draft.state == "unsubmitted" and not draft.published
        assert draft.identifiers() == []  # prereserve_doi is never taken for the DOI
        assert draft.links["bucket"].startswith("https://")


def test_a_published_record_gives_version_and_concept_dois():
    record = Deposition.from_json(load_fixture("zenodraft-sandbox-2024-01/131.json"))
    assert record.published
    assert [(i.value, i.url, i.scope) for i in record.identifiers()] == [
        ("10.5072/zenodo.131", "https://doi.org/10.5072/zenodo.131", "version"),
        ("10.5072/zenodo.100", "https://doi.org/10.5072/zenodo.100", "concept"),
    ]
    assert record.links["record"] == "https://sandbox.zenodo.org/api/records/131"
    assert record.links["badge"].endswith(".svg")


def test_the_sandbox_doi_comes_from_doi_not_prereserve():
    data = load_fixture("misc/pedp-zenodo-deposit_sandbox_2024-12_published.json")
    assert data["metadata"]["prereserve_doi"]["doi"].startswith("10.5281/")
    record = Deposition.from_json(data)
    assert record.doi == "10.5072/zenodo.143439"


def test_an_edit_draft_is_in_progress():
    for name in (
        "zenodraft-sandbox-2024-01/141.json",
        "misc/stepup-reprep_sandbox_2024-06_deposition_inprogress.json",
    ):
        draft = Deposition.from_json(load_fixture(name))
        assert draft.state == "inprogress" and draft.submitted and not draft.published


def test_file_checksums_are_bare_hex_in_depositions_and_prefixed_in_bucket_replies():
    (readme,) = Deposition.from_json(load_fixture("zenodraft-sandbox-2024-01/121.json")).files
    assert (readme.filename, readme.checksum, readme.filesize) == (
        "README.md",
        "2f0d514dc20d16de868c6a2c568e7e39",
        14,
    )
    put = BucketObject.from_json(
        load_fixture("misc/stepup-reprep_sandbox_2024-06_bucket_put_response.json")
    )
    assert (put.key, put.checksum) == ("random3.txt", "63533d0616e4b50af558d43a65c392e1")


def test_a_new_version_draft_points_at_its_concept():
    draft = Deposition.from_json(load_fixture("zenodraft-sandbox-2024-01/151.json"))
    assert (draft.id, draft.state, draft.doi, draft.conceptdoi) == (
        "151",
        "unsubmitted",
        "",
        "10.5072/zenodo.100",
    )
