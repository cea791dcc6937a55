"""The DataMeta connector against replies shaped as a real DataMeta 1.1.1 sends them
(reference/datameta-exchanges.md): account checks, definitions, and whole submissions
run step by step as the lifecycle would, including crashes and checksum mismatches."""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from deposits.repositories.base import (
    AuthError,
    FileJob,
    Job,
    PermanentError,
    StepResult,
    UnsafeURL,
    ValidationFailed,
)
from deposits.repositories.datameta.account import forget_api_roots
from deposits.repositories.datameta.connector import DataMetaConnector
from deposits.repositories.http import HttpClient
from tests.factories import record
from tests.repositories.test_datameta_errors import exchange
from tests.repositories.test_datameta_sheet import SCHEMA

SITE = "https://datameta.example.org"
API = f"{SITE}/api/v1"
KEY = "LF0ksrJbr3DjVPOiVOOQQ3olaZJbBo0jJ8bpxz1f1jXdvmiKP2j2djSJXDEXZ5vo"
HTML_404 = exchange(43).body


def ident(prefix: str) -> dict[str, str]:
    return {"uuid": str(uuid.uuid4()), "site": f"{prefix}-{uuid.uuid4().int % 10**8:08d}"}


class FakeDataMeta:
    """Just enough of a DataMeta server, answering with the recorded shapes."""

    def __init__(self, rsps: responses.RequestsMock, upload_host: str = SITE) -> None:
        self.sets: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.submissions: list[dict[str, Any]] = []
        self.upload_host = upload_host
        self.corrupt_uploads = 0  # the next N uploads store other bytes
        self.upload_headers: list[dict[str, str]] = []
        self.calls: list[str] = []
        self.lose_submit_reply = False
        rsps.add(responses.GET, f"{SITE}/api", status=302, headers={"Location": API})
        rsps.add(responses.GET, API, body="<html>Swagger UI</html>", content_type="text/html")
        rsps.add_callback(responses.POST, f"{API}/metadatasets", self.post_set)
        rsps.add_callback(responses.GET, re.compile(f"{API}/metadatasets/.+"), self.get_set)
        rsps.add_callback(responses.DELETE, re.compile(f"{API}/metadatasets/.+"), self.del_set)
        rsps.add_callback(responses.POST, f"{API}/files", self.announce)
        rsps.add_callback(responses.PUT, re.compile(f"{API}/files/.+"), self.confirm)
        rsps.add_callback(responses.GET, re.compile(f"{API}/files/.+"), self.get_file)
        rsps.add_callback(responses.DELETE, re.compile(f"{API}/files/.+"), self.del_file)
        rsps.add_callback(
            responses.POST, re.compile(f"{upload_host}/api/v1/upload/.+"), self.upload
        )
        rsps.add_callback(responses.POST, f"{API}/rpc/delete-metadatasets", self.bulk_sets)
        rsps.add_callback(responses.POST, f"{API}/rpc/delete-files", self.bulk_files)
        rsps.add_callback(responses.POST, f"{API}/presubvalidation", self.presub)
        rsps.add_callback(responses.POST, f"{API}/submissions", self.submit)

    @staticmethod
    def reply(status: int, body: Any = None, raw: bytes | None = None) -> tuple:
        if raw is not None:
            return status, {"Content-Type": "text/html; charset=UTF-8"}, raw
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    def staged(self) -> tuple[list[str], list[str]]:
        """Ids of items that are staged (not submitted)."""
        return (
            [k for k, v in self.sets.items() if not v["submissionId"]],
            [k for k, v in self.files.items() if not v["submitted"]],
        )

    def post_set(self, request: Any) -> tuple:
        self.calls.append("POST /metadatasets")
        record = json.loads(request.body)["record"]
        if record.get("ZIPCode") == "12a4":
            return self.reply(400, json.loads(exchange(24).body))
        ids = ident("DMR")
        self.sets[ids["uuid"]] = {
            "id": ids,
            "record": record,
            "fileIds": {"FileR1": None},
            "submissionId": None,
            "serviceExecutions": None,
        }
        return self.reply(200, self.sets[ids["uuid"]])

    def get_set(self, request: Any) -> tuple:
        found = self.sets.get(request.url.rsplit("/", 1)[-1])
        return self.reply(200, found) if found else self.reply(404, raw=HTML_404)

    def del_set(self, request: Any) -> tuple:
        return (
            self.reply(204, raw=b"")
            if self.sets.pop(request.url.rsplit("/", 1)[-1], None)
            else self.reply(404, None)
        )

    def announce(self, request: Any) -> tuple:
        self.calls.append("POST /files")
        body = json.loads(request.body)
        ids = ident("DMF")
        token = uuid.uuid4().hex
        self.files[ids["uuid"]] = {
            **body,
            "id": ids,
            "token": token,
            "data": b"",
            "contentUploaded": False,
            "submitted": False,
        }
        return self.reply(
            200,
            {
                "id": ids,
                "name": body["name"],
                "userId": ident("DMU"),
                "expires": "2026-11-22T23:56:00.291202",
                "urlToUpload": f"{self.upload_host}/api/v1/upload/{ids['uuid']}",
                "requestHeaders": {"Access-Token": token},
            },
        )

    def upload(self, request: Any) -> tuple:
        self.calls.append("upload")
        f = self.files.get(request.url.rsplit("/", 1)[-1])
        self.upload_headers.append(dict(request.headers))
        if f is None or request.headers.get("Access-Token") != f["token"]:
            return self.reply(404, None)
        if f["contentUploaded"]:
            return self.reply(409, None)
        body = (
            request.body
            if isinstance(request.body, bytes)
            else b"".join(iter(lambda: request.body.read(65536), b""))
        )
        boundary = request.headers["Content-Type"].split("boundary=")[1].encode()
        part = body.split(b"--" + boundary)[1]
        data = part.split(b"\r\n\r\n", 1)[1][: -len(b"\r\n")]
        if self.corrupt_uploads:
            self.corrupt_uploads -= 1
            data = data + b"!"
        f["data"] = data
        return 204, {}, ""

    def file_reply(self, f: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f["id"],
            "name": f["name"],
            "userId": ident("DMU"),
            "expires": "2026-11-22T23:56:00.291202",
            "checksum": f["checksum"],
            "contentUploaded": f["contentUploaded"],
            "filesize": len(f["data"]) if f["contentUploaded"] else None,
        }

    def confirm(self, request: Any) -> tuple:
        self.calls.append("PUT /files")
        f = self.files.get(request.url.rsplit("/", 1)[-1])
        if f is None:
            return self.reply(404, raw=HTML_404)
        if f["contentUploaded"]:
            return self.reply(403, json.loads(exchange(39).body))
        if hashlib.md5(f["data"]).hexdigest() != f["checksum"]:
            return self.reply(409, None)
        f["contentUploaded"] = True
        return self.reply(200, self.file_reply(f))

    def get_file(self, request: Any) -> tuple:
        f = self.files.get(request.url.rsplit("/", 1)[-1])
        return self.reply(200, self.file_reply(f)) if f else self.reply(404, raw=HTML_404)

    def del_file(self, request: Any) -> tuple:
        return (
            self.reply(204, raw=b"")
            if self.files.pop(request.url.rsplit("/", 1)[-1], None)
            else self.reply(404, None)
        )

    def bulk_sets(self, request: Any) -> tuple:
        self.calls.append("delete-metadatasets")
        ids = json.loads(request.body)["metadatasetIds"]
        if any(i not in self.sets for i in ids):
            return self.reply(404, None)
        for i in ids:
            self.sets.pop(i)
        return 204, {}, ""

    def bulk_files(self, request: Any) -> tuple:
        self.calls.append("delete-files")
        ids = json.loads(request.body)["fileIds"]
        if any(i not in self.files for i in ids):
            return self.reply(404, None)
        for i in ids:
            self.files.pop(i)
        return 204, {}, ""

    def check(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        errors = []
        for i in body["metadatasetIds"]:
            if self.sets[i]["submissionId"]:
                errors.append(
                    {
                        "exception": "ValidationError",
                        "entity": self.sets[i]["id"],
                        "message": "Already submitted",
                    }
                )
        named = {
            s["record"].get("FileR1") for k, s in self.sets.items() if k in body["metadatasetIds"]
        }
        sent = {self.files[i]["name"] for i in body["fileIds"]}
        for i in body["metadatasetIds"]:
            name = self.sets[i]["record"].get("FileR1")
            if name not in sent:
                errors.append(
                    {
                        "exception": "ValidationError",
                        "entity": self.sets[i]["id"],
                        "field": "FileR1",
                        "message": "Referenced file not provided",
                    }
                )
        for i in body["fileIds"]:
            if self.files[i]["name"] not in named:
                errors.append(
                    {
                        "exception": "ValidationError",
                        "entity": self.files[i]["id"],
                        "message": "File included without reference in metadata",
                    }
                )
        return errors

    def presub(self, request: Any) -> tuple:
        self.calls.append("presubvalidation")
        errors = self.check(json.loads(request.body))
        return self.reply(400, errors) if errors else (204, {}, "")

    def submit(self, request: Any) -> tuple:
        self.calls.append("submissions")
        body = json.loads(request.body)
        errors = self.check(body)
        if errors:
            return self.reply(400, errors)
        ids = ident("DMS")
        for i in body["metadatasetIds"]:
            self.sets[i]["submissionId"] = ids
        for i in body["fileIds"]:
            self.files[i]["submitted"] = True
        self.submissions.append({**body, "id": ids})
        if self.lose_submit_reply:
            self.lose_submit_reply = False
            raise requests.ConnectionError("connection reset")
        return self.reply(
            200,
            {
                "id": ids,
                "label": body.get("label"),
                "metadatasetIds": [self.sets[i]["id"] for i in body["metadatasetIds"]],
                "fileIds": [self.files[i]["id"] for i in body["fileIds"]],
            },
        )


@pytest.fixture(autouse=True)
def fresh_roots() -> Iterator[None]:
    forget_api_roots()
    yield
    forget_api_roots()


@pytest.fixture
def connector() -> DataMetaConnector:
    return DataMetaConnector()


@pytest.fixture
def client(connector: DataMetaConnector) -> HttpClient:
    return HttpClient(
        base_url=SITE,
        token=KEY,
        label=connector.label,
        parse_error=connector.parse_error,
        auth_header=connector.auth_header,
        limiter=None,
        limiter_key="datameta.example.org:1",
        windows=list(connector.default_rate_windows),
        allowed_hosts=["datameta.example.org"],
    )


@pytest.fixture
def server() -> Iterator[FakeDataMeta]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeDataMeta(rsps)


CONTENT = {"AB12_R1.fq": b"@read1\nACGT\n+\nIIII\n", "CD34_R1.fq": b"@read2\nTTTT\n+\nIIII\n"}
ROWS = [
    {"SampleID": "AB12", "ZIPCode": "149", "Date": "2021-03-29", "FileR1": "AB12_R1.fq"},
    {"SampleID": "CD34", "ZIPCode": "150", "Lane": "L2", "FileR1": "CD34_R1.fq"},
]


def file_job(name: str, content: bytes) -> FileJob:
    return FileJob(
        name=name,
        size=len(content),
        md5=hashlib.md5(content).hexdigest(),
        sha256=hashlib.sha256(content).hexdigest(),
        open=lambda: io.BytesIO(content),
    )


def make_job(action: str = "publish", rows: list[dict[str, Any]] | None = None) -> Job:
    return Job(
        target_id=1,
        action=action,
        metadata=record(title="Soil samples 2024"),
        options={"metadatasets": [dict(r) for r in rows or ROWS]},
        files=[file_job(n, c) for n, c in CONTENT.items()],
        schema=SCHEMA,
    )


def apply(job: Job, result: StepResult) -> None:
    """What the lifecycle records of a step's result (worker._record)."""
    if result.remote_id is not None:
        job.remote_id = result.remote_id
    if result.remote_state is not None:
        job.remote_state = result.remote_state
    if result.remote_data is not None:
        job.remote_data = result.remote_data
    for f in job.files:
        changes = result.file_updates[f.name].changes() if f.name in result.file_updates else {}
        f.remote_id = changes.get("remote_id", f.remote_id)
        f.status = changes.get("status", f.status)
        f.remote_checksum = changes.get("remote_checksum", f.remote_checksum)


def run(
    connector: DataMetaConnector,
    client: HttpClient,
    job: Job,
    *,
    until: str | None = None,
    start: int = 0,
) -> list[StepResult]:
    """Run the job's steps from ``start`` as the lifecycle does; stop before ``until``."""
    results = []
    steps = connector.steps(job.action)
    index = start
    for _ in range(100):
        if index >= len(steps) or steps[index] == until:
            return results
        result = connector.run_step(steps[index], client, job, lambda name, sent: None)
        apply(job, result)
        results.append(result)
        if result.done:
            index += 1
    raise AssertionError("the steps never finished")


def identifiers(results: list[StepResult]) -> list[tuple[str, str]]:
    return [(i.scheme, i.value) for r in results for i in r.identifiers]


# --------------------------------------------------------------------------- account


@responses.activate
def test_it_finds_the_api_version_through_the_redirect(
    connector: DataMetaConnector, client: HttpClient
) -> None:
    """§5: GET /api answers 302 to an absolute http URL built from the Host header; only
    its version is taken, so an https site stays https."""
    responses.add(
        responses.GET,
        f"{SITE}/api",
        status=302,
        headers={"Location": "http://datameta.example.org/api/v1"},
    )
    assert connector.api_root(client) == API
    assert connector.api_root(client) == API  # cached: no second discovery
    # The redirect is read, not followed: its http:// hop is never requested.
    assert len(responses.calls) == 1


@responses.activate
def test_it_verifies_the_key_and_reads_its_expiry(
    connector: DataMetaConnector, client: HttpClient
) -> None:
    responses.add(responses.GET, f"{SITE}/api", status=302, headers={"Location": API})
    responses.add(responses.GET, API, body="<html></html>")
    responses.add(
        responses.GET, f"{API}/rpc/whoami", body=exchange(10).body, content_type="application/json"
    )
    keys = json.loads(exchange(12).body)[1:]  # the one key with an expiry
    responses.add(
        responses.GET, f"{API}/users/449e54ec-73f8-453e-b405-2978353e0d04/keys", json=keys
    )
    identity = connector.verify(client)
    assert identity.name == "DataMeta Admin, group Reference Lab"
    assert identity.detail["group"]["site"] == "DMG-48045649"
    assert identity.expires_at == "2026-12-21T23:55:59.925502+00:00"
    assert identity.detail["key_expiry_exact"] is True
    assert responses.calls[2].request.headers["Authorization"] == f"Bearer {KEY}"


@responses.activate
def test_with_several_keys_the_earliest_expiry_is_taken(
    connector: DataMetaConnector, client: HttpClient
) -> None:
    """DataMeta does not say which key a request used (#12): warn early, never late."""
    responses.add(responses.GET, f"{SITE}/api", status=302, headers={"Location": API})
    responses.add(
        responses.GET, f"{API}/rpc/whoami", body=exchange(10).body, content_type="application/json"
    )
    keys = json.loads(exchange(12).body)  # the init script's key never expires
    keys += [
        {**keys[1], "id": {"uuid": str(uuid.uuid4())}, "expires": "2026-12-01T08:00:00"},
        {**keys[1], "id": {"uuid": str(uuid.uuid4())}, "expires": "2026-11-01T08:00:00"},
    ]
    keys[-1]["hasExpired"] = True
    responses.add(
        responses.GET, f"{API}/users/449e54ec-73f8-453e-b405-2978353e0d04/keys", json=keys
    )
    identity = connector.verify(client)
    assert identity.expires_at == "2026-12-01T08:00:00+00:00"
    assert identity.detail["key_expiry_exact"] is False


@responses.activate
def test_a_refused_key_needs_relinking(connector: DataMetaConnector, client: HttpClient) -> None:
    responses.add(responses.GET, f"{SITE}/api", status=302, headers={"Location": API})
    responses.add(responses.GET, API, body="<html></html>")
    responses.add(
        responses.GET,
        f"{API}/rpc/whoami",
        status=401,
        body=exchange(5).body,
        content_type="application/json",
    )
    with pytest.raises(AuthError, match="Create a new key"):
        connector.verify(client)


@responses.activate
def test_a_site_that_is_not_datameta_is_named(
    connector: DataMetaConnector, client: HttpClient
) -> None:
    responses.add(responses.GET, f"{SITE}/api", body="<html>hello</html>")
    with pytest.raises(PermanentError, match="does not look like a DataMeta site"):
        connector.api_root(client)


@responses.activate
def test_it_fetches_the_definitions_in_the_site_order(
    connector: DataMetaConnector, client: HttpClient
) -> None:
    responses.add(responses.GET, f"{SITE}/api", status=302, headers={"Location": API})
    responses.add(responses.GET, API, body="<html></html>")
    reversed_order = list(reversed(json.loads(exchange(21).body)))
    responses.add(responses.GET, f"{API}/metadata", json=reversed_order)
    schema = connector.fetch_schema(client)
    assert [d["name"] for d in schema["definitions"]] == [
        "SampleID",
        "ZIPCode",
        "Date",
        "Lane",
        "FileR1",
    ]
    assert schema["definitions"][0]["regexDescription"].startswith("Two uppercase")


def test_without_definitions_it_asks_to_refresh_them(connector: DataMetaConnector) -> None:
    (problem,) = connector.validate({}, {"metadatasets": ROWS}, [], schema={})
    assert "not known yet" in problem.message


def test_it_validates_every_cell(connector: DataMetaConnector) -> None:
    job = make_job(rows=[{**ROWS[0], "ZIPCode": "12a4"}, ROWS[1]])
    problems = connector.validate(job.metadata, job.options, job.files, schema=SCHEMA)
    assert [(p.field, p.message) for p in problems] == [
        (
            "options.metadatasets.0.ZIPCode",
            "Row 1: '12a4' is not valid for ZIPCode: ZIP code: exactly three digits (example: 149).",
        )
    ]


# --------------------------------------------------------------------------- submission


def test_it_submits_several_samples_and_files(
    connector: DataMetaConnector, client: HttpClient, server: FakeDataMeta
) -> None:
    job = make_job()
    results = run(connector, client, job)
    (submission,) = server.submissions
    assert len(submission["metadatasetIds"]) == 2
    assert len(submission["fileIds"]) == 2
    assert server.staged() == ([], [])
    found = identifiers(results)
    assert ("datameta-submission", submission["id"]["site"]) in found
    assert sum(1 for scheme, _ in found if scheme == "datameta-metadataset") == 2
    assert job.remote_id == submission["id"]["uuid"]
    assert all(f.status == "done" for f in job.files)
    # §19: the key never goes to the upload URL; the Access-Token does
    assert all("Authorization" not in h and "Access-Token" in h for h in server.upload_headers)
    # the one-file upload tokens are not kept once confirmed
    assert all("upload_headers" not in e for e in job.remote_data["files"].values())


def test_announced_checksums_are_lower_case_md5(
    connector: DataMetaConnector, client: HttpClient, server: FakeDataMeta
) -> None:
    job = make_job()
    for f in job.files:
        f.md5 = f.md5.upper()
    run(connector, client, job)
    assert {f["checksum"] for f in server.files.values()} == {
        hashlib.md5(c).hexdigest() for c in CONTENT.values()
    }


def test_a_worker_killed_between_announce_and_confirm_duplicates_nothing(
    connector: DataMetaConnector, client: HttpClient, server: FakeDataMeta
) -> None:
    job = make_job()
    steps = connector.steps(job.action)
    run(connector, client, job, until="upload")
    # the first file is announced and recorded; the worker dies before uploading it
    apply(job, connector.run_step("upload", client, job, lambda n, s: None))
    assert server.calls.count("POST /files") == 1
    # a new worker resumes at the same step
    run(connector, client, job, start=steps.index("upload"))
    assert server.calls.count("POST /files") == 2
    assert server.calls.count("POST /metadatasets") == 2
    assert len(server.files) == 2
    assert server.staged() == ([], [])


def test_a_crash_after_confirming_reads_the_file_back(
    connector: DataMetaConnector, client: HttpClient, server: FakeDataMeta
) -> None:
    job = make_job()
    run(connector, client, job, until="upload")
    apply(job, connector.run_step("upload", client, job, lambda n, s: None))  # announce
    before = json.loads(json.dumps(job.remote_data))
    connector.run_step("upload", client, job, lambda n, s: None)  # upload + confirm, not recorded
    job.remote_data = before
    result = connector.run_step("upload", client, job, lambda n, s: None)
    assert "Uploaded and confirmed" in result.message
    assert server.calls.count("upload") == 2  # the second answered 409 (#40)
    assert len(server.files) == 1


def test_a_checksum_mismatch_sends_the_file_again(
    connector: DataMetaConnector, client: HttpClient, server: FakeDataMeta
) -> None:
    server.corrupt_uploads = 1
    job = make_job()
    results = run(connector, client, job)
    assert any("MD5 mismatch" in r.message for r in results)
    assert server.calls.count("upload") == 3
    assert len(server.submissions) == 1
    assert server.staged() == ([], [])


def test_a_mismatch_that_keeps_happening_fails_and_cleans_up(
    connector: DataMetaConnector, client: HttpClient, server: FakeDataMeta
) -> None:
    server.corrupt_uploads = 10
    job = make_job()
    with pytest.raises(PermanentError, match="3 times in a row"):
        run(connector, client, job)
    assert not server.files
    assert not server.submissions


def test_a_stored_copy_that_changed_is_not_confirmed(
    connector: DataMetaConnector, client: HttpClient, server: FakeDataMeta
) -> None:
    job = make_job()
    job.files[0].open = lambda: io.BytesIO(b"other bytes")
    job.files[0].size = len(b"other bytes")
    with pytest.raises(PermanentError, match="Upload the file to the deposit again"):
        run(connector, client, job)
    assert server.staged() != ([], [])  # kept: a re-upload to the deposit replaces it
    assert not server.submissions


def test_edited_rows_are_staged_again_and_the_old_ones_deleted(
    connector: DataMetaConnector, client: HttpClient, server: FakeDataMeta
) -> None:
    job = make_job(rows=[{**ROWS[0], "ZIPCode": "12a4"}, ROWS[1]])
    with pytest.raises(ValidationFailed) as failed:
        run(connector, client, job)
    (problem,) = failed.value.problems
    assert problem.field == "options.metadatasets.0.ZIPCode"
    # the person fixes the first row and removes the second; a retry resumes
    job.options = {"metadatasets": [ROWS[0]]}
    job.files = job.files[:1]
    run(connector, client, job)
    (submission,) = server.submissions
    assert len(submission["metadatasetIds"]) == 1
    assert server.staged() == ([], [])
    assert len(server.sets) == 1


def test_a_retry_after_presubvalidation_restages_what_changed(
    connector: DataMetaConnector, client: HttpClient, server: FakeDataMeta
) -> None:
    job = make_job()
    run(connector, client, job, until="presubvalidate")
    staged_before = set(server.sets)
    job.options = {"metadatasets": [ROWS[0], {**ROWS[1], "Lane": "L3"}]}
    run(connector, client, job, start=connector.steps(job.action).index("presubvalidate"))
    assert "delete-metadatasets" in server.calls
    assert len(set(server.sets) & staged_before) == 1
    assert server.staged() == ([], [])


def test_a_lost_submission_reply_adopts_the_submission(
    connector: DataMetaConnector, client: HttpClient, server: FakeDataMeta
) -> None:
    server.lose_submit_reply = True
    job = make_job()
    steps = connector.steps(job.action)
    run(connector, client, job, until="submit")
    with pytest.raises(Exception, match="reset"):
        connector.run_step("submit", client, job, lambda n, s: None)
    results = run(connector, client, job, start=steps.index("submit"))
    assert len(server.submissions) == 1
    assert ("datameta-submission", server.submissions[0]["id"]["site"]) in identifiers(results)


def test_deleting_removes_every_staged_item(
    connector: DataMetaConnector, client: HttpClient, server: FakeDataMeta
) -> None:
    job = make_job()
    run(connector, client, job, until="presubvalidate")
    assert server.staged() != ([], [])
    job.action = "delete"
    result = connector.run_step("delete_staged", client, job, lambda n, s: None)
    assert server.staged() == ([], [])
    assert result.remote_data == {"previous": []}


def test_bulk_delete_falls_back_to_one_by_one(
    connector: DataMetaConnector, client: HttpClient, server: FakeDataMeta
) -> None:
    job = make_job()
    run(connector, client, job, until="upload")
    server.sets.pop(job.remote_data["metadatasets"][0]["uuid"])  # deleted by someone else
    job.action = "delete"
    connector.run_step("delete_staged", client, job, lambda n, s: None)
    assert not server.sets


def test_an_expired_upload_link_is_announced_again(
    connector: DataMetaConnector, client: HttpClient, server: FakeDataMeta
) -> None:
    job = make_job()
    run(connector, client, job, until="upload")
    apply(job, connector.run_step("upload", client, job, lambda n, s: None))
    for f in server.files.values():
        f["token"] = "expired"
    run(connector, client, job, start=connector.steps(job.action).index("upload"))
    assert len(server.submissions) == 1
    assert server.calls.count("POST /files") == 3


def test_an_upload_url_outside_the_allowlist_is_refused(
    connector: DataMetaConnector, client: HttpClient
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = FakeDataMeta(rsps, upload_host="https://storage.elsewhere.example")
        job = make_job()
        with pytest.raises(UnsafeURL):
            run(connector, client, job)
        assert "upload" not in server.calls


def test_service_results_are_polled_until_complete(
    connector: DataMetaConnector, client: HttpClient, server: FakeDataMeta
) -> None:
    job = make_job()
    run(connector, client, job)
    assert connector.poll_published(client, job).identifiers == []
    first = job.remote_data["metadatasets"][0]["uuid"]
    server.sets[first]["record"]["ENA-ID"] = "ERR000111"
    result = connector.poll_published(client, job)
    apply(job, result)
    assert [(i.scheme, i.value) for i in result.identifiers] == [
        ("datameta-result:ENA-ID", "ERR000111")
    ]
    assert "1 result" in result.message
    for entry in job.remote_data["metadatasets"]:
        server.sets[entry["uuid"]]["record"]["ENA-ID"] = "ERR" + entry["site"][-6:]
    apply(job, connector.poll_published(client, job))
    assert job.remote_data["services_complete"] is True
    calls = len(server.calls)
    assert connector.poll_published(client, job) == StepResult()
    assert len(server.calls) == calls


def test_edits_of_submitted_data_are_explained(
    connector: DataMetaConnector, client: HttpClient
) -> None:
    # DataMeta declares no edit and no discard, so the portal never offers them
    assert connector.action_spec("edit") is None
    assert connector.action_spec("discard") is None
    with pytest.raises(PermanentError, match="has no action 'edit'"):
        connector.steps("edit")
