"""Storing files on Coscine: the metadata graph first, then the bytes (streamed), then a
HEAD of their size; one write per call, and a resumed file looks before it sends."""

from __future__ import annotations

import io
import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import responses
from rdflib import Graph, Literal, URIRef

from deposits.repositories.base import ChecksumMismatch, FileState, PermanentError
from deposits.repositories.coscine import resources, storage
from deposits.repositories.http import CHUNK_SIZE

from .steps_support import (
    API,
    DCT,
    PROJECT,
    RESOURCE,
    RESOURCE_API,
    envelope,
    file_job,
    make_client,
    make_job,
    progress_log,
    remote_data,
    resource_dto,
)
from .steps_support import (
    options as storage_options,
)

CONTENT = b"time,moisture\n2024-05-01T00:00,0.31\n"
GRAPH = f"{RESOURCE_API}/graphs/data.csv/metadata/content"
STORED = f"{RESOURCE_API}/storage/data.csv"


@pytest.fixture
def rsps():
    # only what a test registers may be called: anything else fails the test
    with responses.RequestsMock() as mock:
        yield mock


def our_turtle(job: Any) -> str:
    return storage.metadata_turtle(job, job.files[0])


def titles(turtle: str) -> list[str]:
    return [
        str(o)
        for o in Graph().parse(data=turtle, format="turtle").objects(None, URIRef(f"{DCT}title"))
    ]


def after_metadata(job_files: list[Any], **kwargs: Any) -> Any:
    """The job as the call after a recorded metadata PUT sees it."""
    job = make_job(job_files, resumed=True, **kwargs)
    entry = {"metadata_sha256": storage.digest(our_turtle(job)), "stage": "metadata"}
    job.remote_data = remote_data(files={"data.csv": entry})
    return job


def multipart_file(body: bytes, content_type: str) -> bytes:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    (part,) = message.iter_parts()
    assert part.get_param("name", header="content-disposition") == "file"
    return part.get_payload(decode=True)


# --------------------------------------------------------------------------- first run


def test_metadata_graph_goes_first_alone(rsps):
    job = make_job([file_job("data.csv", CONTENT)])
    rsps.put(GRAPH, status=201)
    result = storage.send_next(make_client(), job, lambda *a: None)

    sent = rsps.calls[0].request
    assert sent.headers["Content-Type"] == "text/turtle"
    assert titles(sent.body.decode()) == ["Soil moisture"]
    graph = Graph().parse(data=sent.body.decode(), format="turtle")
    subject = URIRef(f"https://purl.org/coscine/resources/{RESOURCE}/data.csv")
    assert (subject, URIRef(f"{DCT}creator"), Literal("Doe, Jane")) in graph
    assert result.done is False  # the bytes go in the next call
    assert result.file_updates["data.csv"].status == FileState.UPLOADING
    entry = result.remote_data["files"]["data.csv"]
    assert entry == {"metadata_sha256": storage.digest(sent.body.decode()), "stage": "metadata"}


def test_bytes_then_head_after_the_metadata(rsps):
    job = after_metadata([file_job("data.csv", CONTENT, status=FileState.UPLOADING)])
    rsps.head(STORED, status=404)  # resumed: it looks first, and nothing is there
    rsps.post(f"{STORED}/content", status=201)
    rsps.head(STORED, status=200, headers={"Content-Length": str(len(CONTENT))})
    seen, progress = progress_log()
    result = storage.send_next(make_client(), job, progress)

    upload = rsps.calls[1].request
    assert multipart_file(upload.body, upload.headers["Content-Type"]) == CONTENT
    assert result.done is True
    update = result.file_updates["data.csv"]
    assert (update.status, update.remote_id, update.remote_checksum) == (
        FileState.DONE, "data.csv", f"size:{len(CONTENT)}",
    )  # fmt: skip
    entry = result.remote_data["files"]["data.csv"]
    assert entry["stage"] == "stored" and entry["via"] == "rest"
    assert entry["size"] == len(CONTENT) and entry["sha256"] == job.files[0].sha256
    assert seen[-1] == ("data.csv", len(CONTENT))


def test_a_file_name_is_encoded_as_one_path_segment(rsps):
    job = make_job([file_job("a b/ü.csv", CONTENT)])
    rsps.put(f"{RESOURCE_API}/graphs/a%20b%2F%C3%BC.csv/metadata/content", status=201)
    storage.send_next(make_client(), job, lambda *a: None)


def test_the_next_file_keeps_the_step_going(rsps):
    job = after_metadata(
        [file_job("data.csv", CONTENT, status=FileState.UPLOADING), file_job("b.csv", b"b")]
    )
    rsps.head(STORED, status=404)
    rsps.post(f"{STORED}/content", status=201)
    rsps.head(STORED, headers={"Content-Length": str(len(CONTENT))})
    assert storage.send_next(make_client(), job, lambda *a: None).done is False


def test_nothing_pending_is_done_without_a_call(rsps):
    job = make_job([file_job("data.csv", CONTENT, status=FileState.DONE)])
    assert storage.send_next(make_client(), job, lambda *a: None).done is True


def test_a_profile_not_fetched_yet_is_worth_waiting_for(rsps):
    job = make_job([file_job("data.csv", CONTENT)], schema={})
    with pytest.raises(Exception, match="not been fetched") as caught:
        storage.send_next(make_client(), job, lambda *a: None)
    assert caught.value.permanent is False


# --------------------------------------------------------------------------- resumed


def test_crash_after_the_metadata_put_does_not_put_it_again(rsps):
    job = make_job([file_job("data.csv", CONTENT, status=FileState.UPLOADING)], resumed=True)
    # Coscine answers with the node of the stored version, named its own way
    versioned = our_turtle(job).replace("/data.csv>", "/data.csv/@type=metadata&version=1>")
    assert versioned != our_turtle(job)
    rsps.get(GRAPH, body=versioned, content_type="text/turtle")
    rsps.head(STORED, status=404)
    rsps.post(f"{STORED}/content", status=201)
    rsps.head(STORED, headers={"Content-Length": str(len(CONTENT))})
    result = storage.send_next(make_client(), job, lambda *a: None)
    assert [c.request.method for c in rsps.calls] == ["GET", "HEAD", "POST", "HEAD"]
    assert result.file_updates["data.csv"].status == FileState.DONE


def test_a_resumed_file_with_other_metadata_gets_ours(rsps):
    job = make_job([file_job("data.csv", CONTENT, status=FileState.UPLOADING)], resumed=True)
    rsps.get(GRAPH, body=our_turtle(job).replace("Soil moisture", "Old title"))
    rsps.put(GRAPH, status=200)
    result = storage.send_next(make_client(), job, lambda *a: None)
    assert titles(rsps.calls[1].request.body.decode()) == ["Soil moisture"]
    assert result.done is False


def test_crash_after_the_upload_before_the_head_is_not_sent_again(rsps):
    job = after_metadata([file_job("data.csv", CONTENT, status=FileState.UPLOADING)])
    rsps.head(STORED, headers={"Content-Length": str(len(CONTENT))})
    result = storage.send_next(make_client(), job, lambda *a: None)
    assert len(rsps.calls) == 1  # no upload
    assert result.file_updates["data.csv"].status == FileState.DONE
    assert "not sent again" in result.message


def test_a_stored_file_of_another_size_is_replaced(rsps):
    job = after_metadata([file_job("data.csv", CONTENT, status=FileState.UPLOADING)])
    rsps.head(STORED, headers={"Content-Length": "5"})
    rsps.put(f"{STORED}/content", status=200)
    rsps.head(STORED, headers={"Content-Length": str(len(CONTENT))})
    result = storage.send_next(make_client(), job, lambda *a: None)
    assert rsps.calls[1].request.method == "PUT"
    assert result.file_updates["data.csv"].status == FileState.DONE


def test_a_size_mismatch_after_the_upload_is_sent_again(rsps):
    job = after_metadata([file_job("data.csv", CONTENT, status=FileState.UPLOADING)])
    rsps.head(STORED, status=404)
    rsps.post(f"{STORED}/content", status=201)
    rsps.head(STORED, headers={"Content-Length": "7"})
    with pytest.raises(ChecksumMismatch, match=r"7 bytes of data\.csv"):
        storage.send_next(make_client(), job, lambda *a: None)


def test_size_from_the_listing_when_head_gives_none(rsps):
    job = after_metadata([file_job("data.csv", CONTENT, status=FileState.UPLOADING)])
    rsps.head(STORED, status=200, headers={"Content-Length": ""})
    rsps.get(
        f"{RESOURCE_API}/storage",
        json=envelope([{"path": "/data.csv", "type": "Leaf", "size": len(CONTENT)}]),
        match=[
            responses.matchers.query_param_matcher(
                {"Prefix": "data.csv", "PageNumber": "1", "PageSize": "50"}
            )
        ],
    )
    result = storage.send_next(make_client(), job, lambda *a: None)
    assert result.file_updates["data.csv"].status == FileState.DONE


def test_413_says_to_use_an_s3_resource(rsps):
    job = after_metadata([file_job("data.csv", CONTENT, status=FileState.UPLOADING)])
    rsps.head(STORED, status=404)
    rsps.post(f"{STORED}/content", status=413)
    with pytest.raises(PermanentError, match="S3-backed resource") as caught:
        storage.send_next(make_client(), job, lambda *a: None)
    assert caught.value.status == 413


# --------------------------------------------------------------------------- memory


class Zeros(io.RawIOBase):
    """A large file that exists nowhere: it makes each chunk as it is asked for, and
    remembers how much each read asked for."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.asked: list[int] = []

    def readable(self) -> bool:
        return True

    def read(self, amount: int = -1) -> bytes:
        self.asked.append(amount)
        amount = self.left if amount < 0 else min(amount, self.left)
        self.left -= amount
        return b"\0" * amount


class Coscine(BaseHTTPRequestHandler):
    """A real server for the upload: it reads the body as it arrives, never whole."""

    received: ClassVar[dict[str, int]] = {}
    stored: ClassVar[int | None] = None

    def log_message(self, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        if self.stored is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
        else:
            self.send_response(200)
            self.send_header("Content-Length", str(self.stored))
        self.end_headers()

    def do_GET(self) -> None:  # the listing, which gives the size of a large file
        items = (
            []
            if self.stored is None
            else [{"path": "/data.csv", "type": "Leaf", "size": self.stored}]
        )
        body = json.dumps(envelope(items)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        left = int(self.headers["Content-Length"])
        first = self.rfile.read(min(left, 4096))
        body_start = first.index(b"\r\n\r\n") + 4
        got, left = len(first) - body_start, left - len(first)
        while left:
            chunk = self.rfile.read(min(left, 64 * 1024))
            got, left = got + len(chunk), left - len(chunk)
        type(self).received = {"file_and_tail": got}
        type(self).stored = got - len("\r\n--") - 32 - len("--\r\n")
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def coscine_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Coscine)
    Coscine.stored, Coscine.received = None, {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_large_rest_upload_streams_with_flat_memory(coscine_server):
    size = 40 * CHUNK_SIZE + 123
    source = Zeros(size)
    big = file_job("data.csv", b"", status=FileState.UPLOADING)
    big.size, big.open = size, lambda: source
    job = after_metadata([big])
    client = make_client(allowed=[coscine_server], base_url=f"http://{coscine_server}/coscine")
    seen, progress = progress_log()
    result = storage.send_next(client, job, progress)

    assert source.left == 0
    # the file is read a chunk at a time as the socket takes it, never whole
    assert max(source.asked) <= CHUNK_SIZE
    assert len(source.asked) > size // CHUNK_SIZE
    assert Coscine.stored == size  # the server got every byte, in one part
    assert result.file_updates["data.csv"].status == FileState.DONE
    assert len(seen) > 1 and seen[-1] == ("data.csv", size)


def test_multipart_stream_never_gives_more_than_asked():
    body = storage.MultipartStream(io.BytesIO(b"x" * 10), 'a"b.csv', 10)
    pieces = iter(lambda: body.read(7), b"")
    assert all(len(p) <= 7 for p in pieces)
    again = storage.MultipartStream(io.BytesIO(b"x" * 10), 'a"b.csv', 10)
    whole = again.read()
    assert len(whole) == again.size
    assert b'filename="a_b.csv"' in whole


# --------------------------------------------------------------------------- confirm


def stored_files(*sizes: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"path": f"/{n}", "name": n, "type": "Leaf", "size": s} for n, s in sizes]


def test_confirm_reads_every_page_and_every_graph(rsps):
    files = [
        file_job("data.csv", CONTENT, status=FileState.DONE),
        file_job("b.csv", b"bb", status=FileState.DONE),
    ]
    job = make_job(files)
    listing = f"{RESOURCE_API}/storage"
    rsps.get(
        listing,
        json=envelope(stored_files(("data.csv", len(CONTENT))), has_next=True),
        match=[responses.matchers.query_param_matcher({"PageNumber": "1", "PageSize": "50"})],
    )
    rsps.get(
        listing,
        json=envelope([*stored_files(("b.csv", 2)), {"path": "/dir/", "type": "Tree"}], page=2),
        match=[responses.matchers.query_param_matcher({"PageNumber": "2", "PageSize": "50"})],
    )
    for f in files:
        rsps.get(
            f"{RESOURCE_API}/graphs/{f.name}/metadata/content",
            body=storage.metadata_turtle(job, f),
        )
    result = storage.confirm(make_client(), job, lambda *a: None)
    assert result.done is True and "all 2 files" in result.message


def test_confirm_names_what_is_missing_or_of_another_size(rsps):
    files = [
        file_job("data.csv", CONTENT, status=FileState.DONE),
        file_job("b.csv", b"bb", status=FileState.DONE),
        file_job("c.csv", b"c", status=FileState.DONE),
        file_job("d.csv", b"dd", status=FileState.DONE),
        file_job("gone.csv", b"g", status=FileState.DELETE),
    ]
    job = make_job(files)
    listed = stored_files(("data.csv", len(CONTENT)), ("b.csv", 2), ("b.csv", 2), ("d.csv", 9))
    rsps.get(f"{RESOURCE_API}/storage", json=envelope(listed))
    with pytest.raises(PermanentError) as caught:
        storage.confirm(make_client(), job, lambda *a: None)
    message = caught.value.message
    assert "b.csv is listed 2 times" in message
    assert "c.csv is missing" in message
    assert "d.csv has 9 bytes instead of 2" in message
    assert "data.csv" not in message and "gone.csv" not in message
    assert "Press Retry" in message


def test_confirm_sends_a_graph_that_is_not_ours_again(rsps):
    job = make_job([file_job("data.csv", CONTENT, status=FileState.DONE)])
    rsps.get(f"{RESOURCE_API}/storage", json=envelope(stored_files(("data.csv", len(CONTENT)))))
    rsps.get(GRAPH, status=404)
    rsps.put(GRAPH, status=200)
    first = storage.confirm(make_client(), job, lambda *a: None)
    assert first.done is False and "sent it again" in first.message
    assert titles(rsps.calls[-1].request.body.decode()) == ["Soil moisture"]
    job.remote_data = first.remote_data
    job.remote_data["files"]["data.csv"]["metadata_repairs"] = 2
    with pytest.raises(PermanentError, match="still not what was sent"):
        storage.confirm(make_client(), job, lambda *a: None)


def test_a_retry_sends_again_what_the_resource_lost(rsps):
    from deposits.repositories.coscine import resources

    kept = file_job("data.csv", CONTENT, status=FileState.DONE)
    lost = file_job("b.csv", b"bb", status=FileState.DONE)
    job = make_job([kept, lost])
    job.remote_data["files"] = {"data.csv": {"stage": "stored"}, "b.csv": {"stage": "stored"}}
    rsps.get(RESOURCE_API, json=envelope(resource_dto()))
    rsps.get(f"{RESOURCE_API}/storage", json=envelope(stored_files(("data.csv", len(CONTENT)))))
    result = resources.prepare(make_client(), job, lambda *a: None)
    assert list(result.file_updates) == ["b.csv"]
    assert result.file_updates["b.csv"].status == FileState.PENDING
    assert result.remote_data["files"]["b.csv"]["stage"] == ""
    assert "1 file(s)" in result.message


# --------------------------------------------------------------------------- edit


def stored_entry(job: Any, f: Any) -> dict[str, Any]:
    return {
        "metadata_sha256": storage.digest(storage.metadata_turtle(job, f)),
        "stage": "stored",
        "size": f.size,
        "sha256": f.sha256,
        "via": "rest",
    }


def test_edit_sends_metadata_again_and_bytes_only_when_changed(rsps):
    same = file_job("data.csv", CONTENT, status=FileState.DONE)
    changed = file_job("b.csv", b"new bytes", status=FileState.DONE)
    job = make_job([same, changed], action="edit")
    job.remote_data["files"] = {
        "data.csv": stored_entry(job, same),
        "b.csv": {**stored_entry(job, changed), "sha256": "0" * 64, "size": 3},
    }
    marked = storage.mark_for_update(make_client(), job, lambda *a: None)
    assert not rsps.calls  # no remote call
    assert {n: u.status for n, u in marked.file_updates.items()} == {
        "data.csv": FileState.PENDING, "b.csv": FileState.PENDING,
    }  # fmt: skip
    assert "1 of them with their bytes" in marked.message

    # the unchanged file: its metadata again, then only a HEAD
    same.status, changed.status = FileState.PENDING, FileState.PENDING
    job.remote_data = marked.remote_data
    rsps.put(GRAPH, status=200)
    first = storage.send_next(make_client(), job, lambda *a: None)
    assert first.done is False
    job.remote_data, same.status, job.resumed = first.remote_data, FileState.UPLOADING, True
    rsps.head(STORED, headers={"Content-Length": str(len(CONTENT))})
    second = storage.send_next(make_client(), job, lambda *a: None)
    assert [c.request.method for c in rsps.calls] == ["PUT", "HEAD"]
    assert second.file_updates["data.csv"].status == FileState.DONE

    # the changed file: its metadata, then its bytes replace the old ones (same size
    # or not, they are not ours any more)
    same.status, job.remote_data = FileState.DONE, second.remote_data
    rsps.put(f"{RESOURCE_API}/graphs/b.csv/metadata/content", status=200)
    third = storage.send_next(make_client(), job, lambda *a: None)
    job.remote_data, changed.status = third.remote_data, FileState.UPLOADING
    rsps.head(f"{RESOURCE_API}/storage/b.csv", headers={"Content-Length": "3"})
    rsps.put(f"{RESOURCE_API}/storage/b.csv/content", status=200)
    rsps.head(f"{RESOURCE_API}/storage/b.csv", headers={"Content-Length": str(changed.size)})
    fourth = storage.send_next(make_client(), job, lambda *a: None)
    assert fourth.done is True
    assert fourth.remote_data["files"]["b.csv"]["sha256"] == changed.sha256


def test_paths_are_those_of_the_project(rsps):
    assert f"{API}/projects/{PROJECT}/resources/{RESOURCE}" == RESOURCE_API


# --------------------------------------------------------------------------- sandbox


def run_until_done(client: Any, job: Any, step: str) -> Any:
    """What the worker does: the step again until it is done, each result recorded."""
    from deposits.repositories.coscine.connector import CoscineConnector

    for _ in range(20):
        result = CoscineConnector().run_step(step, client, job, lambda *a: None)
        job.remote_id = job.remote_id if result.remote_id is None else result.remote_id
        job.remote_data = job.remote_data if result.remote_data is None else result.remote_data
        for name, update in result.file_updates.items():
            f = next(f for f in job.files if f.name == name)
            f.status = update.status or f.status
        job.resumed = True  # every later call of a step is a resumed one
        if result.done:
            return result
    raise AssertionError(f"{step} never finished")


@pytest.fixture
def sandbox_client(transactional_db, live_server, settings, tmp_path, s3_server):
    """A client on the Coscine sandbox, served live (its S3 resources on moto)."""
    from sandbox.coscine.tokens import issue_token

    settings.VAR_DIR = tmp_path
    host = live_server.url.removeprefix("http://")
    return make_client(
        allowed=[host, s3_server[7:]],
        base_url=f"{live_server.url}/coscine",
        token=issue_token("sandbox-user"),
    )


@pytest.mark.urls("sandbox.coscine.root_urls")
@pytest.mark.parametrize("kind", ["rds", "rdss3"])
def test_publish_edit_and_delete_on_the_coscine_sandbox(sandbox_client, kind):
    """Every step against the sandbox (which validates each graph with SHACL and keeps
    S3 resources in a real bucket), as the worker runs them."""
    from tests.sandbox.test_coscine_api import RDS, RDSS3, SOIL

    client = sandbox_client
    new = {
        "name": "Probe", "display_name": "Probe", "description": "Soil moisture",
        "visibility": "8ab9c883-eb0d-4402-aaad-2e4007badce6",
        "disciplines": ["c3a1f0e2-0000-4000-8000-000000000307"],
        "resource_type": RDS if kind == "rds" else RDSS3, "quota_gib": 1,
    }  # fmt: skip
    chosen = {**storage_options(), "project": {"id": SOIL, "slug": "soil"}, "new_resource": new}
    chosen.pop("resource")
    files = [file_job("a.csv", b"hello"), file_job("b c.txt", b"x" * 1000)]
    job = make_job(
        files,
        options=chosen,
        remote_id="",
        remote_data={},
        create_marker="deposit-portal:" + "ef" * 16,
    )
    for step in ("prepare_resource", "send_files", "confirm_files", "register"):
        result = run_until_done(client, job, step)
    assert result.identifiers[0].value == f"21.11102/{job.remote_id}"
    # the marker stays among the keywords: the orphan sweep sees the resource, and
    # would not delete it while it holds files
    assert (job.remote_id, job.create_marker) in resources.marked_drafts(client)
    with pytest.raises(PermanentError, match="left as it is"):
        resources.delete_orphan(client, job.remote_id)
    assert {e["via"] for e in job.remote_data["files"].values()} == {
        "rest" if kind == "rds" else "s3"
    }

    job.files[1] = file_job("b c.txt", b"y" * 1001, status=FileState.DONE)
    for step in ("update_metadata", "send_files", "confirm_files"):
        run_until_done(client, job, step)
    assert job.remote_data["files"]["b c.txt"]["size"] == 1001

    assert "Deleted the resource" in run_until_done(client, job, "delete_stored").message
