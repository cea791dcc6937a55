"""Helpers and fixtures of the Coscine sandbox's tests (``test_coscine_*``): a client
sending a sandbox token, a test application profile installed through ``/_control/``,
and a valid ResourceForCreationDto. No tests here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

API = "/coscine/api/v2"
SOIL = "a0000000-0000-4000-8000-000000000001"
FIELD = "a0000000-0000-4000-8000-000000000002"
CLOSED = "a0000000-0000-4000-8000-000000000009"
RDS = "b1b2c3d4-0000-4000-8000-000000000001"
RDSS3 = "b1b2c3d4-0000-4000-8000-000000000002"
LINKED = "b1b2c3d4-0000-4000-8000-000000000003"
TEST_PROFILE = "https://example.org/ap/sandbox-test/"
TEST_PROFILE_TTL = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://example.org/ap/sandbox-test/> a sh:NodeShape ;
  dcterms:title "Sandbox test profile"@en ;
  sh:targetClass <https://example.org/ap/sandbox-test/> ;
  sh:property [ sh:path dcterms:title ; sh:name "Title"@en ; sh:minCount 1 ; sh:maxCount 1 ;
                sh:datatype xsd:string ; sh:order 0 ] ,
              [ sh:path dcterms:identifier ; sh:name "Sample"@en ; sh:maxCount 1 ;
                sh:datatype xsd:string ; sh:pattern "^[A-Z]{2}-[0-9]{4}$" ; sh:order 1 ] ,
              [ sh:path dcterms:subject ; sh:name "Material"@en ; sh:maxCount 1 ; sh:order 2 ;
                sh:class <https://purl.org/coscine/vocabularies/sandbox/materials/> ] .
"""
TRACE = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-00$")


class CoscineClient(Client):
    def __init__(self, token: str, **defaults: Any) -> None:
        super().__init__(HTTP_AUTHORIZATION=f"Bearer {token}", **defaults)

    def post_json(self, path: str, data: Any, **extra: Any) -> Any:
        return self.post(path, data, content_type="application/json", **extra)

    def put_json(self, path: str, data: Any, **extra: Any) -> Any:
        return self.put(path, data, content_type="application/json", **extra)


def resource_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Tensile tests 2026",
        "displayName": "Tensile 2026",
        "description": "Raw data of the tensile tests.",
        "keywords": ["steel"],
        "license": {"id": "d4e5f6a7-0000-4000-8000-000000000001"},
        "visibility": {"id": "8ab9c883-eb0d-4402-aaad-2e4007badce6"},
        "disciplines": [{"id": "c3a1f0e2-0000-4000-8000-000000000307"}],
        "resourceTypeId": RDS,
        "applicationProfile": {"uri": TEST_PROFILE},
        "resourceTypeOptions": {
            "rdsResourceTypeOptions": {
                "quota": {"value": 1, "unit": "https://qudt.org/vocab/unit/GibiBYTE"}
            }
        },
    }
    body.update(changes)
    return body


def turtle(path: str, title: str = "Specimen 7", identifier: str = "AB-0007") -> str:
    subject = f"https://purl.org/coscine/resources/x/{quote(path)}"
    return (
        "@prefix dcterms: <http://purl.org/dc/terms/> .\n"
        f'<{subject}> a <{TEST_PROFILE}> ; dcterms:title "{title}" ;'
        f' dcterms:identifier "{identifier}" .\n'
    )


@pytest.fixture
def coscine_storage(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path / "sandbox-coscine"


@pytest.fixture
def coscine_token(db: None, coscine_storage: Path) -> str:
    from sandbox.coscine.tokens import issue_token

    return issue_token("sandbox-user")


@pytest.fixture
def coscine(coscine_token: str) -> CoscineClient:
    client = CoscineClient(coscine_token)
    response = client.put(
        "/_control/profiles",
        {"uri": TEST_PROFILE, "turtle": TEST_PROFILE_TTL},
        content_type="application/json",
    )
    assert response.status_code == 200
    return client


def make_resource(client: CoscineClient, project: str = SOIL, **changes: Any) -> dict[str, Any]:
    response = client.post_json(f"{API}/projects/{project}/resources", resource_body(**changes))
    assert response.status_code == 201, response.content
    return response.json()["data"]


def assert_envelope(body: dict[str, Any], status: int = 200) -> None:
    assert body["isSuccess"] is True
    assert body["statusCode"] == status
    assert TRACE.match(body["traceId"])
