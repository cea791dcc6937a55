"""The deposition resource: create, list, read, replace, delete (notes §1.2 to §1.4)."""

from __future__ import annotations

import datetime

import pytest

from sandbox.zenodo import control

from .conftest import ZENODO_API, ZENODO_METADATA, ZenodoClient

pytestmark = pytest.mark.urls("sandbox.zenodo.root_urls")

DEPOSITIONS = f"{ZENODO_API}/deposit/depositions"


def test_it_creates_an_empty_deposition_from_an_empty_body(zenodo_client: ZenodoClient) -> None:
    response = zenodo_client.post_json(DEPOSITIONS, {})

    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "unsubmitted"
    assert body["submitted"] is False
    assert body["title"] == ""
    assert body["files"] == []
    assert body["conceptrecid"] == str(body["id"] - 1)
    assert body["record_id"] == body["id"]
    assert body["metadata"] == {
        "access_right": "open",
        "prereserve_doi": {"doi": f"10.5281/zenodo.{body['id']}", "recid": body["id"]},
    }
    assert body["links"]["self"] == f"http://testserver{DEPOSITIONS}/{body['id']}"
    assert body["links"]["bucket"].startswith("http://testserver/api/files/")
    assert body["links"]["badge"].endswith("/badge/doi/.svg")


def test_it_rejects_unknown_top_level_keys(zenodo_client: ZenodoClient) -> None:
    response = zenodo_client.post_json(DEPOSITIONS, {"unknownkey": "data", "metadata": {}})

    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "message": "A validation error occurred.",
        "errors": [{"field": "unknownkey", "messages": ["Unknown field."]}],
    }


def test_it_drops_unknown_metadata_keys_silently(zenodo_client: ZenodoClient) -> None:
    body = zenodo_client.create({**ZENODO_METADATA, "colour": "blue", "prereserve_doi": True})

    assert "colour" not in body["metadata"]
    assert body["metadata"]["prereserve_doi"]["doi"].startswith("10.5281/zenodo.")


def test_it_applies_the_defaults_of_the_service(zenodo_client: ZenodoClient) -> None:
    dataset = zenodo_client.create({"title": "A dataset", "upload_type": "dataset"})
    software = zenodo_client.create({"title": "A tool", "upload_type": "software"})
    closed = zenodo_client.create({"title": "Secret", "access_right": "closed"})

    assert dataset["metadata"]["publication_date"] == datetime.date.today().isoformat()
    assert dataset["metadata"]["imprint_publisher"] == "Zenodo"
    assert dataset["metadata"]["license"] == "cc-zero"
    assert software["metadata"]["license"] == "cc-by-4.0"
    assert "license" not in closed["metadata"]
    assert closed["metadata"]["access_right"] == "restricted"


def test_it_replaces_the_whole_metadata_on_put(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create()

    response = zenodo_client.put_json(
        f"{DEPOSITIONS}/{deposition['id']}", {"metadata": {"title": "Only a title"}}
    )

    assert response.status_code == 200
    metadata = response.json()["metadata"]
    assert metadata["title"] == "Only a title"
    assert "creators" not in metadata
    assert "description" not in metadata
    assert response.json()["title"] == "Only a title"


@pytest.mark.parametrize(
    ("license", "message"),
    [
        (["cc-by"], "Invalid license value provided. Expected a string or an object with an id."),
        (42, "Invalid license value provided. Expected a string or an object with an id."),
        ("made-up-1.0", "Invalid license provided: made-up-1.0"),
    ],
)
def test_it_rejects_invalid_licenses(
    zenodo_client: ZenodoClient, license: object, message: str
) -> None:
    response = zenodo_client.post_json(DEPOSITIONS, {"metadata": {"license": license}})

    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "metadata.license", "messages": [message]}]


@pytest.mark.parametrize("license", ["CC0-1.0", "cc-zero", {"id": "cc0-1.0"}])
def test_it_accepts_licenses_by_rdm_or_legacy_id(
    zenodo_client: ZenodoClient, license: object
) -> None:
    body = zenodo_client.create({**ZENODO_METADATA, "license": license})

    assert body["metadata"]["license"] == "cc-zero"


@pytest.mark.parametrize(
    ("metadata", "field", "message"),
    [
        ({"access_right": "embargoed"}, "metadata.access_right", "Unknown access type."),
        (
            {"language": "english"},
            "metadata.language",
            "Language must be either ISO-639-1 or 639-2 compatible.",
        ),
        (
            {"communities": ["zenodo"]},
            "communities",
            'Invalid communities: expected [{"identifier": "..."}].',
        ),
        ({"dates": [{"type": "Collected"}]}, "metadata.dates", "Invalid date provided."),
        ({"imprint_publisher": "Me"}, "metadata", "Metadata must be non-empty"),
    ],
)
def test_it_applies_the_input_rules(
    zenodo_client: ZenodoClient, metadata: dict, field: str, message: str
) -> None:
    response = zenodo_client.post_json(DEPOSITIONS, {"metadata": metadata})

    assert response.status_code == 400
    assert {"field": field, "messages": [message]} in response.json()["errors"]


def test_it_normalises_creators_and_language(zenodo_client: ZenodoClient) -> None:
    body = zenodo_client.create(
        {
            **ZENODO_METADATA,
            "creators": [{"name": "Doe, Jane", "orcid": "https://orcid.org/0000-0002-1825-0097"}],
            "language": "en",
            "related_identifiers": [{"identifier": "10.1234/abc", "relation": "cites"}],
        }
    )

    assert body["metadata"]["creators"] == [
        {"name": "Doe, Jane", "affiliation": None, "orcid": "0000-0002-1825-0097"}
    ]
    assert body["metadata"]["language"] == "eng"
    assert body["metadata"]["related_identifiers"][0]["scheme"] == "doi"


def test_it_rejects_bodies_that_are_not_json(zenodo_client: ZenodoClient) -> None:
    not_json = zenodo_client.post(DEPOSITIONS, "{oops", content_type="application/json")
    wrong_type = zenodo_client.post(DEPOSITIONS, "a=b", content_type="text/csv")

    assert not_json.status_code == 400
    assert not_json.json()["message"] == "Unable to decode JSON data in request body."
    assert wrong_type.status_code == 415


def test_it_lists_depositions_as_a_bare_array(zenodo_client: ZenodoClient) -> None:
    first = zenodo_client.create()
    second = zenodo_client.create()

    response = zenodo_client.get(DEPOSITIONS)

    assert response.status_code == 200
    assert [d["id"] for d in response.json()] == [second["id"], first["id"]]


def test_it_hides_new_drafts_from_the_list_while_the_index_lags(
    zenodo_client: ZenodoClient,
) -> None:
    control.configure(index_lag_seconds=60)
    deposition = zenodo_client.create()

    assert zenodo_client.get(DEPOSITIONS).json() == []
    assert zenodo_client.get(f"{DEPOSITIONS}/{deposition['id']}").status_code == 200


def test_it_deletes_a_draft_once(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create()
    url = f"{DEPOSITIONS}/{deposition['id']}"

    assert zenodo_client.delete(url).status_code == 204
    assert zenodo_client.delete(url).status_code == 404
    assert zenodo_client.get(url).status_code == 404


def test_it_refuses_to_delete_a_published_deposition(zenodo_client: ZenodoClient) -> None:
    published = zenodo_client.published()

    response = zenodo_client.delete(f"{DEPOSITIONS}/{published['id']}")

    assert response.status_code == 404


def test_it_forbids_requests_without_a_token(zenodo_token: str) -> None:
    from django.test import Client

    response = Client().get(DEPOSITIONS)

    assert response.status_code == 403
    assert response.json() == {"status": 403, "message": "Permission denied."}


def test_it_rejects_an_unknown_token(zenodo_token: str) -> None:
    response = ZenodoClient("not-a-token").get(DEPOSITIONS)

    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_it_accepts_the_token_as_a_query_parameter(zenodo_token: str) -> None:
    from django.test import Client

    response = Client().get(DEPOSITIONS, {"access_token": zenodo_token})

    assert response.status_code == 200


def test_it_keeps_depositions_private_to_their_owner(
    zenodo_client: ZenodoClient, zenodo_stranger: ZenodoClient
) -> None:
    deposition = zenodo_client.create()

    response = zenodo_stranger.get(f"{DEPOSITIONS}/{deposition['id']}")

    assert response.status_code == 403
    assert zenodo_stranger.get(DEPOSITIONS).json() == []


def test_it_prints_a_token_the_sandbox_accepts(zenodo_storage: object, db: None) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sandbox_token", "zenodo", stdout=out)

    response = ZenodoClient(out.getvalue().strip()).get(DEPOSITIONS)
    assert response.status_code == 200
