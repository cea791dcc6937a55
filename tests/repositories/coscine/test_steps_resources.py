"""The resource a Coscine target stores into: an existing one checked and adopted, a new
one created once (its marker among its keywords, so a lost reply is found again), and
deleted again only when the portal made it."""

from __future__ import annotations

import json

import pytest
import responses
from responses import matchers

from deposits.repositories.base import FileState, PermanentError
from deposits.repositories.coscine import resources
from deposits.repositories.coscine.connector import CoscineConnector

from .steps_support import (
    API,
    MARKER,
    PID,
    PROJECT,
    RESOURCE,
    RESOURCE_API,
    envelope,
    file_job,
    make_client,
    make_job,
    options,
    remote_data,
    resource_dto,
)

RESOURCES = f"{API}/projects/{PROJECT}/resources"
TYPES = f"{API}/projects/{PROJECT}/resource-types"
S3_TYPE = "5e0b7d55-3f43-4f7e-9a61-0c2b8d9e1f22"
NEW = {
    "name": "Floodplain raw data",
    "display_name": "raw",
    "description": "Hourly soil moisture",
    "visibility": "vis-project",
    "disciplines": ["disc-1", "disc-2"],
    "license": "lic-cc-by",
    "keywords": ["soil"],
    "resource_type": S3_TYPE,
    "quota_gib": 5,
}


@pytest.fixture
def rsps():
    with responses.RequestsMock() as mock:
        yield mock


def new_job(**kwargs):
    chosen = options(new_resource=NEW)
    chosen.pop("resource")
    return make_job([], options=chosen, remote_id="", remote_data={}, **kwargs)


def run(job):
    return CoscineConnector().run_step("prepare_resource", make_client(), job, lambda *a: None)


# --------------------------------------------------------------------------- existing


def test_an_existing_resource_is_checked_and_adopted(rsps):
    rsps.get(RESOURCE_API, json=envelope(resource_dto("rdss3")))
    result = run(make_job([], remote_id="", remote_data={}))
    assert result.remote_id == RESOURCE
    assert result.remote_links == {
        "html": f"https://coscine.example.org/p/floodplain/r/{RESOURCE}/-/"
    }
    assert result.remote_data["project_id"] == PROJECT
    assert result.remote_data["resource"] == {
        "id": RESOURCE, "pid": PID, "general_type": "rdss3", "created_by_portal": False,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("dto", "status", "says"),
    [
        (resource_dto(archived=True), 200, "archived"),
        (resource_dto(projects=[{"id": "another"}]), 200, "does not belong"),
        (resource_dto("linked"), 200, "stores no files"),
        ({}, 404, "no longer exists"),
    ],
)
def test_an_unusable_resource_is_refused_with_what_to_do(rsps, dto, status, says):
    rsps.get(RESOURCE_API, json=envelope(dto), status=status)
    with pytest.raises(PermanentError, match=says):
        run(make_job([], remote_id="", remote_data={}))


# --------------------------------------------------------------------------- new


def expect_create(rsps):
    rsps.get(
        TYPES,
        json=envelope(
            [{"id": "other", "generalType": "rds"}, {"id": S3_TYPE, "generalType": "rdsS3"}]
        ),
    )
    rsps.post(
        RESOURCES,
        status=201,
        json=envelope(resource_dto("rdss3", keywords=["soil", MARKER])),
        match=[
            matchers.json_params_matcher(
                {
                    "name": "Floodplain raw data",
                    "displayName": "raw",
                    "description": "Hourly soil moisture",
                    "keywords": ["soil", MARKER],
                    "visibility": {"id": "vis-project"},
                    "disciplines": [{"id": "disc-1"}, {"id": "disc-2"}],
                    "license": {"id": "lic-cc-by"},
                    "resourceTypeId": S3_TYPE,
                    "applicationProfile": {"uri": "https://purl.org/coscine/ap/base/"},
                    "resourceTypeOptions": {
                        "rdsS3ResourceTypeOptions": {
                            "quota": {"value": 5, "unit": "https://qudt.org/vocab/unit/GibiBYTE"}
                        }
                    },
                }
            )
        ],
    )


def test_a_new_resource_is_created_with_the_marker(rsps):
    expect_create(rsps)
    result = run(new_job(create_marker=MARKER))
    assert result.remote_id == RESOURCE
    assert result.remote_data["resource"]["created_by_portal"] is True
    assert result.remote_data["resource"]["general_type"] == "rdss3"
    assert "Created the resource" in result.message


def test_a_resumed_create_adopts_the_resource_it_made(rsps):
    rsps.get(
        RESOURCES,
        json=envelope([resource_dto(id="someone-elses", keywords=["x"])], has_next=True),
        match=[matchers.query_param_matcher({"PageNumber": "1", "PageSize": "50"})],
    )
    rsps.get(
        RESOURCES,
        json=envelope([resource_dto(keywords=["soil", MARKER])], page=2),
        match=[matchers.query_param_matcher({"PageNumber": "2", "PageSize": "50"})],
    )
    rsps.get(RESOURCE_API, json=envelope(resource_dto("rdss3")))
    result = run(new_job(create_marker=MARKER, resumed=True))
    assert [c.request.method for c in rsps.calls] == ["GET", "GET", "GET"]  # no POST
    assert result.remote_id == RESOURCE
    assert result.remote_data["resource"]["created_by_portal"] is True


def test_a_resumed_create_that_made_nothing_creates(rsps):
    rsps.get(RESOURCES, json=envelope([resource_dto(keywords=["deposit-portal:" + "cd" * 16])]))
    expect_create(rsps)
    assert run(new_job(create_marker=MARKER, resumed=True)).remote_id == RESOURCE


def test_a_type_the_project_no_longer_offers_is_refused(rsps):
    rsps.get(TYPES, json=envelope([{"id": "other", "generalType": "rds"}]))
    with pytest.raises(PermanentError, match="resource type is not available"):
        run(new_job(create_marker=MARKER))


def test_find_created_and_marked_drafts(rsps):
    rsps.get(RESOURCES, json=envelope([resource_dto(keywords=[MARKER])]))
    rsps.get(f"{API}/projects", json=envelope([{"id": PROJECT}]))
    rsps.get(RESOURCE_API, json=envelope(resource_dto()))
    found = resources.find_created(make_client(), new_job(create_marker=MARKER))
    assert found is not None and found.remote_id == RESOURCE
    assert resources.marked_drafts(make_client()) == [(RESOURCE, MARKER)]  # as remote_id holds it
    assert resources.find_created(make_client(), new_job()) is None  # no marker, no look


# --------------------------------------------------------------------------- orphans


def test_an_empty_orphan_is_deleted(rsps):
    rsps.get(f"{API}/resources/{RESOURCE}", json=envelope(resource_dto()))
    rsps.get(f"{RESOURCE_API}/storage", json=envelope([]))
    rsps.delete(RESOURCE_API, status=204)
    resources.delete_orphan(make_client(), RESOURCE)
    assert rsps.calls[-1].request.method == "DELETE"


def test_an_orphan_already_gone_is_fine(rsps):
    rsps.get(f"{API}/resources/{RESOURCE}", status=404)
    resources.delete_orphan(make_client(), RESOURCE)


def test_an_orphan_holding_files_is_left_alone(rsps):
    rsps.get(f"{API}/resources/{RESOURCE}", json=envelope(resource_dto()))
    rsps.get(f"{RESOURCE_API}/storage", json=envelope([{"path": "/x", "type": "Leaf", "size": 1}]))
    with pytest.raises(PermanentError, match="left as it is"):
        resources.delete_orphan(make_client(), RESOURCE)
    assert all(c.request.method == "GET" for c in rsps.calls)


# --------------------------------------------------------------------------- delete


def test_delete_removes_each_stored_file_then_the_resource_it_made(rsps):
    data = remote_data(files={"a.csv": {"size": 1}, "b.csv": {"size": 2}})
    data["resource"]["created_by_portal"] = True
    files = [
        file_job("a.csv", b"a", status=FileState.DONE),
        file_job("b.csv", b"bb", status=FileState.DELETE),
    ]
    job = make_job(files, action="delete", remote_data=data)
    rsps.delete(f"{RESOURCE_API}/storage/a.csv", status=204)
    rsps.delete(f"{RESOURCE_API}/storage/b.csv", status=404)  # already gone: fine
    rsps.delete(RESOURCE_API, status=204)
    client = make_client()
    first = resources.delete_stored(client, job, lambda *a: None)
    assert first.done is False and first.file_updates["a.csv"].status == FileState.PENDING
    job.remote_data = first.remote_data
    second = resources.delete_stored(client, job, lambda *a: None)
    assert second.files_removed == ["b.csv"]
    job.remote_data = second.remote_data
    last = resources.delete_stored(client, job, lambda *a: None)
    assert last.done is True and last.remote_id == ""
    assert [c.request.url for c in rsps.calls][-1] == RESOURCE_API


def test_delete_keeps_a_resource_that_was_chosen(rsps):
    job = make_job([], action="delete", remote_data=remote_data(files={"a.csv": {}}))
    rsps.delete(f"{RESOURCE_API}/storage/a.csv", status=204)
    first = resources.delete_stored(make_client(), job, lambda *a: None)
    job.remote_data = first.remote_data
    last = resources.delete_stored(make_client(), job, lambda *a: None)
    assert "stays" in last.message
    assert len(rsps.calls) == 1
    assert json.dumps(last.remote_data["files"]) == "{}"
