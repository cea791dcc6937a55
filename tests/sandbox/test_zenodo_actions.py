"""Publish, edit, discard and new version (notes §0, §1.2, §1.5, §1.6)."""

from __future__ import annotations

import pytest

from sandbox.zenodo import control

from .conftest import ZENODO_API, ZenodoClient

pytestmark = pytest.mark.urls("sandbox.zenodo.root_urls")

DEPOSITIONS = f"{ZENODO_API}/deposit/depositions"
NO_FILES = (
    "Missing uploaded files. To disable files for this record please mark it as metadata-only."
)


def errors_of(response: object) -> dict[str, list[str]]:
    body = response.json()  # type: ignore[attr-defined]
    assert body["message"] == "A validation error occurred."
    return {e["field"]: e["messages"] for e in body["errors"]}


def test_it_publishes_with_202_and_a_sandbox_doi(zenodo_client: ZenodoClient) -> None:
    body = zenodo_client.published()

    assert body["state"] == "done"
    assert body["submitted"] is True
    assert body["doi"] == f"10.5072/zenodo.{body['id']}"
    assert body["conceptdoi"] == f"10.5072/zenodo.{body['conceptrecid']}"
    assert body["metadata"]["doi"] == body["doi"]
    assert body["metadata"]["prereserve_doi"]["doi"] == f"10.5281/zenodo.{body['id']}"
    assert body["links"]["self"].endswith(f"/api/records/{body['id']}")
    assert body["doi_url"] == f"https://doi.org/{body['doi']}"


def test_it_refuses_a_second_publish(zenodo_client: ZenodoClient) -> None:
    body = zenodo_client.published()

    assert zenodo_client.action(body, "publish").status_code == 404


def test_it_checks_the_rdm_rules_at_publish(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create({"title": "ab", "creators": []})

    response = zenodo_client.action(deposition, "publish")

    assert response.status_code == 400
    assert errors_of(response) == {
        "metadata.title": ["Shorter than minimum length 3."],
        "metadata.creators": ["Missing data for required field."],
        "metadata.resource_type": ["Missing data for required field."],
        "files.enabled": [NO_FILES],
    }


def test_it_requires_a_file_to_publish(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create()

    response = zenodo_client.action(deposition, "publish")

    assert errors_of(response) == {"files.enabled": [NO_FILES]}


def test_it_does_not_report_draft_errors_on_put(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create()

    response = zenodo_client.put_json(
        f"{DEPOSITIONS}/{deposition['id']}", {"metadata": {"title": "x"}}
    )

    assert response.status_code == 200


def test_it_opens_an_edit_session_idempotently(zenodo_client: ZenodoClient) -> None:
    published = zenodo_client.published()

    first = zenodo_client.action(published, "edit")
    second = zenodo_client.action(published, "edit")

    assert first.status_code == second.status_code == 201
    assert second.json()["state"] == "inprogress"
    assert second.json()["links"]["self"].endswith(f"/deposit/depositions/{published['id']}")


def test_it_publishes_edited_metadata_and_keeps_the_doi(zenodo_client: ZenodoClient) -> None:
    published = zenodo_client.published()
    zenodo_client.action(published, "edit")
    metadata = {**published["metadata"], "title": "Soil samples, corrected"}

    assert (
        zenodo_client.put_json(
            f"{DEPOSITIONS}/{published['id']}", {"metadata": metadata}
        ).status_code
        == 200
    )
    response = zenodo_client.action(published, "publish")

    assert response.status_code == 202
    assert response.json()["title"] == "Soil samples, corrected"
    assert response.json()["doi"] == published["doi"]


def test_it_discards_an_edit_with_204_and_an_empty_body(zenodo_client: ZenodoClient) -> None:
    published = zenodo_client.published()
    zenodo_client.action(published, "edit")
    zenodo_client.put_json(f"{DEPOSITIONS}/{published['id']}", {"metadata": {"title": "Changed"}})

    response = zenodo_client.action(published, "discard")

    assert response.status_code == 204
    assert response.content == b""
    after = zenodo_client.get(f"{DEPOSITIONS}/{published['id']}").json()
    assert after["state"] == "done"
    assert after["title"] == published["title"]


def test_it_deletes_a_never_published_deposit_on_discard(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create()

    assert zenodo_client.action(deposition, "discard").status_code == 204
    assert zenodo_client.get(f"{DEPOSITIONS}/{deposition['id']}").status_code == 404


def test_it_returns_the_new_draft_with_copied_files_on_newversion(
    zenodo_client: ZenodoClient,
) -> None:
    published = zenodo_client.published({"a.txt": b"one", "b.txt": b"two"})

    response = zenodo_client.action(published, "newversion")

    assert response.status_code == 201
    draft = response.json()
    assert draft["id"] != published["id"]
    assert draft["conceptrecid"] == published["conceptrecid"]
    assert draft["state"] == "unsubmitted"
    assert "doi" not in draft
    assert "version" not in draft["metadata"]
    assert sorted(f["filename"] for f in draft["files"]) == ["a.txt", "b.txt"]
    old = zenodo_client.get(f"{DEPOSITIONS}/{published['id']}").json()
    assert old["links"]["latest_draft"] == draft["links"]["self"]


def test_it_refuses_a_second_newversion_while_the_draft_has_files(
    zenodo_client: ZenodoClient,
) -> None:
    published = zenodo_client.published()
    zenodo_client.action(published, "newversion")

    response = zenodo_client.action(published, "newversion")

    assert response.status_code == 400
    assert errors_of(response) == {"files.enabled": ["Please remove all files first."]}


def test_it_reuses_the_emptied_draft_on_newversion(zenodo_client: ZenodoClient) -> None:
    published = zenodo_client.published()
    draft = zenodo_client.action(published, "newversion").json()
    for file in draft["files"]:
        assert zenodo_client.delete(file["links"]["self"]).status_code == 204

    again = zenodo_client.action(published, "newversion")

    assert again.status_code == 201
    assert again.json()["id"] == draft["id"]
    assert len(again.json()["files"]) == 1


def test_it_publishes_a_new_version_under_the_same_concept(zenodo_client: ZenodoClient) -> None:
    published = zenodo_client.published()
    draft = zenodo_client.action(published, "newversion").json()

    response = zenodo_client.action(draft, "publish")

    assert response.status_code == 202
    assert response.json()["conceptdoi"] == published["conceptdoi"]
    assert response.json()["doi"] != published["doi"]
    record = zenodo_client.get(f"{ZENODO_API}/records/{published['id']}/versions/latest")
    assert record.status_code == 302
    assert record["Location"].endswith(f"/api/records/{draft['id']}")


def test_it_serves_published_records_to_anyone(zenodo_client: ZenodoClient) -> None:
    from django.test import Client

    published = zenodo_client.published({"data.csv": b"1, 2, 3"})

    record = Client().get(f"{ZENODO_API}/records/{published['id']}").json()
    content = Client().get(record["files"][0]["links"]["self"])

    assert record["files"][0]["checksum"] == "md5:66ce05ea43c73b8e33c74c12d0371bc9"
    assert record["metadata"]["resource_type"] == {"type": "dataset"}
    assert b"".join(content.streaming_content) == b"1, 2, 3"  # type: ignore[attr-defined]


def test_it_answers_in_the_documented_shapes_in_legacy_doc_mode(
    zenodo_client: ZenodoClient,
) -> None:
    control.configure(legacy_doc_mode=True)
    published = zenodo_client.published()

    newversion = zenodo_client.action(published, "newversion")
    invalid = zenodo_client.post_json(DEPOSITIONS, {"metadata": {"license": 42}})

    assert newversion.status_code == 201
    assert newversion.json()["id"] == published["id"]
    assert invalid.json()["message"] == "Validation error."
    assert invalid.json()["errors"][0]["message"].startswith("Invalid license value provided")
