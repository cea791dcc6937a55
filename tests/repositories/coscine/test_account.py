"""A Coscine account: whose token it is and when it expires, each lookup in the shape
forms and validation rely on (helpers/interfaces.md "Lookup keys"), and whether a
published Handle still resolves (``GET /api/v2/pids``: 404, 410)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
import responses
from rdflib import Graph, URIRef
from rdflib.namespace import SH

from deposits.repositories.base import AuthError, TransientError
from deposits.repositories.coscine import account
from deposits.repositories.coscine.connector import CoscineConnector
from deposits.repositories.http import CallRecord, HttpClient
from tests.repositories.coscine.test_replies import API, TRACE, coscine, env, paged, problem

__all__ = ["coscine"]  # the fixture, shared with test_replies

ME = {
    "id": "9d1c2f5e-1111-4a5b-9c1d-000000000001",
    "displayName": "Ada Lovelace",
    "givenName": "Ada",
    "familyName": "Lovelace",
    "emails": [
        {"email": "old@example.org", "isConfirmed": True, "isPrimary": False},
        {"email": "ada@rwth-aachen.de", "isConfirmed": True, "isPrimary": True},
    ],
    "organizations": [{"uri": "https://ror.org/04xfq0f34", "displayName": "RWTH Aachen"}],
}


def stamp(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def token(name: str, delta: timedelta) -> dict[str, Any]:
    return {
        "id": f"tok-{name}",
        "name": name,
        "creationDate": stamp(-timedelta(days=30)),
        "expiryDate": stamp(delta),
        "owner": {"id": ME["id"]},
    }


def serve_self(tokens: list[dict[str, Any]]) -> None:
    responses.get(f"{API}/self", json=env(ME))
    paged(responses.mock, f"{API}/self/api-tokens", [tokens])


# --------------------------------------------------------------------------- the token


@responses.activate
def test_verify_names_the_user_and_the_expiry_of_the_only_live_token(coscine: HttpClient) -> None:
    serve_self([token("portal", timedelta(days=5)), token("old", -timedelta(days=1))])
    identity = CoscineConnector().verify(coscine)
    assert identity.name == "Ada Lovelace"
    assert identity.detail["email"] == "ada@rwth-aachen.de"
    assert identity.detail["organizations"] == ["https://ror.org/04xfq0f34"]
    assert identity.detail["token"] == {"id": "tok-portal", "name": "portal"}
    assert identity.detail["token_expiry_exact"] is True
    expires = datetime.fromisoformat(identity.expires_at or "")
    assert expires.tzinfo is not None
    assert timedelta(days=4, hours=23) < expires - datetime.now(UTC) < timedelta(days=5, hours=1)


@responses.activate
def test_with_several_live_tokens_the_soonest_expiry_is_taken(coscine: HttpClient) -> None:
    serve_self([token("laptop", timedelta(days=90)), token("ci", timedelta(days=3))])
    identity = account.verify(coscine)
    assert identity.detail["token"]["name"] == "ci"
    assert identity.detail["token_expiry_exact"] is False
    assert datetime.fromisoformat(identity.expires_at or "") - datetime.now(UTC) < timedelta(days=4)


@responses.activate
def test_an_unreadable_token_list_leaves_the_expiry_unknown(coscine: HttpClient) -> None:
    responses.get(f"{API}/self", json=env(ME))
    responses.get(f"{API}/self/api-tokens", status=500, body=b"")
    identity = account.verify(coscine)
    assert identity.name == "Ada Lovelace" and identity.expires_at is None
    assert identity.detail["token"] is None


@responses.activate
def test_a_refused_token_is_an_auth_error_with_the_trace_id(coscine: HttpClient) -> None:
    responses.get(f"{API}/self", status=401, json=problem(401, title="Unauthorized"))
    with pytest.raises(AuthError) as caught:
        account.verify(coscine)
    assert caught.value.message.endswith(f"Coscine trace id: {TRACE}")


# --------------------------------------------------------------------------- lookups


@responses.activate
def test_projects_are_every_page_with_sub_projects_after_their_parent(coscine: HttpClient) -> None:
    def project(pid: str, parent: str | None = None) -> dict[str, Any]:
        return {
            "id": pid,
            "pid": f"21.11102/{pid}",
            "name": f"Project {pid}",
            "displayName": pid.upper(),
            "slug": f"slug-{pid}",
            "organizations": [{"uri": "https://ror.org/04xfq0f34", "displayName": "RWTH"}],
            "parent": {"id": parent} if parent else None,
            "subProjects": [],
        }

    pages = [
        [project("a"), project("a1", "a")],
        [project("b"), project("a11", "a1")],
        [project("a2", "a")],
    ]
    paged(responses.mock, f"{API}/projects", pages, IncludeOrganizations="true")
    found = account.fetch_lookup(coscine, "projects")
    assert [(p["id"], p["depth"], p["parent_id"]) for p in found] == [
        ("a", 0, None),
        ("a1", 1, "a"),
        ("a11", 2, "a1"),
        ("a2", 1, "a"),
        ("b", 0, None),
    ]
    assert found[0] == {
        "id": "a",
        "name": "Project a",
        "display_name": "A",
        "slug": "slug-a",
        "pid": "21.11102/a",
        "organizations": ["https://ror.org/04xfq0f34"],
        "parent_id": None,
        "depth": 0,
    }


@responses.activate
def test_resource_types_carry_their_quota_in_gib(coscine: HttpClient) -> None:
    base = f"{API}/projects/p%201"
    types = [
        {"id": "t-s3", "generalType": "rdss3", "specificType": "rdss3rwth", "status": "active",
         "canCreate": True, "isEnabled": True},
        {"id": "t-web", "generalType": "rds", "specificType": "rdsrwth", "status": "hidden",
         "canCreate": False, "isEnabled": True},
        {"id": "t-nrw", "generalType": "dsnrws3worm", "specificType": "dsnrws3wormrwth",
         "status": "active", "canCreate": True, "isEnabled": False},
    ]  # fmt: skip
    responses.get(f"{base}/resource-types", json=env(types))
    quota = {
        "projectId": "p 1",
        "resourceType": {"id": "t-s3", "specificType": "rdss3rwth"},
        "allocated": {"value": 512, "unit": "https://qudt.org/vocab/unit/MebiBYTE"},
        "totalUsed": {"value": 0.25, "unit": "https://qudt.org/vocab/unit/GibiBYTE"},
        "maximum": {"value": 1, "unit": "https://qudt.org/vocab/unit/TebiBYTE"},
    }
    paged(responses.mock, f"{base}/quotas", [[quota]])
    found = account.fetch_lookup(coscine, "resource_types:p 1")
    assert found[0] == {
        "id": "t-s3",
        "general_type": "rdss3",
        "specific_type": "rdss3rwth",
        "can_create": True,
        "is_enabled": True,
        "status": "active",
        "supports_s3": True,
        "quota": {"allocated_gib": 0.5, "used_gib": 0.25, "maximum_gib": 1024.0},
    }
    assert (found[1]["status"], found[1]["supports_s3"], found[1]["quota"]) == (
        "hidden",
        False,
        None,
    )
    assert found[2]["supports_s3"] is True and found[2]["is_enabled"] is False


@responses.activate
def test_resource_types_without_quota_rights_have_no_quota(coscine: HttpClient) -> None:
    responses.get(
        f"{API}/projects/p1/resource-types", json=env([{"id": "t", "generalType": "rds"}])
    )
    responses.get(f"{API}/projects/p1/quotas", status=403, body=b"")
    assert account.fetch_lookup(coscine, "resource_types:p1")[0]["quota"] is None


@responses.activate
def test_resources_of_a_project(coscine: HttpClient) -> None:
    resource = {
        "id": "r1",
        "pid": "21.11102/r1",
        "name": "Soil moisture",
        "displayName": "Soil",
        "type": {"id": "t-s3", "generalType": "rdss3", "specificType": "rdss3rwth"},
        "applicationProfile": {"uri": "https://purl.org/coscine/ap/base/"},
        "archived": False,
    }
    paged(
        responses.mock,
        f"{API}/projects/p1/resources",
        [[resource], [{**resource, "id": "r2", "archived": True}]],
    )
    assert account.fetch_lookup(coscine, "resources:p1") == [
        {
            "id": "r1",
            "name": "Soil moisture",
            "display_name": "Soil",
            "pid": "21.11102/r1",
            "general_type": "rdss3",
            "application_profile": "https://purl.org/coscine/ap/base/",
            "archived": False,
        },
        {
            "id": "r2",
            "name": "Soil moisture",
            "display_name": "Soil",
            "pid": "21.11102/r1",
            "general_type": "rdss3",
            "application_profile": "https://purl.org/coscine/ap/base/",
            "archived": True,
        },
    ]


@pytest.mark.parametrize(
    ("key", "path", "item", "shaped"),
    [
        ("visibilities", "visibilities", {"id": "v1", "displayName": "Public"}, {"id": "v1", "name": "Public"}),
        (
            "disciplines",
            "disciplines",
            {"id": "d1", "uri": "http://www.dfg.de/dfg_profil/gremien/fachkollegien/liste/index.jsp?id=409",
             "displayNameEn": "Computer Science", "displayNameDe": "Informatik"},
            {"id": "d1", "label": "Computer Science",
             "uri": "http://www.dfg.de/dfg_profil/gremien/fachkollegien/liste/index.jsp?id=409"},
        ),
        (
            "licenses",
            "licenses",
            {"id": "l1", "displayName": "CC BY 4.0", "url": "https://spdx.org/licenses/CC-BY-4.0"},
            {"id": "l1", "name": "CC BY 4.0", "url": "https://spdx.org/licenses/CC-BY-4.0"},
        ),
        (
            "profiles",
            "application-profiles/profiles",
            {"uri": "https://purl.org/coscine/ap/base/", "displayName": "Base Profile", "description": "Minimal"},
            {"uri": "https://purl.org/coscine/ap/base/", "name": "Base Profile", "description": "Minimal"},
        ),
        (
            "publication_services",
            "publication-service",
            {"displayName": "RWTH Publications", "email": "pub@rwth-aachen.de",
             "description": "Library", "organizationRor": "https://ror.org/04xfq0f34"},
            {"ror": "https://ror.org/04xfq0f34", "name": "RWTH Publications", "description": "Library"},
        ),
    ],
)  # fmt: skip
@responses.activate
def test_each_simple_lookup_reads_every_page_in_its_shape(
    coscine: HttpClient, key: str, path: str, item: dict[str, Any], shaped: dict[str, Any]
) -> None:
    second = {k: f"{v}-2" if isinstance(v, str) else v for k, v in item.items()}
    paged(responses.mock, f"{API}/{path}", [[item], [second]])
    found = account.fetch_lookup(coscine, key)
    assert found[0] == shaped
    assert len(found) == 2 and found[1] != shaped and set(found[1]) == set(shaped)


BASE_URI = "https://purl.org/coscine/ap/base/"
SAMPLE_URI = "https://purl.org/coscine/ap/sample/"
DFG = "http://www.dfg.de/dfg_profil/gremien/fachkollegien/faecher/"
BASE_TTL = f"""@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<{BASE_URI}> a sh:NodeShape ; owl:imports <http://purl.org/dc/terms/> ;
  sh:property [ sh:path dcterms:title ; sh:minCount 1 ] ,
              [ sh:path dcterms:subject ; sh:class <{DFG}> ] .
"""
SAMPLE_TTL = f"""@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
<{SAMPLE_URI}> a sh:NodeShape ; owl:imports <{BASE_URI}> ;
  sh:property [ sh:path <https://purl.org/coscine/terms/sample#id> ; sh:minCount 1 ] .
"""


def serve_profile(uri: str, turtle: str) -> None:
    dto = {
        "uri": uri,
        "displayName": uri,
        "definition": {"content": turtle, "type": "text/turtle"},
    }
    responses.get(
        f"{API}/application-profiles/profiles/{quote(uri, safe='')}",
        json=env(dto),
        match=[responses.matchers.query_param_matcher({"format": "text/turtle"})],
    )


@responses.activate
def test_a_profile_comes_with_its_vocabularies_and_its_imports_merged(coscine: HttpClient) -> None:
    serve_profile(SAMPLE_URI, SAMPLE_TTL)
    serve_profile(BASE_URI, BASE_TTL)
    # DC terms is a vocabulary, not a profile: Coscine does not know it as one
    responses.get(
        f"{API}/application-profiles/profiles/{quote('http://purl.org/dc/terms/', safe='')}",
        status=404,
        body=b"",
    )
    instances = [
        [{"graphUri": DFG, "instanceUri": f"{DFG}{n}", "displayName": f"Field {n}"} for n in range(50)],
        [{"graphUri": DFG, "instanceUri": f"{DFG}409", "displayName": None}],
    ]  # fmt: skip
    paged(responses.mock, f"{API}/vocabularies/instances", instances, Class=DFG)
    found = account.fetch_lookup(coscine, f"profile:{SAMPLE_URI}")
    assert found["uri"] == SAMPLE_URI
    assert found["imports"] == [BASE_URI]
    graph = Graph().parse(data=found["turtle"], format="turtle")
    paths = {str(p) for p in graph.objects(None, SH.path)}
    assert paths == {
        "https://purl.org/coscine/terms/sample#id",
        "http://purl.org/dc/terms/title",
        "http://purl.org/dc/terms/subject",
    }
    assert (None, SH["class"], URIRef(DFG)) in graph
    assert list(found["vocabularies"]) == [DFG]
    values = found["vocabularies"][DFG]
    assert len(values) == 51 and values[0] == {"value": f"{DFG}0", "label": "Field 0"}
    assert values[-1] == {"value": f"{DFG}409", "label": f"{DFG}409"}


@responses.activate
def test_a_profile_without_imports_keeps_coscines_text(coscine: HttpClient) -> None:
    text = f"<{BASE_URI}> a <http://www.w3.org/ns/shacl#NodeShape> .\n"
    serve_profile(BASE_URI, text)
    found = account.fetch_lookup(coscine, f"profile:{BASE_URI}")
    assert found == {"uri": BASE_URI, "turtle": text, "vocabularies": {}, "imports": []}


@responses.activate
def test_a_profile_that_is_not_turtle_is_refused_readably(coscine: HttpClient) -> None:
    serve_profile(BASE_URI, "this is <not turtle")
    with pytest.raises(Exception, match="is not valid Turtle") as caught:
        account.fetch_lookup(coscine, f"profile:{BASE_URI}")
    assert getattr(caught.value, "permanent", False) is True


def test_an_unknown_key_is_a_lookup_error(coscine: HttpClient) -> None:
    with pytest.raises(LookupError):
        account.fetch_lookup(coscine, "colours")


def test_max_ages_follow_how_often_things_change() -> None:
    connector = CoscineConnector()
    assert connector.lookup_max_age(f"profile:{BASE_URI}") == 3600
    assert connector.lookup_max_age("profiles") == 3600
    assert connector.lookup_max_age("projects") == 300
    assert connector.lookup_max_age("resources:p1") == 300
    assert connector.lookup_max_age("resource_types:p1") == 300
    assert connector.lookup_max_age("licenses") == 24 * 3600


# --------------------------------------------------------------------------- handles

PID = "21.11102/5b3c1e2a-0000-4000-8000-00000000abcd"
PID_URL = f"{API}/pids/21.11102/5b3c1e2a-0000-4000-8000-00000000abcd"


@responses.activate
def test_a_handle_that_resolves_has_no_problem(coscine: HttpClient) -> None:
    dto = {"prefix": "21.11102", "suffix": PID.split("/")[1], "identifier": PID,
           "type": "resource", "isEntityValid": True}  # fmt: skip
    responses.get(PID_URL, json=env(dto))
    assert CoscineConnector().check_identifier(coscine, "handle", PID) == ""


@responses.activate
def test_a_deleted_resource_s_handle_is_flagged_with_what_to_do(coscine: HttpClient) -> None:
    responses.get(PID_URL, status=410, json=problem(410, title="Gone"))
    said = account.check_identifier(coscine, "handle", PID)
    assert said.startswith("Coscine says this Handle is no longer valid: the resource was deleted.")
    assert "store the deposit on Coscine again" in said
    assert said.endswith(f"Coscine trace id: {TRACE}")


@responses.activate
def test_an_unknown_handle_is_flagged(coscine: HttpClient) -> None:
    responses.get(PID_URL, status=404, body=b"")
    said = account.check_identifier(coscine, "handle", PID)
    assert said.startswith("Coscine does not know this Handle (404)")


@responses.activate
def test_a_pid_dto_saying_its_entity_is_invalid_is_flagged(coscine: HttpClient) -> None:
    responses.get(PID_URL, json=env({"identifier": PID, "isEntityValid": False}))
    assert "no longer valid" in account.check_identifier(coscine, "handle", PID)


@pytest.mark.parametrize("status", [503, 403, 429])
@responses.activate
def test_when_coscine_cannot_say_the_check_is_transient(coscine: HttpClient, status: int) -> None:
    responses.get(PID_URL, status=status, body=b"")
    with pytest.raises(TransientError):
        account.check_identifier(coscine, "handle", PID)


def test_other_schemes_are_not_asked_about(coscine: HttpClient, records: list[CallRecord]) -> None:
    assert account.check_identifier(coscine, "doi", "10.5281/zenodo.1") == ""
    assert records == []
