"""Resources of the Coscine sandbox: creation checked as ResourceForCreationDto, files
through the REST storage endpoints (413 above the limit), metadata graphs validated with
SHACL on the server, and S3 resources whose bucket lives on a real (moto) S3 server."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.s3 import s3_client
from tests.sandbox.test_coscine_fixtures import *  # noqa: F403
from tests.sandbox.test_coscine_fixtures import (
    API,
    FIELD,
    LINKED,
    RDSS3,
    SOIL,
    TEST_PROFILE,
    TEST_PROFILE_TTL,
    CoscineClient,
    make_resource,
    resource_body,
    turtle,
)

pytestmark = pytest.mark.urls("sandbox.coscine.root_urls")

S3_OPTIONS = {
    "rdsS3ResourceTypeOptions": {
        "quota": {"value": 2, "unit": "https://qudt.org/vocab/unit/GibiBYTE"}
    }
}


def base(resource: dict[str, Any], project: str = SOIL) -> str:
    return f"{API}/projects/{project}/resources/{resource['id']}"


def put_metadata(client: CoscineClient, resource: dict[str, Any], path: str, body: str) -> Any:
    url = f"{base(resource)}/graphs/{quote(path, safe='')}/metadata/content"
    return client.put(url, body, content_type="text/turtle")


def upload(
    client: CoscineClient, resource: dict[str, Any], path: str, data: bytes, method: str = "post"
) -> Any:
    url = f"{base(resource)}/storage/{quote(path, safe='')}/content"
    payload = {"file": SimpleUploadedFile(path.rpartition("/")[2], data)}
    if method == "post":
        return client.post(url, payload)
    from django.test.client import MULTIPART_CONTENT, encode_multipart

    boundary = "BoUnDaRy"
    return client.put(
        url,
        encode_multipart(boundary, payload),
        content_type=f"{MULTIPART_CONTENT}; boundary={boundary}",
    )


def stored(resource: dict[str, Any]) -> dict[str, Any]:
    response = Client().get(f"/_control/resources/{resource['id']}/stored")
    assert response.status_code == 200
    return response.json()


# --------------------------------------------------------------------------- creation


def test_a_created_resource_has_a_pid_and_the_spec_shape(coscine: CoscineClient) -> None:
    response = coscine.post_json(f"{API}/projects/{SOIL}/resources", resource_body())
    assert response.status_code == 201
    body = response.json()
    assert body["statusCode"] == 201 and body["isSuccess"] is True
    data = body["data"]
    assert data["pid"] == f"21.11102/{data['id']}"
    assert data["type"]["generalType"] == "rds"
    assert data["applicationProfile"] == {"uri": TEST_PROFILE}
    assert data["visibility"]["displayName"] == "Public"
    assert [d["displayNameEn"] for d in data["disciplines"]] == ["Condensed Matter Physics"]
    assert data["license"]["url"] == "https://creativecommons.org/licenses/by/4.0/"
    assert data["projects"] == [{"id": SOIL}]
    listed = coscine.get(f"{API}/projects/{SOIL}/resources").json()
    assert [r["id"] for r in listed["data"]] == [data["id"]]
    assert coscine.get(f"{API}/resources/{data['id']}").json()["data"]["name"] == data["name"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "x" * 201}, "Name"),
        ({"name": ""}, "Name"),
        ({"displayName": "x" * 26}, "DisplayName"),
        ({"description": "x" * 10001}, "Description"),
        ({"usageRights": "x" * 201}, "UsageRights"),
        ({"visibility": None}, "Visibility"),
        ({"disciplines": []}, "Disciplines"),
        ({"license": {"id": "nope"}}, "License"),
        ({"resourceTypeId": "00000000-0000-0000-0000-000000000000"}, "ResourceTypeId"),
        (
            {"resourceTypeId": LINKED, "resourceTypeOptions": {"linkedResourceTypeOptions": {}}},
            "ResourceTypeId",
        ),
        ({"resourceTypeOptions": {}}, "ResourceTypeOptions"),
        ({"applicationProfile": {"uri": "https://example.org/unknown/"}}, "ApplicationProfile"),
    ],
)
def test_creation_problems_name_the_field(
    coscine: CoscineClient, changes: dict[str, Any], field: str
) -> None:
    response = coscine.post_json(f"{API}/projects/{SOIL}/resources", resource_body(**changes))
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert field in body["errors"], body
    assert body["title"] == "One or more validation errors occurred."
    assert body["traceId"].startswith("00-")


def test_quota_beyond_what_is_left_is_refused(coscine: CoscineClient) -> None:
    options = {
        "rdsResourceTypeOptions": {
            "quota": {"value": 10, "unit": "https://qudt.org/vocab/unit/GibiBYTE"}
        }
    }
    make_resource(coscine, resourceTypeOptions=options)
    response = coscine.post_json(f"{API}/projects/{SOIL}/resources", resource_body())
    assert response.status_code == 400
    assert "ResourceTypeOptions.Quota" in response.json()["errors"]
    types = coscine.get(f"{API}/projects/{SOIL}/resource-types").json()["data"]
    assert next(t for t in types if t["generalType"] == "rds")["isQuotaAvailable"] is False


def test_update_and_delete_a_resource(coscine: CoscineClient) -> None:
    resource = make_resource(coscine)
    body = resource_body(name="Renamed", archived=True)
    assert coscine.put_json(base(resource), body).status_code == 204
    data = coscine.get(base(resource)).json()["data"]
    assert (data["name"], data["archived"]) == ("Renamed", True)
    bad = coscine.put_json(base(resource), resource_body())
    assert bad.status_code == 400 and "Archived" in bad.json()["errors"]
    assert coscine.delete(base(resource)).status_code == 204
    assert coscine.get(base(resource)).status_code == 404
    prefix, suffix = resource["pid"].split("/")
    assert coscine.get(f"{API}/pids/{prefix}/{suffix}").status_code == 410


def test_a_resource_of_another_project_is_not_found(coscine: CoscineClient) -> None:
    resource = make_resource(coscine)
    response = coscine.get(base(resource, project=FIELD))
    assert (response.status_code, response.content) == (404, b"")


# ---------------------------------------------------------------------- files, metadata


def test_metadata_then_file_then_listing_and_download(coscine: CoscineClient) -> None:
    resource = make_resource(coscine)
    path = "run 1/data.csv"
    assert put_metadata(coscine, resource, path, turtle(path)).status_code == 201
    assert upload(coscine, resource, path, b"a,b\n1,2\n").status_code == 201
    head = coscine.head(f"{base(resource)}/storage/{quote(path, safe='')}")
    assert head.status_code == 200
    listing = coscine.get(f"{base(resource)}/storage", {"Prefix": "run 1/"}).json()
    [entry] = listing["data"]
    assert (entry["path"], entry["name"], entry["size"], entry["type"]) == (
        path,
        "data.csv",
        8,
        "Leaf",
    )
    assert entry["directory"] == "run 1/"
    assert listing["pagination"]["totalCount"] == 1
    assert coscine.get(f"{base(resource)}/storage", {"Prefix": "other/"}).json()["data"] == []
    content = coscine.get(f"{base(resource)}/storage/{quote(path, safe='')}/content")
    assert b"".join(content.streaming_content) == b"a,b\n1,2\n"
    seen = stored(resource)
    assert seen["files"] == {path: 8}
    assert "Specimen 7" in seen["metadata"][path]["turtle"]


def test_paths_may_come_encoded_once_or_twice(coscine: CoscineClient) -> None:
    """``quote(path, safe="")`` once (the portal) or ``quote`` twice (the SDK's
    ``quote(path)`` that its generated client quotes again): the same file."""
    resource = make_resource(coscine)
    path = "raw data/run #1.csv"
    assert put_metadata(coscine, resource, path, turtle(path)).status_code == 201
    assert upload(coscine, resource, path, b"12345").status_code == 201
    once = quote(path, safe="")
    twice = quote(quote(path), safe="")
    assert coscine.head(f"{base(resource)}/storage/{once}").status_code == 200
    assert coscine.head(f"{base(resource)}/storage/{twice}").status_code == 200
    assert coscine.get(f"{base(resource)}/graphs/{twice}/metadata").status_code == 200
    assert stored(resource)["files"] == {path: 5}
    assert list(stored(resource)["metadata"]) == [path]


def test_a_large_upload_is_spooled_to_disk_and_stored_whole(
    coscine: CoscineClient, settings: Any
) -> None:
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # beyond it Django writes a temporary file
    resource = make_resource(coscine)
    data = bytes(range(256)) * 400
    put_metadata(coscine, resource, "big.bin", turtle("big.bin"))
    assert upload(coscine, resource, "big.bin", data).status_code == 201
    content = coscine.get(f"{base(resource)}/storage/big.bin/content")
    assert b"".join(content.streaming_content) == data


def test_a_file_without_metadata_is_refused_on_a_non_s3_resource(coscine: CoscineClient) -> None:
    resource = make_resource(coscine)
    response = upload(coscine, resource, "data.csv", b"x")
    assert response.status_code == 400
    assert "metadata" in response.json()["detail"]
    assert stored(resource)["files"] == {}


def test_post_to_an_existing_path_is_blob_already_exists_and_put_replaces(
    coscine: CoscineClient,
) -> None:
    resource = make_resource(coscine)
    put_metadata(coscine, resource, "a.txt", turtle("a.txt"))
    assert upload(coscine, resource, "a.txt", b"one").status_code == 201
    again = upload(coscine, resource, "a.txt", b"two")
    assert again.status_code == 400
    assert again.json()["title"] == "Blob already exists"
    assert upload(coscine, resource, "a.txt", b"three!", method="put").status_code == 201
    assert stored(resource)["files"] == {"a.txt": 6}


def test_a_file_is_deleted(coscine: CoscineClient) -> None:
    resource = make_resource(coscine)
    put_metadata(coscine, resource, "a.txt", turtle("a.txt"))
    upload(coscine, resource, "a.txt", b"one")
    url = f"{base(resource)}/storage/a.txt"
    assert coscine.delete(url).status_code == 204
    assert coscine.head(url).status_code == 404
    assert coscine.delete(url).status_code == 404


def test_an_upload_above_the_limit_is_a_413(coscine: CoscineClient, settings: Any) -> None:
    settings.COSCINE_SANDBOX_MAX_REST_BYTES = 1000
    resource = make_resource(coscine)
    put_metadata(coscine, resource, "big.bin", turtle("big.bin"))
    response = upload(coscine, resource, "big.bin", b"x" * 2000)
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["detail"]
    assert stored(resource)["files"] == {}
    assert upload(coscine, resource, "big.bin", b"x" * 500).status_code == 201


def test_the_default_limit_is_256_mib(settings: Any) -> None:
    from sandbox.coscine.storage import max_rest_bytes

    if hasattr(settings, "COSCINE_SANDBOX_MAX_REST_BYTES"):
        del settings.COSCINE_SANDBOX_MAX_REST_BYTES
    assert max_rest_bytes() == 256 * 1024**2


def test_invalid_metadata_is_a_400_with_each_violation(coscine: CoscineClient) -> None:
    resource = make_resource(coscine)
    graph = (
        "@prefix dcterms: <http://purl.org/dc/terms/> .\n"
        f'<https://example.org/f> a <{TEST_PROFILE}> ; dcterms:identifier "bad" ;'
        " dcterms:subject <https://example.org/not-a-material> .\n"
    )
    response = put_metadata(coscine, resource, "f.csv", graph)
    assert response.status_code == 400
    body = response.json()
    assert body["title"] == "Invalid or malformed RDF"
    assert set(body["errors"]) == {
        "http://purl.org/dc/terms/title",
        "http://purl.org/dc/terms/identifier",
        "http://purl.org/dc/terms/subject",
    }
    assert "http://purl.org/dc/terms/title: Less than 1 values" in body["detail"]
    assert stored(resource)["metadata"] == {}


def test_a_vocabulary_value_is_accepted(coscine: CoscineClient) -> None:
    resource = make_resource(coscine)
    steel = "https://purl.org/coscine/vocabularies/sandbox/materials#steel"
    subject = "https://purl.org/coscine/resources/x/f.csv"
    graph = turtle("f.csv") + f"<{subject}> <http://purl.org/dc/terms/subject> <{steel}> .\n"
    response = put_metadata(coscine, resource, "f.csv", graph)
    assert response.status_code == 201, response.content


def test_malformed_rdf_and_wrong_media_type(coscine: CoscineClient) -> None:
    resource = make_resource(coscine)
    broken = put_metadata(coscine, resource, "f.csv", "<not turtle")
    assert broken.status_code == 400
    assert broken.json()["title"] == "Invalid or malformed RDF"
    url = f"{base(resource)}/graphs/f.csv/metadata/content"
    assert coscine.put(url, "{}", content_type="text/plain").status_code == 415


def test_json_ld_metadata_is_accepted(coscine: CoscineClient) -> None:
    import json

    resource = make_resource(coscine)
    doc = {
        "@id": "https://example.org/f",
        "@type": TEST_PROFILE,
        "http://purl.org/dc/terms/title": "From JSON-LD",
    }
    url = f"{base(resource)}/graphs/f.csv/metadata/content"
    assert coscine.put(url, json.dumps(doc), content_type="application/ld+json").status_code == 201


def test_each_put_is_a_new_version(coscine: CoscineClient) -> None:
    resource = make_resource(coscine)
    assert put_metadata(coscine, resource, "f.csv", turtle("f.csv", title="One")).status_code == 201
    assert put_metadata(coscine, resource, "f.csv", turtle("f.csv", title="Two")).status_code == 200
    graphs = f"{base(resource)}/graphs/f.csv"
    versions = coscine.get(f"{graphs}/metadata/versions").json()
    assert versions["pagination"]["totalCount"] == 2
    newest, older = versions["data"]
    assert int(newest["version"]) > int(older["version"])
    assert (newest["isInvalidated"], older["isInvalidated"]) == (False, True)
    latest = coscine.get(f"{graphs}/metadata").json()["data"]
    assert latest["version"] == newest["version"]
    old = coscine.get(f"{graphs}/metadata/content", {"graphVersion": older["version"]})
    assert "One" in old.content.decode()
    assert coscine.head(graphs).status_code == 200
    assert coscine.get(graphs).json()["data"]["hasMetadata"] is True
    assert coscine.head(f"{base(resource)}/graphs/other.csv").status_code == 404
    assert stored(resource)["metadata"]["f.csv"]["versions"] == 2


def test_a_replaced_profile_changes_what_validates(coscine: CoscineClient) -> None:
    resource = make_resource(coscine)
    graph = turtle("f.csv", identifier="AB-1")  # the pattern wants four digits
    assert put_metadata(coscine, resource, "f.csv", graph).status_code == 400
    relaxed = TEST_PROFILE_TTL.replace('"^[A-Z]{2}-[0-9]{4}$"', '"^[A-Z]{2}-[0-9]+$"')
    Client().put(
        "/_control/profiles",
        {"uri": TEST_PROFILE, "turtle": relaxed},
        content_type="application/json",
    )
    assert put_metadata(coscine, resource, "f.csv", graph).status_code == 201


# ------------------------------------------------------------------------------- S3


def test_an_s3_resource_gets_a_bucket_and_its_keys(coscine: CoscineClient, s3_server: str) -> None:
    resource = make_resource(coscine, resourceTypeId=RDSS3, resourceTypeOptions=S3_OPTIONS)
    options = resource["type"]["options"]["rdsS3"]
    assert options["endpoint"] == s3_server
    assert options["size"] == {"value": 2, "unit": "https://qudt.org/vocab/unit/GibiBYTE"}
    buckets = [b["Name"] for b in s3_client(s3_server).list_buckets()["Buckets"]]
    assert options["bucketName"] in buckets
    single = coscine.get(base(resource)).json()["data"]
    assert single["type"]["options"]["rdsS3"]["accessKeyWrite"] == options["accessKeyWrite"]
    listed = coscine.get(f"{API}/projects/{SOIL}/resources").json()["data"]
    assert listed[0]["type"]["options"] == {}


def test_s3_storage_endpoints_read_the_bucket(coscine: CoscineClient, s3_server: str) -> None:
    import boto3
    from botocore.config import Config

    resource = make_resource(coscine, resourceTypeId=RDSS3, resourceTypeOptions=S3_OPTIONS)
    options = coscine.get(base(resource)).json()["data"]["type"]["options"]["rdsS3"]
    writer = boto3.client(
        "s3",
        endpoint_url=options["endpoint"],
        aws_access_key_id=options["accessKeyWrite"],
        aws_secret_access_key=options["secretKeyWrite"],
        region_name="us-east-1",
        config=Config(request_checksum_calculation="when_required"),
    )
    writer.put_object(Bucket=options["bucketName"], Key="raw/scan.tif", Body=b"0123456789")
    listing = coscine.get(f"{base(resource)}/storage", {"Prefix": "raw/"}).json()["data"]
    assert [(e["path"], e["size"]) for e in listing] == [("raw/scan.tif", 10)]
    assert "X-Amz-Expires" in listing[0]["actions"]["download"]["url"]
    assert coscine.head(f"{base(resource)}/storage/raw%2Fscan.tif").status_code == 200
    assert coscine.head(f"{base(resource)}/storage/raw%2Fnone.tif").status_code == 404
    content = coscine.get(f"{base(resource)}/storage/raw%2Fscan.tif/content")
    assert b"".join(content.streaming_content) == b"0123456789"
    assert stored(resource)["files"] == {"raw/scan.tif": 10}


def test_s3_resources_take_rest_uploads_without_metadata(
    coscine: CoscineClient, s3_server: str
) -> None:
    resource = make_resource(coscine, resourceTypeId=RDSS3, resourceTypeOptions=S3_OPTIONS)
    assert upload(coscine, resource, "a.bin", b"abc").status_code == 201
    bucket = coscine.get(base(resource)).json()["data"]["type"]["options"]["rdsS3"]["bucketName"]
    body = s3_client(s3_server).get_object(Bucket=bucket, Key="a.bin")["Body"].read()
    assert body == b"abc"
    assert coscine.delete(f"{base(resource)}/storage/a.bin").status_code == 204
    assert stored(resource)["files"] == {}


def test_storage_files_land_under_var_dir(coscine: CoscineClient, coscine_storage: Path) -> None:
    resource = make_resource(coscine)
    put_metadata(coscine, resource, "a.txt", turtle("a.txt"))
    upload(coscine, resource, "a.txt", b"bytes on disk")
    [written] = (coscine_storage / resource["id"]).iterdir()
    assert written.read_bytes() == b"bytes on disk"
