"""Service executions: the accession service's results appear on submitted metadatasets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from sandbox.datameta.models import Submission
from sandbox.datameta.seed import SERVICE_EMAIL
from tests.sandbox.datameta_fixtures import *  # noqa: F403
from tests.sandbox.datameta_fixtures import DataMetaClient, datameta_control

pytestmark = pytest.mark.urls("sandbox.datameta.root_urls")


def accession_of(client: DataMetaClient, mset: dict[str, Any]) -> Any:
    return (
        client.api_get(f"/metadatasets/{mset['id']['uuid']}")
        .json()["record"]
        .get("AccessionNumber")
    )


def test_results_appear_after_the_delay(datameta_admin: DataMetaClient) -> None:
    mset, _, _ = datameta_admin.submitted()
    body = datameta_admin.api_get(f"/metadatasets/{mset['id']['uuid']}").json()
    assert body["record"]["AccessionNumber"] is None
    assert body["serviceExecutions"] == {"AccessionNumber": None}

    Submission.objects.update(date=timezone.now() - timedelta(seconds=10))

    body = datameta_admin.api_get(f"/metadatasets/{mset['id']['uuid']}").json()
    assert body["record"]["AccessionNumber"] == f"ERS{mset['id']['site'][-7:]}"
    execution = body["serviceExecutions"]["AccessionNumber"]
    assert execution["serviceId"]["site"].startswith("DMP-")
    assert execution["executionTime"].endswith("+00:00")


def test_results_appear_on_demand_through_control(datameta_admin: DataMetaClient) -> None:
    datameta_control(datameta_admin, action="configure", service_delay=-1)
    mset, _, _ = datameta_admin.submitted()
    Submission.objects.update(date=timezone.now() - timedelta(days=1))
    assert accession_of(datameta_admin, mset) is None

    assert datameta_control(datameta_admin, action="run_services")["executed"] == 1

    assert accession_of(datameta_admin, mset).startswith("ERS")


def test_awaiting_service_lists_what_the_service_has_not_done(
    datameta_admin: DataMetaClient,
) -> None:
    datameta_control(datameta_admin, action="configure", service_delay=-1)
    mset, _, _ = datameta_admin.submitted()
    service = datameta_admin.api_get("/services").json()[0]

    waiting = datameta_admin.api_get("/metadatasets", {"awaitingService": service["id"]["site"]})
    datameta_control(datameta_admin, action="run_services")
    done = datameta_admin.api_get("/metadatasets", {"awaitingService": service["id"]["uuid"]})

    assert [m["id"] for m in waiting.json()] == [mset["id"]]
    assert done.status_code == 404


def test_service_fields_are_hidden_from_users_without_site_read(
    datameta_submitter: DataMetaClient,
) -> None:
    datameta_control(datameta_submitter, action="run_services")
    mset, _, _ = datameta_submitter.submitted()
    datameta_control(datameta_submitter, action="run_services")

    body = datameta_submitter.api_get(f"/metadatasets/{mset['id']['uuid']}").json()

    assert "AccessionNumber" not in body["record"]
    assert body["serviceExecutions"] is None


def test_a_service_user_reports_results_once(datameta_admin: DataMetaClient) -> None:
    from sandbox.datameta.tokens import issue_token

    datameta_control(datameta_admin, action="configure", service_delay=-1)
    mset, _, _ = datameta_admin.submitted()
    service = datameta_admin.api_get("/services").json()[0]
    robot = DataMetaClient(issue_token(SERVICE_EMAIL))
    path = f"/service-execution/{service['id']['site']}/{mset['id']['site']}"

    unknown = robot.post_json(path, {"record": {"SampleID": "XX00"}, "fileIds": []})
    stranger = datameta_admin.post_json(
        path, {"record": {"AccessionNumber": "ERS0000042"}, "fileIds": []}
    )
    done = robot.post_json(path, {"record": {"AccessionNumber": "ERS0000042"}, "fileIds": []})
    again = robot.post_json(path, {"record": {"AccessionNumber": "ERS0000043"}, "fileIds": []})

    assert unknown.status_code == 400
    assert (
        unknown.json()[0]["message"]
        == "Metadatum unknown or not associated with the specified service."
    )
    assert (stranger.status_code, stranger.json()) == (403, {})
    assert done.status_code == 200
    assert (again.status_code, again.json()) == (403, {})
    assert accession_of(datameta_admin, mset) == "ERS0000042"


def test_services_are_listed_with_their_users(datameta_admin: DataMetaClient) -> None:
    [service] = datameta_admin.api_get("/services").json()

    assert service["name"] == "accession-service"
    assert len(service["userIds"]) == 1
