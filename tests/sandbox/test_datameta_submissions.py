"""Presubvalidation and submissions (notes-datameta.md §22-§23; exchanges #58-#69, #89)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.datameta_fixtures import *  # noqa: F403
from tests.sandbox.datameta_fixtures import DATAMETA_READS, DataMetaClient

pytestmark = pytest.mark.urls("sandbox.datameta.root_urls")


def request(
    msets: list[dict[str, Any]], files: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    return {
        "metadatasetIds": [m["id"]["uuid"] for m in msets],
        "fileIds": [f["id"]["uuid"] for f in files],
        **extra,
    }


def problem(entity: dict[str, Any], message: str, field: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"exception": "ValidationError", "entity": entity}
    if field:
        item["field"] = field
    item["message"] = message
    return item


def test_presubvalidation_passes_with_204(datameta_admin: DataMetaClient) -> None:
    mset = datameta_admin.stage()
    f = datameta_admin.staged_file("BN09_R1.fastq.gz", DATAMETA_READS)

    response = datameta_admin.post_json("/presubvalidation", request([mset], [f]))

    assert (response.status_code, response.content) == (204, b"")


def test_a_referenced_file_must_be_provided(datameta_admin: DataMetaClient) -> None:
    mset = datameta_admin.stage()

    response = datameta_admin.post_json("/presubvalidation", request([mset], []))

    assert response.status_code == 400
    assert response.json() == [problem(mset["id"], "Referenced file not provided", "FileR1")]


def test_a_file_must_be_referenced(datameta_admin: DataMetaClient) -> None:
    mset = datameta_admin.stage()
    f = datameta_admin.staged_file("BN09_R1.fastq.gz", DATAMETA_READS)
    extra = datameta_admin.staged_file("wrong.txt", b"x")

    response = datameta_admin.post_json("/presubvalidation", request([mset], [f, extra]))

    assert response.json() == [problem(extra["id"], "File included without reference in metadata")]


def test_unknown_ids_short_circuit_and_echo_the_id(datameta_admin: DataMetaClient) -> None:
    body = {"metadatasetIds": ["DMR-00000000"], "fileIds": ["nope"]}

    response = datameta_admin.post_json("/presubvalidation", body)

    assert response.json() == [
        {
            "exception": "ValidationError",
            "entity": {"site": "nope", "uuid": "nope"},
            "message": "Not found",
        },
        {
            "exception": "ValidationError",
            "entity": {"site": "DMR-00000000", "uuid": "DMR-00000000"},
            "message": "Not found",
        },
    ]


def test_nothing_to_submit(datameta_admin: DataMetaClient) -> None:
    response = datameta_admin.post_json("/presubvalidation", {"metadatasetIds": [], "fileIds": []})

    assert response.json() == [
        {
            "exception": "ValidationError",
            "message": "Neither data nor metadata provided in submission.",
        }
    ]


def test_other_users_items_are_access_denied(
    datameta_admin: DataMetaClient, datameta_submitter: DataMetaClient
) -> None:
    mset = datameta_admin.stage()
    f = datameta_admin.staged_file("BN09_R1.fastq.gz", DATAMETA_READS)

    response = datameta_submitter.post_json("/presubvalidation", request([mset], [f]))

    assert [e["message"] for e in response.json()] == ["Access denied", "Access denied"]
    assert response.json()[0]["entity"] == {"site": f["id"]["uuid"], "uuid": f["id"]["uuid"]}


def test_it_submits_and_links_files_by_name(datameta_admin: DataMetaClient) -> None:
    mset = datameta_admin.stage()
    f = datameta_admin.staged_file("BN09_R1.fastq.gz", DATAMETA_READS)

    response = datameta_admin.post_json("/submissions", request([mset], [f], label="contract-test"))

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["metadatasetIds", "fileIds", "id", "label"]
    assert body["id"]["site"].startswith("DMS-")
    assert body["metadatasetIds"] == [mset["id"]] and body["fileIds"] == [f["id"]]
    linked = datameta_admin.api_get(f"/metadatasets/{mset['id']['uuid']}").json()
    assert linked["fileIds"] == {"FileR1": f["id"]}
    assert linked["submissionId"] == body["id"]


def test_submitting_twice_reports_every_problem(datameta_admin: DataMetaClient) -> None:
    mset, f, _ = datameta_admin.submitted()

    response = datameta_admin.post_json("/submissions", request([mset], [f]))

    assert response.status_code == 400
    assert response.json() == [
        problem(f["id"], "Already submitted"),
        problem(mset["id"], "Already submitted"),
        problem(f["id"], "File included without reference in metadata"),
        problem(mset["id"], "Violation of global unique constraint", "SampleID"),
    ]


def test_site_unique_values_are_checked_against_submitted_records(
    datameta_admin: DataMetaClient,
) -> None:
    datameta_admin.submitted()
    again = datameta_admin.stage(ZIPCode="150", FileR1="wrong.txt")
    f = datameta_admin.staged_file("wrong.txt", b"x")

    response = datameta_admin.post_json("/presubvalidation", request([again], [f]))

    assert response.json() == [
        problem(again["id"], "Violation of global unique constraint", "SampleID")
    ]


def test_submission_unique_values_may_not_repeat_within_a_submission(
    datameta_admin: DataMetaClient,
) -> None:
    a = datameta_admin.stage({"SampleID": "LU67", "ZIPCode": "777", "FileR1": "a1.txt"})
    b = datameta_admin.stage({"SampleID": "IY35", "ZIPCode": "777", "FileR1": "a2.txt"})

    response = datameta_admin.post_json("/presubvalidation", request([a, b], []))

    messages = [(e["entity"]["uuid"], e.get("field"), e["message"]) for e in response.json()]
    assert sorted(messages) == sorted(
        [
            (a["id"]["uuid"], "FileR1", "Referenced file not provided"),
            (b["id"]["uuid"], "FileR1", "Referenced file not provided"),
            (a["id"]["uuid"], "ZIPCode", "Violation of intra-submission unique constraint"),
            (b["id"]["uuid"], "ZIPCode", "Violation of intra-submission unique constraint"),
        ]
    )


def test_a_failed_submission_changes_nothing(datameta_admin: DataMetaClient) -> None:
    mset = datameta_admin.stage()

    assert datameta_admin.post_json("/submissions", request([mset], [])).status_code == 400

    assert (
        datameta_admin.api_get(f"/metadatasets/{mset['id']['uuid']}").json()["submissionId"] is None
    )


def test_group_submissions_are_listed(datameta_admin: DataMetaClient) -> None:
    mset, f, submission = datameta_admin.submitted()
    group = datameta_admin.api_get("/rpc/whoami").json()["group"]

    listed = datameta_admin.api_get(f"/groups/{group['id']['site']}/submissions").json()

    assert listed == [
        {
            "id": submission["id"],
            "label": "t",
            "metadatasetIds": [mset["id"]],
            "fileIds": [f["id"]],
        }
    ]
