"""Two copies of one chunk at once: one is kept, the other is told where the upload stands.

Real requests in real threads through the test client, each on its own database
connection (so on PostgreSQL the row lock, on SQLite the write lock, is what orders
them). A body that stops half-way lets a test hold one request in the middle of its
chunk while the others run: the interleavings a browser retrying a chunk, or two tabs
uploading the same file, produce.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from deposits import uploads
from deposits.models import DepositFile, Event
from tests.views.conftest import signed_in

pytestmark = pytest.mark.django_db(transaction=True)

CHUNK = 256 * 1024  # four of the server's reads, so a body can stop in the middle
WAIT = 20


class HeldBody:
    """A request body whose first ``hold_at`` bytes arrive at once and the rest only when
    released; released as ``broken``, the connection ends there instead."""

    def __init__(self, data: bytes, hold_at: int) -> None:
        self.data, self.hold_at, self.pos = data, hold_at, 0
        self.holding = threading.Event()  # the server has read up to the hold
        self.released = threading.Event()
        self.broken = False

    def read(self, size: int = -1) -> bytes:
        if self.pos >= self.hold_at and not self.released.is_set():
            self.holding.set()
            self.released.wait(WAIT)
        if self.broken:
            return b""
        end = len(self.data) if size is None or size < 0 else self.pos + size
        if self.pos < self.hold_at:
            end = min(end, self.hold_at)
        data, self.pos = self.data[self.pos : end], min(end, len(self.data))
        return data

    def readline(self, size: int = -1) -> bytes:  # the WSGI input interface; unused here
        return self.read(size)

    def release(self, *, broken: bool = False) -> None:
        self.broken = broken
        self.released.set()


def put(client: Client, url: str, data: bytes, first: int, total: int, *, body: Any = None) -> Any:
    extra = {"wsgi.input": body} if body is not None else {}
    return client.put(
        url,
        data,
        content_type="application/octet-stream",
        headers={"Content-Range": f"bytes {first}-{first + len(data) - 1}/{total}"},
        **extra,
    )


class InThread:
    """One request in its own thread (and so its own database connection)."""

    started: list[InThread] = []

    def __init__(self, client: Client, url: str, data: bytes, first: int, total: int) -> None:
        self.body = HeldBody(data, hold_at=len(data) // 2)
        InThread.started.append(self)
        self.response: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(client, url, data, first, total))
        self.thread.start()
        for _ in range(WAIT * 10):
            if self.body.holding.wait(0.1) or not self.thread.is_alive():
                break
        assert self.body.holding.is_set(), (
            f"the request never reached the middle of its body: {self.error or self.response}"
        )

    def _run(self, client: Client, url: str, data: bytes, first: int, total: int) -> None:
        try:
            self.response = put(client, url, data, first, total, body=self.body)
        except BaseException as exc:  # reported by finish()
            self.error = exc
        finally:
            connections.close_all()

    def finish(self, *, broken: bool = False) -> Any:
        self.body.release(broken=broken)
        self.thread.join(WAIT)
        assert not self.thread.is_alive()
        assert self.error is None, f"the request failed on the server: {self.error!r}"
        return self.response


@pytest.fixture(autouse=True)
def no_request_left_behind() -> Any:
    """A failing test still lets its held requests end before its settings are undone."""
    yield
    while InThread.started:
        held = InThread.started.pop()
        held.body.release(broken=True)
        held.thread.join(WAIT)


def send_like_the_browser(client: Client, url: str, content: bytes) -> Any:
    """The page's uploader: chunk after chunk; a 409 with ``received`` resumes there."""
    offset, reply = 0, None
    for _ in range(20):
        if offset >= len(content):
            break
        reply = put(client, url, content[offset : offset + CHUNK], offset, len(content))
        assert reply.status_code in (200, 409), reply.content
        offset = reply.json()["received"]
    return reply


def announce(client: Client, deposit: Any, name: str, size: int) -> str:
    response = client.post(reverse("upload-start", args=[deposit.pk]), {"name": name, "size": size})
    assert response.status_code == 201, response.content
    return str(response.json()["url"])


def assert_stored_intact(deposit: Any, content: bytes) -> DepositFile:
    dfile = DepositFile.objects.get(deposit=deposit)
    assert dfile.status == "ready"
    assert dfile.size == dfile.received == len(content)
    with dfile.blob.open("rb") as stored:
        stored_bytes = stored.read()
    assert hashlib.md5(stored_bytes).hexdigest() == dfile.md5 == hashlib.md5(content).hexdigest()
    assert hashlib.sha256(stored_bytes).hexdigest() == dfile.sha256
    assert stored_bytes == content
    return dfile


def leftovers(settings: Any) -> list[str]:
    staging = Path(settings.UPLOAD_STAGING_DIR)
    return sorted(p.name for p in staging.iterdir()) if staging.exists() else []


def stored_files(settings: Any) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


@pytest.mark.parametrize("broken", [True, False], ids=["duplicate-breaks-off", "duplicate-ends"])
def test_a_duplicate_chunk_in_flight_cannot_damage_the_stored_copy(
    owner: Any, deposit: Any, settings: Any, broken: bool
) -> None:
    """The issue's corruption: a chunk's first copy is still arriving when its retry and
    the rest of the file go through; when it ends (or breaks off) it must change nothing."""
    content = os.urandom(2 * CHUNK)
    client = signed_in(owner)
    url = announce(client, deposit, "probe.bin", len(content))

    duplicate = InThread(signed_in(owner), url, content[:CHUNK], 0, len(content))
    last = send_like_the_browser(client, url, content)
    assert last.json()["status"] == "ready"
    late = duplicate.finish(broken=broken)

    if broken:
        assert late.status_code == 400
        assert "incomplete" in late.json()["error"]
    else:  # it arrived whole, but after the file was complete: told so, nothing counted
        assert late.status_code == 409
        assert late.json()["received"] == len(content)
    assert_stored_intact(deposit, content)
    assert Event.objects.filter(deposit=deposit, kind="file_added").count() == 1
    assert leftovers(settings) == []


def test_two_copies_of_the_last_chunk_at_once_store_the_file_once(
    owner: Any, deposit: Any, settings: Any
) -> None:
    content = os.urandom(CHUNK)
    url = announce(signed_in(owner), deposit, "probe.bin", len(content))

    first = InThread(signed_in(owner), url, content, 0, len(content))
    second = InThread(signed_in(owner), url, content, 0, len(content))
    first.body.release()
    second.body.release()
    replies = sorted((first.finish(), second.finish()), key=lambda r: r.status_code)

    assert [r.status_code for r in replies] == [200, 409]
    assert replies[0].json()["status"] == "ready"
    assert replies[1].json()["received"] == len(content)  # the uploader stops: all there
    assert_stored_intact(deposit, content)
    assert Event.objects.filter(deposit=deposit, kind="file_added").count() == 1
    assert len(stored_files(settings)) == 1  # no second copy left in storage
    assert leftovers(settings) == []


def test_two_copies_of_a_middle_chunk_at_once_advance_the_upload_once(
    owner: Any, deposit: Any
) -> None:
    content = os.urandom(3 * CHUNK)
    client = signed_in(owner)
    url = announce(client, deposit, "probe.bin", len(content))
    assert put(client, url, content[:CHUNK], 0, len(content)).status_code == 200

    middle = content[CHUNK : 2 * CHUNK]
    first = InThread(signed_in(owner), url, middle, CHUNK, len(content))
    second = InThread(signed_in(owner), url, middle, CHUNK, len(content))
    first.body.release()
    second.body.release()
    replies = sorted((first.finish(), second.finish()), key=lambda r: r.status_code)

    assert [r.status_code for r in replies] == [200, 409]
    assert [r.json()["received"] for r in replies] == [2 * CHUNK, 2 * CHUNK]
    assert DepositFile.objects.get().received == 2 * CHUNK
    assert put(client, url, content[2 * CHUNK :], 2 * CHUNK, len(content)).status_code == 200
    assert_stored_intact(deposit, content)


def test_where_an_upload_stands_counts_only_whole_chunks(owner: Any, deposit: Any) -> None:
    """Asked while a chunk is half-way in, the answer is what was kept, not what arrived."""
    content = os.urandom(2 * CHUNK)
    client = signed_in(owner)
    url = announce(client, deposit, "probe.bin", len(content))

    in_flight = InThread(signed_in(owner), url, content[:CHUNK], 0, len(content))
    assert client.get(url).json()["received"] == 0
    resumed = client.post(
        reverse("upload-start", args=[deposit.pk]), {"name": "probe.bin", "size": len(content)}
    )
    assert resumed.json()["received"] == 0
    assert in_flight.finish().json()["received"] == CHUNK
    assert client.get(url).json()["received"] == CHUNK

    assert put(client, url, content[CHUNK:], CHUNK, len(content)).json()["status"] == "ready"
    assert_stored_intact(deposit, content)


def test_a_lost_staging_file_sends_the_upload_back_to_its_start(owner: Any, deposit: Any) -> None:
    content = os.urandom(2 * CHUNK)
    client = signed_in(owner)
    url = announce(client, deposit, "probe.bin", len(content))
    assert put(client, url, content[:CHUNK], 0, len(content)).status_code == 200
    uploads.staging_path(DepositFile.objects.get()).unlink()  # a cleaned temp directory

    refused = put(client, url, content[CHUNK:], CHUNK, len(content))
    assert refused.status_code == 409 and refused.json()["received"] == 0
    assert send_like_the_browser(client, url, content).json()["status"] == "ready"
    assert_stored_intact(deposit, content)


def test_a_copy_arriving_while_the_file_is_being_finished_changes_nothing(
    owner: Any, deposit: Any
) -> None:
    """The window between the last bytes being recorded and the file being marked ready:
    its staging file is already moved into storage. A second copy of the chunk then must
    not look like the first one of a fresh upload (CI caught it once on PostgreSQL)."""
    content = os.urandom(CHUNK)
    client = signed_in(owner)
    url = announce(client, deposit, "probe.bin", len(content))
    DepositFile.objects.filter(deposit=deposit).update(received=len(content))  # finishing
    reply = put(client, url, content, 0, len(content))
    assert reply.status_code == 409
    assert reply.json()["received"] == len(content)
    assert DepositFile.objects.get(deposit=deposit).received == len(content)
