"""Metadata definitions and metadatasets (notes-datameta.md §11-§16, §24; exchanges #13-#30)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.datameta_fixtures import *  # noqa: F403
from tests.sandbox.datameta_fixtures import DATAMETA_RECORD, DataMetaClient

pytestmark = pytest.mark.urls("sandbox.datameta.root_urls")

NEW_DEFINITION: dict[str, Any] = {
    "name": "Country",
    "regexDescription": "",
    "longDescription": "",
    "example": "DE",
    "regExp": "^[A-Z]{2}$",
    "dateTimeFmt": "",
    "isMandatory": False,
    "order": 600,
    "isFile": False,
    "isSubmissionUnique": False,
    "isSiteUnique": False,
    "serviceId": "",
}


def error(field: str, message: str | None) -> dict[str, Any]:
    return {"exception": "ValidationError", "field": field, "message": message}


def test_it_publishes_the_metadata_definitions(datameta_submitter: DataMetaClient) -> None:
    definitions = {d["name"]: d for d in datameta_submitter.api_get("/metadata").json()}

    assert list(definitions) == ["SampleID", "ZIPCode", "Date", "Lane", "FileR1", "AccessionNumber"]
    sample = definitions["SampleID"]
    assert sample["regExp"] == "^[A-Z]{2}[0-9]{2}$"
    assert sample["isSiteUnique"] and sample["isMandatory"]
    assert set(sample["id"]) == {"uuid"}
    assert definitions["ZIPCode"]["isSubmissionUnique"]
    assert definitions["Date"]["dateTimeFmt"] == "%Y-%m-%d"
    assert definitions["Lane"]["regexDescription"] is None
    assert definitions["FileR1"]["isFile"]
    assert definitions["SampleID"]["serviceId"] is None
    assert definitions["AccessionNumber"]["serviceId"]["site"].startswith("DMP-")


def test_admins_define_metadata_and_empty_strings_become_null(
    datameta_admin: DataMetaClient,
) -> None:
    response = datameta_admin.post_json("/metadata", NEW_DEFINITION)

    assert response.status_code == 200
    created = response.json()
    assert created["regexDescription"] is None and created["dateTimeFmt"] is None
    assert created["example"] == "DE"
    assert created["serviceId"] is None


def test_it_forbids_defining_metadata_to_non_admins(datameta_submitter: DataMetaClient) -> None:
    response = datameta_submitter.post_json("/metadata", NEW_DEFINITION)

    assert response.status_code == 403
    assert response["Content-Type"] == "text/html; charset=UTF-8"
    assert len(response.content) == 155  # exchange #85


def test_a_null_service_id_crashes_like_the_real_server(datameta_admin: DataMetaClient) -> None:
    response = datameta_admin.post_json("/metadata", {**NEW_DEFINITION, "serviceId": None})

    assert response.status_code == 500
    assert response["Content-Type"] == "text/plain; charset=utf-8"


def test_missing_properties_name_every_required_one_in_field(
    datameta_admin: DataMetaClient,
) -> None:
    response = datameta_admin.post_json("/metadata", {"name": "Incomplete"})

    errors = response.json()
    assert response.status_code == 400
    assert len(errors) == 11
    assert errors[0] == {
        "exception": "ValidationError",
        "message": "'regexDescription' is a required property",
        "field": "name/regexDescription/longDescription/example/regExp/dateTimeFmt/"
        "isMandatory/order/isFile/isSubmissionUnique/isSiteUnique/serviceId",
    }


def test_it_stages_a_valid_metadataset(datameta_admin: DataMetaClient) -> None:
    response = datameta_admin.post_json("/metadatasets", {"record": DATAMETA_RECORD})

    assert response.status_code == 200
    body = response.json()
    assert body["id"]["site"].startswith("DMR-")
    assert body["record"]["Date"] == "2021-03-29T00:00:00"  # ISO in the POST reply (#23)
    assert body["fileIds"] == {"FileR1": None}
    assert body["submissionId"] is None and body["serviceExecutions"] is None


def test_it_fills_absent_fields_with_null(datameta_admin: DataMetaClient) -> None:
    body = datameta_admin.stage({"SampleID": "TT03", "ZIPCode": 149, "FileR1": "num.fastq.gz"})

    assert body["record"] == {
        "SampleID": "TT03",
        "ZIPCode": "149",  # numbers are str()-converted (#27)
        "FileR1": "num.fastq.gz",
        "Date": None,
        "Lane": None,
    }


def test_regex_checks_use_re_match(datameta_admin: DataMetaClient) -> None:
    body = datameta_admin.stage({"SampleID": "JN58", "ZIPCode": "123\n", "FileR1": "nl.fastq.gz"})

    assert body["record"]["ZIPCode"] == "123\n"  # $ accepts a trailing newline (#28)


def test_a_regex_failure_reports_the_regex_description(datameta_admin: DataMetaClient) -> None:
    response = datameta_admin.post_json(
        "/metadatasets", {"record": {"SampleID": "LP23", "ZIPCode": "12a4", "FileR1": "x"}}
    )

    assert response.status_code == 400
    assert response.json() == [error("ZIPCode", "ZIP code: exactly three digits")]
    assert len(response.content) == 94  # exchange #24


def test_a_regex_failure_without_description_is_a_500(datameta_admin: DataMetaClient) -> None:
    record = {"SampleID": "XW88", "ZIPCode": "149", "Lane": "X9", "FileR1": "x.fastq.gz"}

    response = datameta_admin.post_json("/metadatasets", {"record": record})

    assert response.status_code == 500
    assert response.json() == [{"exception": "ValidationError", "message": "None for not nullable"}]


def test_it_reports_every_problem_at_once(datameta_admin: DataMetaClient) -> None:
    record = {"ZIPCode": "149", "FileR1": None, "Date": "29.03.2021", "Unknown": "x"}

    response = datameta_admin.post_json("/metadatasets", {"record": record})

    assert response.status_code == 400
    assert response.json() == [
        error("SampleID", "Field was not specified but is mandatory"),
        error("Date", "The field could not be parsed as a valid date / time"),
        error("FileR1", "Field value was null, but the field is mandatory"),
        error("Unknown", "The field was not expected."),
    ]


def test_it_needs_the_record_wrapper(datameta_admin: DataMetaClient) -> None:
    response = datameta_admin.post_json("/metadatasets", {"SampleID": "YR31"})

    assert response.json() == [
        {
            "exception": "ValidationError",
            "message": "'record' is a required property",
            "field": "record",
        },
        {
            "exception": "ValidationError",
            "message": "Additional properties are not allowed ('SampleID' was unexpected)",
        },
    ]


def test_uniqueness_is_not_checked_when_staging(datameta_admin: DataMetaClient) -> None:
    datameta_admin.submitted()

    assert datameta_admin.stage(ZIPCode="150", FileR1="wrong.txt")["record"]["SampleID"] == "BN09"


def test_a_staged_metadataset_shows_dates_in_their_format(datameta_admin: DataMetaClient) -> None:
    staged = datameta_admin.stage()

    body = datameta_admin.api_get(f"/metadatasets/{staged['id']['uuid']}").json()

    assert body["record"]["Date"] == "2021-03-29"
    assert body["serviceExecutions"] is None


def test_another_groups_submitted_metadataset_is_forbidden(
    datameta_admin: DataMetaClient, datameta_submitter: DataMetaClient
) -> None:
    mset, _, _ = datameta_admin.submitted()

    response = datameta_submitter.api_get(f"/metadatasets/{mset['id']['uuid']}")

    assert response.status_code == 403
    assert response["Content-Type"] == "text/html; charset=UTF-8"


def test_an_unknown_metadataset_is_the_404_page(datameta_admin: DataMetaClient) -> None:
    response = datameta_admin.api_get("/metadatasets/DMR-00000000")

    assert response.status_code == 404
    assert b"Page Not Found" in response.content


def test_querying_without_a_match_is_a_404_page_not_a_list(datameta_admin: DataMetaClient) -> None:
    datameta_admin.stage()  # staged sets are never listed

    response = datameta_admin.api_get("/metadatasets", HTTP_HOST="127.0.0.1:6543")

    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=UTF-8"
    assert len(response.content) == 2162  # exchange #22


def test_querying_lists_submitted_metadatasets_by_date(
    datameta_admin: DataMetaClient, datameta_submitter: DataMetaClient
) -> None:
    mset, f, submission = datameta_admin.submitted()

    listed = datameta_admin.api_get("/metadatasets", {"submittedAfter": "2020-01-01T00:00:00"})
    later = datameta_admin.api_get("/metadatasets", {"submittedAfter": "2999-01-01T00:00:00Z"})
    elsewhere = datameta_submitter.api_get(
        "/metadatasets", {"submittedAfter": "2020-01-01T00:00:00Z"}
    )

    assert listed.status_code == 200
    [found] = listed.json()
    assert found["id"] == mset["id"]
    assert found["fileIds"] == {"FileR1": f["id"]}
    assert found["submissionId"] == submission["id"]
    assert later.status_code == 404
    assert elsewhere.status_code == 404  # another group sees nothing (#88)


def test_query_bounds_must_be_date_times(datameta_admin: DataMetaClient) -> None:
    response = datameta_admin.api_get("/metadatasets", {"submittedAfter": "2020-01-01"})

    assert response.status_code == 400
    assert response.json() == [
        {"exception": "ValidationError", "message": "'2020-01-01' is not a 'date-time'"}
    ]


def test_it_deletes_staged_but_not_submitted_metadatasets(datameta_admin: DataMetaClient) -> None:
    staged = datameta_admin.stage(SampleID="IY35")
    submitted, _, _ = datameta_admin.submitted()

    assert datameta_admin.api_delete(f"/metadatasets/{staged['id']['uuid']}").status_code == 204
    refused = datameta_admin.api_delete(f"/metadatasets/{submitted['id']['site']}")

    assert refused.status_code == 403
    assert refused.json() == [
        {"exception": "ResourceNotModifiableError", "message": "The resource cannot be modified"}
    ]
    assert datameta_admin.api_get(f"/metadatasets/{staged['id']['uuid']}").status_code == 404


def test_bulk_delete_of_metadatasets_is_all_or_nothing(datameta_admin: DataMetaClient) -> None:
    first = datameta_admin.stage(SampleID="AA11")
    second = datameta_admin.stage(SampleID="AA22")
    submitted, _, _ = datameta_admin.submitted()

    refused = datameta_admin.post_json(
        "/rpc/delete-metadatasets",
        {"metadatasetIds": [first["id"]["uuid"], submitted["id"]["uuid"]]},
    )
    assert refused.status_code == 403
    assert datameta_admin.api_get(f"/metadatasets/{first['id']['uuid']}").status_code == 200

    done = datameta_admin.post_json(
        "/rpc/delete-metadatasets", {"metadatasetIds": [first["id"]["uuid"], second["id"]["site"]]}
    )
    assert done.status_code == 204
    assert datameta_admin.api_get(f"/metadatasets/{second['id']['uuid']}").status_code == 404
