"""The Coscine sandbox's API: the envelope, pagination, both error shapes (ProblemDetails
and the empty 403/404), tokens with an expiry, projects, lookups, PIDs and faults."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from tests.sandbox.test_coscine_fixtures import *  # noqa: F403
from tests.sandbox.test_coscine_fixtures import (
    API,
    CLOSED,
    FIELD,
    RDS,
    SOIL,
    TEST_PROFILE,
    TRACE,
    CoscineClient,
    assert_envelope,
    make_resource,
)

pytestmark = pytest.mark.urls("sandbox.coscine.root_urls")


# ------------------------------------------------------------------------- tokens, self


def test_self_answers_the_user_in_the_envelope(coscine: CoscineClient) -> None:
    first = coscine.get(f"{API}/self").json()
    second = coscine.get(f"{API}/self").json()
    assert_envelope(first)
    assert "pagination" not in first
    assert first["data"]["displayName"] == "Sandbox User"
    assert first["data"]["emails"][0]["email"] == "sandbox-user@sandbox.example.org"
    assert first["traceId"] != second["traceId"]


def test_api_tokens_list_their_expiry_but_never_the_token(coscine: CoscineClient) -> None:
    body = coscine.get(f"{API}/self/api-tokens").json()
    [token] = body["data"]
    assert token["expiryDate"] > token["creationDate"]
    assert token["token"] is None
    assert body["pagination"]["totalCount"] == 1


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic abc"])
def test_a_missing_or_unknown_token_is_a_401(coscine_token: str, header: str | None) -> None:
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = Client().get(f"{API}/self", **extra)
    assert response.status_code == 401
    assert response.content == b""
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_expired_through_control_is_refused(coscine: CoscineClient) -> None:
    assert coscine.get(f"{API}/self").status_code == 200
    expired = Client().post(
        "/_control/tokens/expire", {"user": "sandbox-user"}, content_type="application/json"
    )
    assert expired.json() == {"expired": 1}
    response = coscine.get(f"{API}/self")
    assert response.status_code == 401
    assert "expired" in response["WWW-Authenticate"]


def test_an_already_expired_token_is_refused(db: None, coscine_storage: Path) -> None:
    from sandbox.coscine.tokens import issue_token

    response = CoscineClient(issue_token("sandbox-user", days=0)).get(f"{API}/self")
    assert response.status_code == 401


def test_sandbox_token_command_issues_a_working_token(db: None, coscine_storage: Path) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sandbox_token", "coscine", "--user", "demo-lab", stdout=out)
    client = CoscineClient(out.getvalue().strip())
    assert client.get(f"{API}/self").json()["data"]["displayName"] == "Demo Lab"
    # the demo's user sees the seeded projects
    assert client.get(f"{API}/projects").json()["pagination"]["totalCount"] == 3


# ---------------------------------------------------------------------------- projects


def test_projects_list_with_pagination(coscine: CoscineClient) -> None:
    body = coscine.get(f"{API}/projects").json()
    assert_envelope(body)
    assert [p["slug"] for p in body["data"]] == ["soil-lab", "soil-lab-field", "imaging"]
    assert body["pagination"] == {
        "currentPage": 1,
        "totalPages": 1,
        "pageSize": 10,
        "totalCount": 3,
        "hasPrevious": False,
        "hasNext": False,
    }
    top = coscine.get(f"{API}/projects", {"TopLevel": "true"}).json()
    assert [p["slug"] for p in top["data"]] == ["soil-lab", "imaging"]
    assert top["data"][0]["organizations"][0]["uri"] == "https://ror.org/04xfq0f34"
    bare = coscine.get(f"{API}/projects", {"IncludeOrganizations": "false"}).json()
    assert bare["data"][0]["organizations"] == []


def test_pages_of_projects(coscine: CoscineClient) -> None:
    body = coscine.get(f"{API}/projects", {"PageSize": 2, "PageNumber": 2}).json()
    assert [p["slug"] for p in body["data"]] == ["imaging"]
    assert body["pagination"]["hasPrevious"] is True
    assert body["pagination"]["hasNext"] is False
    assert body["pagination"]["totalPages"] == 2


@pytest.mark.parametrize("size", ["51", "0", "ten"])
def test_a_page_size_out_of_range_is_a_problem_naming_it(coscine: CoscineClient, size: str) -> None:
    response = coscine.get(f"{API}/projects", {"PageSize": size})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 400
    assert "PageSize" in body["errors"]
    assert TRACE.match(body["traceId"])


def test_a_project_by_id_or_slug_with_its_subprojects(coscine: CoscineClient) -> None:
    by_slug = coscine.get(f"{API}/projects/soil-lab", {"IncludeSubProjects": "true"}).json()
    assert by_slug["data"]["id"] == SOIL
    assert by_slug["data"]["pid"] == f"21.11102/{SOIL}"
    assert by_slug["data"]["organizations"][0]["uri"] == "https://ror.org/04xfq0f34"
    assert [s["id"] for s in by_slug["data"]["subProjects"]] == [FIELD]
    child = coscine.get(f"{API}/projects/{FIELD}").json()["data"]
    assert child["parent"] == {"id": SOIL}
    subs = coscine.get(f"{API}/projects/{SOIL}/subprojects").json()
    assert [s["slug"] for s in subs["data"]] == ["soil-lab-field"]


def test_unknown_and_foreign_projects_answer_an_empty_body(coscine: CoscineClient) -> None:
    unknown = coscine.get(f"{API}/projects/no-such-project")
    assert (unknown.status_code, unknown.content) == (404, b"")
    foreign = coscine.get(f"{API}/projects/{CLOSED}")
    assert (foreign.status_code, foreign.content) == (403, b"")


def test_resource_types_of_a_project(coscine: CoscineClient) -> None:
    body = coscine.get(f"{API}/projects/{SOIL}/resource-types").json()
    types = {t["generalType"]: t for t in body["data"]}
    assert set(types) == {"rds", "rdss3", "linked", "gitlab"}
    assert types["rds"]["canCreate"] and types["rds"]["isEnabled"]
    assert types["rds"]["isQuotaAvailable"] is True
    assert types["linked"]["canCreate"] is False
    assert types["gitlab"]["isEnabled"] is False
    assert types["gitlab"]["status"] == "hidden"


def test_quotas_count_what_resources_reserve(coscine: CoscineClient) -> None:
    make_resource(coscine)
    body = coscine.get(f"{API}/projects/{SOIL}/quotas").json()
    rds = next(q for q in body["data"] if q["resourceType"]["id"] == RDS)
    assert rds["allocated"] == {"value": 10, "unit": "https://qudt.org/vocab/unit/GibiBYTE"}
    assert rds["totalReserved"]["value"] == 1
    assert len(rds["resourceQuotas"]) == 1


# ----------------------------------------------------------------------------- lookups


@pytest.mark.parametrize(
    ("path", "key", "expected"),
    [
        ("visibilities", "displayName", ["Public", "Project Members"]),
        ("licenses", "url", ["https://creativecommons.org/licenses/by/4.0/"]),
        ("disciplines", "displayNameEn", ["Computer Science"]),
    ],
)
def test_lookup_lists(coscine: CoscineClient, path: str, key: str, expected: list[str]) -> None:
    body = coscine.get(f"{API}/{path}").json()
    assert_envelope(body)
    assert set(expected) <= {item[key] for item in body["data"]}
    assert body["pagination"]["totalCount"] == len(body["data"])


def test_disciplines_by_search_term(coscine: CoscineClient) -> None:
    found = coscine.get(f"{API}/disciplines", {"SearchTerm": "informatik"}).json()["data"]
    assert [d["displayNameEn"] for d in found] == ["Computer Science"]


def test_organizations_and_publication_services_by_search_term(coscine: CoscineClient) -> None:
    found = coscine.get(f"{API}/organizations", {"SearchTerm": "aachen"}).json()["data"]
    assert [o["uri"] for o in found] == ["https://ror.org/04xfq0f34"]
    services = coscine.get(f"{API}/publication-service", {"SearchTerm": "RWTH"}).json()["data"]
    assert services[0]["organizationRor"] == "https://ror.org/04xfq0f34"
    none = coscine.get(f"{API}/publication-service", {"SearchTerm": "nowhere"}).json()
    assert none["data"] == []


def test_profiles_listed_and_served_as_turtle(coscine: CoscineClient) -> None:
    listed = coscine.get(f"{API}/application-profiles/profiles", {"SearchTerm": "sandbox test"})
    assert [p["uri"] for p in listed.json()["data"]] == [TEST_PROFILE]
    encoded = quote(TEST_PROFILE, safe="")
    one = coscine.get(f"{API}/application-profiles/profiles/{encoded}", {"format": "text/turtle"})
    data = one.json()["data"]
    assert data["uri"] == TEST_PROFILE
    assert data["definition"]["type"] == "text/turtle"
    assert "sh:pattern" in data["definition"]["content"]
    raw = coscine.get(f"{API}/application-profiles/profiles/{encoded}/raw")
    assert raw["Content-Type"].startswith("text/turtle")
    unknown = coscine.get(f"{API}/application-profiles/profiles/{quote('https://x.org/', safe='')}")
    assert (unknown.status_code, unknown.content) == (404, b"")


def test_the_profiles_folder_is_served(coscine: CoscineClient) -> None:
    """The base profile lives in ``sandbox/coscine/profiles/`` (by file, not in the DB)."""
    base = quote("https://purl.org/coscine/ap/base/", safe="")
    response = coscine.get(f"{API}/application-profiles/profiles/{base}")
    assert response.status_code == 200
    assert response.json()["data"]["displayName"]


def test_vocabulary_instances_of_a_class(coscine: CoscineClient) -> None:
    body = coscine.get(
        f"{API}/vocabularies/instances",
        {"Class": "https://purl.org/coscine/vocabularies/sandbox/materials/", "PageSize": 50},
    ).json()
    labels = {i["displayName"] for i in body["data"]}
    assert "Steel" in labels
    missing = coscine.get(f"{API}/vocabularies/instances")
    assert missing.status_code == 400
    assert "Class" in missing.json()["errors"]


# -------------------------------------------------------------------------- PIDs, faults


def test_a_resource_pid_answers_until_the_resource_is_deleted(coscine: CoscineClient) -> None:
    resource = make_resource(coscine)
    prefix, suffix = resource["pid"].split("/")
    assert prefix == "21.11102"
    pid = coscine.get(f"{API}/pids/{prefix}/{suffix}").json()["data"]
    assert pid == {
        "prefix": prefix,
        "suffix": suffix,
        "identifier": resource["pid"],
        "type": "resource",
        "isEntityValid": True,
    }
    handle = coscine.get(f"{API}/handles/{prefix}/{suffix}").json()["data"]
    assert handle["values"][0]["type"] == "URL"
    deleted = Client().post(f"/_control/resources/{resource['id']}/delete")
    assert deleted.json() == {"deleted": 1}
    gone = coscine.get(f"{API}/pids/{prefix}/{suffix}")
    assert gone.status_code == 410
    assert gone.json()["status"] == 410
    assert coscine.get(f"{API}/projects/{SOIL}/resources/{resource['id']}").status_code == 404


def test_an_unknown_pid_is_a_404(coscine: CoscineClient) -> None:
    response = coscine.get(f"{API}/pids/21.11102/00000000-0000-4000-8000-00000000dead")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


def test_a_publication_request_is_recorded(coscine: CoscineClient) -> None:
    from sandbox.coscine.models import PublicationRequest

    resource = make_resource(coscine)
    body = {
        "publicationServiceRorId": "https://ror.org/04xfq0f34",
        "resourceIds": [resource["id"]],
        "message": "Please publish.",
    }
    response = coscine.post_json(f"{API}/projects/{SOIL}/publications/requests", body)
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["resources"] == [{"id": resource["id"]}]
    assert PublicationRequest.objects.get().message == "Please publish."
    bad = coscine.post_json(
        f"{API}/projects/{SOIL}/publications/requests", {**body, "resourceIds": []}
    )
    assert bad.status_code == 400
    assert "ResourceIds" in bad.json()["errors"]


def arm(**fault: Any) -> None:
    response = Client().post("/_control/faults", fault, content_type="application/json")
    assert response.status_code == 200, response.content


def test_a_429_with_retry_after_for_the_next_requests(coscine: CoscineClient) -> None:
    arm(status=429, times=2, retry_after="7")
    for _ in range(2):
        response = coscine.get(f"{API}/self")
        assert response.status_code == 429
        assert response["Retry-After"] == "7"
        assert response.json()["status"] == 429
    assert coscine.get(f"{API}/self").status_code == 200


def test_a_429_without_retry_after(coscine: CoscineClient) -> None:
    arm(status=429)
    response = coscine.get(f"{API}/self")
    assert response.status_code == 429
    assert not response.has_header("Retry-After")


@pytest.mark.parametrize("status", [500, 503])
def test_html_error_pages_of_the_proxy(coscine: CoscineClient, status: int) -> None:
    arm(status=status, html=True)
    response = coscine.get(f"{API}/projects")
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert b"<html>" in response.content
    assert coscine.get(f"{API}/projects").status_code == 200


def test_a_fault_for_a_path_prefix_only(coscine: CoscineClient) -> None:
    arm(status=503, path=f"{API}/projects")
    assert coscine.get(f"{API}/self").status_code == 200
    assert coscine.get(f"{API}/projects").status_code == 503
    assert coscine.get(f"{API}/projects").status_code == 200


def test_faults_are_disarmed_and_unknown_statuses_refused(coscine: CoscineClient) -> None:
    arm(status=500, times=5)
    assert Client().delete("/_control/faults").json() == {"armed": None}
    assert coscine.get(f"{API}/self").status_code == 200
    bad = Client().post("/_control/faults", {"status": 418}, content_type="application/json")
    assert bad.status_code == 400


def test_an_unknown_path_is_an_empty_404(coscine: CoscineClient) -> None:
    response = coscine.get(f"{API}/no-such-endpoint")
    assert (response.status_code, response.content) == (404, b"")


def test_a_method_an_endpoint_lacks_is_an_empty_405(coscine: CoscineClient) -> None:
    response = coscine.delete(f"{API}/visibilities")
    assert (response.status_code, response.content) == (405, b"")
