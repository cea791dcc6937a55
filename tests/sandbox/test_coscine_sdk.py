"""The published Coscine SDK (PyPI ``coscine==0.12.2``), unchanged but for its base URL,
works against the sandbox: it lists projects and resources, uploads a file with a
metadata form it builds from the resource's application profile, and reads both back.

The SDK lives in a virtualenv of its own (``make .tools/coscine``);
``COSCINE_SDK_PYTHON`` points at another Python that has it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.s3 import s3_client
from tests.sandbox.test_coscine_fixtures import *  # noqa: F403
from tests.sandbox.test_coscine_fixtures import (
    RDSS3,
    TEST_PROFILE,
    CoscineClient,
    make_resource,
)

pytestmark = pytest.mark.urls("sandbox.coscine.root_urls")

INSTALLED = Path(__file__).resolve().parents[2] / ".tools/coscine/bin/python"

SCRIPT = r"""
import io, json, sys
import coscine

url, token, name = sys.argv[1], sys.argv[2], sys.argv[3]
client = coscine.ApiClient(token, base_url=url, verbose=False, enable_caching=False)
out = {"projects": sorted(p.display_name for p in client.projects(toplevel=False))}
project = client.project("Soil Lab")
out["resources"] = [r.name for r in project.resources()]
resource = project.resource(name)
form = resource.metadata_form()
form["Title"] = "Specimen 7"
form["Sample"] = "AB-0007"
resource.upload("specimen 7.csv", io.BytesIO(b"force,strain\n1,2\n"), form)
files = resource.files()
out["files"] = [(f.path, f.size) for f in files]
# (FileObject.metadata_form() cannot work in 0.12.2: it looks for versions in the
# FileTreeDto, which has none, on the real Coscine too; Resource.metadata() reads it.)
[graph] = [m.definition for m in resource.metadata() if m.path == "specimen 7.csv"]
out["metadata"] = str(graph)
print(json.dumps(out))
"""


def sdk_python() -> str | None:
    for candidate in (os.environ.get("COSCINE_SDK_PYTHON"), str(INSTALLED)):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture
def coscine_sdk() -> str:
    found = sdk_python()
    if found is None:
        reason = "the Coscine SDK is not installed: make .tools/coscine (or set COSCINE_SDK_PYTHON)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def run_sdk(python: str, url: str, token: str, home: Path, name: str = "Tensile 2026") -> Any:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run(
        [python, "-c", SCRIPT, url, token, name],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_the_sdk_lists_uploads_and_reads_back(
    coscine_sdk: str, live_server: Any, coscine: CoscineClient, coscine_token: str, tmp_path: Path
) -> None:
    resource = make_resource(coscine)

    result = run_sdk(coscine_sdk, f"{live_server.url}/coscine", coscine_token, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["projects"] == ["Field 2026", "Imaging", "Soil Lab"]
    assert out["resources"] == ["Tensile tests 2026"]
    assert out["files"] == [["specimen 7.csv", 17]]
    assert "Specimen 7" in out["metadata"]
    seen = coscine.get(f"/_control/resources/{resource['id']}/stored").json()
    assert seen["files"] == {"specimen 7.csv": 17}
    assert "AB-0007" in seen["metadata"]["specimen 7.csv"]["turtle"]


@pytest.mark.django_db(transaction=True)
def test_the_sdk_uploads_to_an_s3_resource_straight_to_its_bucket(
    *,
    coscine_sdk: str,
    live_server: Any,
    coscine: CoscineClient,
    coscine_token: str,
    s3_server: str,
    tmp_path: Path,
) -> None:
    quota = {"value": 1, "unit": "https://qudt.org/vocab/unit/GibiBYTE"}
    resource = make_resource(
        coscine,
        name="Scans",
        displayName="Scans",
        resourceTypeId=RDSS3,
        resourceTypeOptions={"rdsS3ResourceTypeOptions": {"quota": quota}},
    )

    # The REST upload endpoint would fail: the SDK must go to S3 itself.
    project = resource["projects"][0]["id"]
    content = f"/coscine/api/v2/projects/{project}/resources/{resource['id']}/storage/specimen"
    fault = {"status": 500, "times": 10, "path": content}
    assert (
        coscine.post("/_control/faults", fault, content_type="application/json").status_code == 200
    )

    result = run_sdk(coscine_sdk, f"{live_server.url}/coscine", coscine_token, tmp_path, "Scans")

    assert result.returncode == 0, result.stdout + result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["files"] == [["specimen 7.csv", 17]]
    bucket = resource["type"]["options"]["rdsS3"]["bucketName"]
    body = s3_client(s3_server).get_object(Bucket=bucket, Key="specimen 7.csv")["Body"].read()
    assert body == b"force,strain\n1,2\n"
    assert "Specimen 7" in out["metadata"]


CHECK_MODELS = r"""
import importlib, json, re, sys

def model_of(name):
    module = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    return getattr(importlib.import_module("openapi_client.models." + module), name)

problems = []
for name, body in json.load(open(sys.argv[1])):
    try:
        parsed = model_of(name).from_dict(body)
    except Exception as error:
        problems.append(f"{name}: {error}")
        continue
    items = body["data"] if isinstance(body["data"], list) else [body["data"]]
    dtos = parsed.data if isinstance(parsed.data, list) else [parsed.data]
    for item, dto in zip(items, dtos):
        known = set(getattr(type(dto), f"_{type(dto).__name__}__properties"))
        if set(item) - known:
            problems.append(f"{name}: keys the spec does not have: {sorted(set(item) - known)}")
print(json.dumps(problems))
"""


def test_replies_parse_with_the_sdks_generated_models(
    coscine_sdk: str, coscine: CoscineClient, s3_server: str, tmp_path: Path
) -> None:
    """Each reply as the SDK's pydantic models (generated from the spec) read it: required
    fields, types, enums, and no key the DTO does not have."""
    api = "/coscine/api/v2"
    quota = {"value": 1, "unit": "https://qudt.org/vocab/unit/GibiBYTE"}
    s3_resource = make_resource(
        coscine,
        resourceTypeId=RDSS3,
        resourceTypeOptions={"rdsS3ResourceTypeOptions": {"quota": quota}},
    )
    resource = make_resource(coscine)
    project = resource["projects"][0]["id"]
    base = f"{api}/projects/{project}/resources/{resource['id']}"
    coscine.put(
        f"{base}/graphs/a.csv/metadata/content",
        "@prefix dcterms: <http://purl.org/dc/terms/> .\n"
        f'<https://example.org/a> a <{TEST_PROFILE}> ; dcterms:title "A" .\n',
        content_type="text/turtle",
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    coscine.post(f"{base}/storage/a.csv/content", {"file": SimpleUploadedFile("a.csv", b"1,2")})
    prefix, suffix = resource["pid"].split("/")
    publication = coscine.post(
        f"{api}/projects/{project}/publications/requests",
        {"publicationServiceRorId": "https://ror.org/04xfq0f34", "resourceIds": [resource["id"]]},
        content_type="application/json",
    ).json()
    gets = {
        "UserDtoResponse": f"{api}/self",
        "ApiTokenDtoPagedResponse": f"{api}/self/api-tokens",
        "ProjectDtoPagedResponse": f"{api}/projects",
        "ProjectDtoResponse": f"{api}/projects/{project}?IncludeSubProjects=true",
        "ResourceTypeInformationDtoIEnumerableResponse": f"{api}/projects/{project}/resource-types",
        "ProjectQuotaDtoPagedResponse": f"{api}/projects/{project}/quotas",
        "ResourceDtoPagedResponse": f"{api}/projects/{project}/resources",
        "ResourceDtoResponse": f"{api}/resources/{s3_resource['id']}",
        "VisibilityDtoPagedResponse": f"{api}/visibilities",
        "DisciplineDtoPagedResponse": f"{api}/disciplines",
        "LicenseDtoPagedResponse": f"{api}/licenses",
        "OrganizationDtoPagedResponse": f"{api}/organizations",
        "PublicationAdvisoryServiceDtoPagedResponse": f"{api}/publication-service",
        "ApplicationProfileDtoPagedResponse": f"{api}/application-profiles/profiles",
        "VocabularyInstanceDtoPagedResponse": f"{api}/vocabularies/instances?Class="
        "https://purl.org/coscine/vocabularies/sandbox/materials/",
        "PidDtoResponse": f"{api}/pids/{prefix}/{suffix}",
        "HandleDtoResponse": f"{api}/handles/{prefix}/{suffix}",
        "FileTreeDtoPagedResponse": f"{base}/storage",
        "MetadataVersionNodeDtoResponse": f"{base}/graphs/a.csv/metadata",
        "MetadataVersionNodeDtoPagedResponse": f"{base}/graphs/a.csv/metadata/versions",
        "StorageNodeDtoResponse": f"{base}/graphs/a.csv",
    }
    bodies = [(name, coscine.get(url).json()) for name, url in gets.items()]
    bodies.append(("ProjectPublicationRequestDtoResponse", publication))
    path = tmp_path / "bodies.json"
    path.write_text(json.dumps(bodies))

    result = subprocess.run(
        [coscine_sdk, "-c", CHECK_MODELS, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
