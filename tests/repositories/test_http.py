"""The HTTP choke point: allowlist, limiter, timeouts, redaction, streaming uploads."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import threading
import time
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any, cast

import pytest
import requests
import responses

from deposits.repositories.base import (
    AuthError,
    RateLimited,
    TransientError,
    UnsafeURL,
    ValidationFailed,
)
from deposits.repositories.http import HttpClient, host_allowed, redact_url
from deposits.repositories.limiter import RateWindow

from .conftest import BASE, TOKEN


def test_it_sends_the_token_and_an_identifying_user_agent(client, records):
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/deposit/depositions", json=[], headers={"X-RateLimit-Limit": "100"})
        client.request("GET", "deposit/depositions", params={"size": 1})
        sent = rsps.calls[0].request
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["User-Agent"].startswith("deposit-portal/")
    assert "python-requests" not in sent.headers["User-Agent"]
    (record,) = records
    assert (record.method, record.status, record.error) == ("GET", 200, "")
    assert record.url == f"{BASE}/deposit/depositions?size=1"
    assert record.rate_headers == {"X-RateLimit-Limit": "100"}


def test_it_refuses_hosts_outside_the_allowlist_and_sends_nothing(client, records):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.put("https://evil.example/upload", json={})
        with pytest.raises(UnsafeURL) as caught:
            client.request("PUT", "https://evil.example/upload?access_token=abc")
        assert len(rsps.calls) == 0
    assert records == []
    assert "abc" not in str(caught.value)


def test_it_refuses_a_base_url_outside_the_allowlist(connector):
    with pytest.raises(UnsafeURL):
        HttpClient(
            base_url="https://zenodo.org.evil.example/api",
            token=TOKEN,
            label=connector.label,
            parse_error=connector.parse_error,
            auth_header=connector.auth_header,
            limiter=None,
            limiter_key="k",
            windows=list(connector.default_rate_windows),
            allowed_hosts=["zenodo.org"],
        )


def test_it_uses_the_settings_allowlist_by_default(connector, settings):
    settings.ALLOWED_REPOSITORY_HOSTS = ["sandbox.zenodo.org"]
    with pytest.raises(UnsafeURL):
        HttpClient(
            base_url=BASE,
            token=TOKEN,
            label=connector.label,
            parse_error=connector.parse_error,
            auth_header=connector.auth_header,
            limiter=None,
            limiter_key="k",
            windows=list(connector.default_rate_windows),
        )


@pytest.mark.parametrize(
    ("url", "allowed", "ok"),
    [
        ("https://zenodo.org/api", ["zenodo.org"], True),
        ("https://ZENODO.org:443/api", ["zenodo.org"], True),
        ("http://127.0.0.1:8000/sandbox", ["127.0.0.1:8000"], True),
        ("http://127.0.0.1:9000/sandbox", ["127.0.0.1:8000"], False),
        ("https://sandbox.zenodo.org/api", ["zenodo.org"], False),
        ("https://user:pw@zenodo.org/api", ["zenodo.org"], False),
        ("ftp://zenodo.org/api", ["zenodo.org"], False),
        ("http://[::1]:8000/x", ["[::1]:8000"], True),
    ],
)
def test_host_allowed(url, allowed, ok):
    assert host_allowed(url, allowed) is ok


def test_redirects_pass_the_allowlist_too(client):
    with responses.RequestsMock() as rsps:
        rsps.get(
            f"{BASE}/records/1/versions/latest",
            status=302,
            headers={"Location": "https://elsewhere.example/records/2"},
        )
        with pytest.raises(UnsafeURL):
            client.request("GET", "records/1/versions/latest")


def test_redirects_within_the_allowlist_are_followed(client):
    with responses.RequestsMock() as rsps:
        rsps.get(
            f"{BASE}/records/1/versions/latest", status=302, headers={"Location": "/api/records/2"}
        )
        rsps.get(f"{BASE}/records/2", json={"id": 2})
        assert client.request("GET", "records/1/versions/latest").json() == {"id": 2}


def test_a_redirect_to_another_allowed_origin_never_gets_the_token(client, records):
    client.allowed_hosts.append("files.zenodo.org")
    with responses.RequestsMock() as rsps:
        rsps.get(
            f"{BASE}/records/1",
            status=302,
            headers={"Location": "https://files.zenodo.org/records/1"},
        )
        with pytest.raises(UnsafeURL, match="redirected to another site") as refused:
            client.request("GET", "records/1")
        assert len(rsps.calls) == 1  # the other site was never asked, so nothing it says
    assert "token goes only to https://zenodo.org/api" in refused.value.message
    assert refused.value.permanent and TOKEN not in refused.value.message


def test_a_link_to_another_origin_is_refused_with_the_token_and_sent_without_it(client):
    client.allowed_hosts.append("zenodo.org:8443")
    with responses.RequestsMock() as rsps:
        with pytest.raises(UnsafeURL, match="gave a link to another site"):
            client.request("PUT", "https://zenodo.org:8443/api/files/b/x", data=b"x")
        assert client.writes_sent == 0 and not rsps.calls
        # an upload URL a repository hands out travels without any credential
        rsps.put("https://zenodo.org:8443/api/files/b/x", json={"key": "x"})
        client.request("PUT", "https://zenodo.org:8443/api/files/b/x", data=b"x", auth=False)
        assert "Authorization" not in rsps.calls[0].request.headers


def test_a_same_origin_redirect_keeps_the_token(client):
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/records/1", status=301, headers={"Location": "/api/records/2"})
        rsps.get(f"{BASE}/records/2", json={"id": 2})
        assert client.request("GET", "records/1").json() == {"id": 2}
        assert rsps.calls[1].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_the_token_never_reaches_records_exceptions_or_logs(client, records, caplog):
    caplog.set_level(logging.DEBUG)
    echo = {"message": f"Bad token {TOKEN} in Authorization: Bearer {TOKEN}", "status": 401}
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/deposit/depositions", json=echo, status=401)
        rsps.get(f"{BASE}/deposit/depositions/1", body=requests.ConnectionError(f"reset {TOKEN}"))
        with pytest.raises(AuthError) as auth:
            client.request("GET", "deposit/depositions", params={"access_token": TOKEN, "q": "x"})
        with pytest.raises(TransientError) as reset:
            client.request("GET", "deposit/depositions/1")
    for exc in (auth.value, reset.value):
        assert TOKEN not in str(exc)
        assert TOKEN not in repr(exc.args)
        assert exc.__cause__ is None  # the requests exception quotes URLs: not chained
        assert all(TOKEN not in p.message for p in exc.problems)
    assert len(records) == 2
    for record in records:
        assert TOKEN not in repr(record)
    assert "access_token=[redacted]&q=x" in records[0].url
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(client)


def test_redact_url():
    assert redact_url("https://u:p@zenodo.org/api?access_token=x&page=2&apikey=y") == (
        "https://zenodo.org/api?access_token=[redacted]&page=2&apikey=[redacted]"
    )


def test_a_read_timeout_is_transient_with_a_readable_message(client, records):
    with responses.RequestsMock() as rsps:
        rsps.post(
            f"{BASE}/deposit/depositions/1/actions/publish", body=requests.ReadTimeout("slow")
        )
        with pytest.raises(TransientError) as caught:
            client.request("POST", "deposit/depositions/1/actions/publish")
    assert str(caught.value) == "Zenodo did not answer within 120 s; retrying."
    assert not caught.value.permanent
    (record,) = records
    assert record.status is None
    assert "did not answer" in record.error


@pytest.mark.parametrize(
    "exc",
    [
        requests.ConnectTimeout("x"),
        requests.ConnectionError("reset by peer"),
        requests.exceptions.ChunkedEncodingError("cut"),
    ],
)
def test_transport_failures_are_transient(client, exc):
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/x", body=exc)
        with pytest.raises(TransientError):
            client.request("GET", "x")


def test_error_replies_go_through_the_connector(client):
    body = {
        "status": 400,
        "message": "A validation error occurred.",
        "errors": [{"field": "metadata.creators.0.name", "messages": ["Name is required."]}],
    }
    with responses.RequestsMock() as rsps:
        rsps.put(f"{BASE}/deposit/depositions/1", json=body, status=400)
        with pytest.raises(ValidationFailed) as caught:
            client.request("PUT", "deposit/depositions/1", json={"metadata": {}})
    assert caught.value.problems[0].field == "creators.0.name"
    assert caught.value.status == 400


def test_a_429_carries_retry_after(client):
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/x", status=429, body="100 per 1 minute", headers={"Retry-After": "39"})
        with pytest.raises(RateLimited) as caught:
            client.request("GET", "x")
    assert caught.value.retry_after == 39


class _FixedLimiter:
    def __init__(self, wait: float) -> None:
        self.wait = wait
        self.observed: list[tuple[int, dict[str, str]]] = []

    def acquire(self, key: str, windows: Any, *, priority: str = "interactive") -> float:
        self.priority = priority
        return self.wait

    def observe(self, key: str, windows: Any, *, status: int, headers: Any) -> None:
        self.observed.append((status, dict(headers)))

    def paused_by_server(self, key: str) -> bool:
        return False


def _client_with(connector, limiter, **kw):
    return HttpClient(
        base_url=BASE,
        token=TOKEN,
        label=connector.label,
        parse_error=connector.parse_error,
        auth_header=connector.auth_header,
        limiter=limiter,
        limiter_key="zenodo.org:1",
        windows=list(connector.default_rate_windows),
        allowed_hosts=["zenodo.org"],
        **kw,
    )


def test_no_budget_means_rate_limited_without_sending(connector):
    limiter = _FixedLimiter(12.5)
    client = _client_with(connector, limiter, priority="background")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(f"{BASE}/x", json={})
        with pytest.raises(RateLimited) as caught:
            client.request("GET", "x")
        assert len(rsps.calls) == 0
    assert caught.value.retry_after == 12.5
    assert limiter.priority == "background"


def test_the_server_reply_feeds_the_limiter(connector):
    limiter = _FixedLimiter(0.0)
    client = _client_with(connector, limiter)
    headers = {
        "X-RateLimit-Limit": "100",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1",
        "Date": "x",
    }
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/x", json={}, headers=headers)
        client.request("GET", "x")
    ((status, seen),) = limiter.observed
    assert status == 200
    assert seen["X-RateLimit-Remaining"] == "0"


def test_a_429_blocks_the_next_call_of_every_worker(connector, limiter, limiter_key):
    client = HttpClient(
        base_url=BASE,
        token=TOKEN,
        label=connector.label,
        parse_error=connector.parse_error,
        auth_header=connector.auth_header,
        limiter=limiter,
        limiter_key=limiter_key,
        windows=list(connector.default_rate_windows),
        allowed_hosts=["zenodo.org"],
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(
            f"{BASE}/x", status=429, json={"message": "slow down"}, headers={"Retry-After": "30"}
        )
        with pytest.raises(RateLimited):
            client.request("GET", "x")
        with pytest.raises(RateLimited) as second:
            client.request("GET", "x")
        assert len(rsps.calls) == 1
    assert second.value.retry_after is not None
    assert 29 < second.value.retry_after <= 30


# --------------------------------------------------------------------------- uploads


class _Generated(io.RawIOBase):
    """``size`` bytes made up on the fly: nothing large is ever held in memory."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.pos = 0
        self.md5 = hashlib.md5()

    def read(self, n: int | None = -1) -> bytes:
        n = self.size - self.pos if n is None or n < 0 else min(n, self.size - self.pos)
        chunk = bytes([self.pos % 251]) * n
        self.pos += n
        self.md5.update(chunk)
        return chunk


class _BucketHandler(BaseHTTPRequestHandler):
    def do_PUT(self) -> None:
        remaining = int(self.headers["Content-Length"])
        digest = hashlib.md5()
        while remaining:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
        body = json.dumps(
            {
                "key": self.path.rsplit("/", 1)[-1],
                "checksum": f"md5:{digest.hexdigest()}",
                "content_type": self.headers.get("Content-Type"),
                "chunked": self.headers.get("Transfer-Encoding"),
            }
        ).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def bucket_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BucketHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_uploads_stream_with_flat_memory_and_report_progress(connector, bucket_server):
    size = 64 * 1024 * 1024
    client = HttpClient(
        base_url=f"{bucket_server}/api",
        token=TOKEN,
        label=connector.label,
        parse_error=connector.parse_error,
        auth_header=connector.auth_header,
        limiter=None,
        limiter_key="local",
        windows=list(connector.default_rate_windows),
        allowed_hosts=["127.0.0.1"],
    )
    source = _Generated(size)
    reports: list[int] = []
    tracemalloc.start()
    try:
        response = client.upload(
            "PUT",
            "files/bucket/big.bin",
            fileobj=cast(IO[bytes], source),
            size=size,
            progress=reports.append,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    reply = response.json()
    assert reply["checksum"] == f"md5:{source.md5.hexdigest()}"
    assert reply["content_type"] == "application/octet-stream"
    assert reply["chunked"] is None  # Content-Length, as Zenodo's bucket needs
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes for a {size} byte upload"
    assert reports == sorted(reports)
    assert reports[-1] == size
    # a few reports, not one per buffer: every 8 MiB or half second
    assert 2 <= len(reports) <= size // (8 * 1024 * 1024) + 20


def test_running_flat_out_uses_the_budget_without_a_single_429(connector, limiter, limiter_key):
    """A Zenodo-like moving window of 20 per second on the server; we send as fast as the
    limiter lets us for 2.2 s and wait only the time it says."""
    windows = [RateWindow(20, 1)]
    arrivals: list[float] = []
    statuses: list[int] = []

    def server(request):
        now = time.time()
        recent = [t for t in arrivals if t > now - 1]
        arrivals.append(now)
        status = 429 if len(recent) >= 20 else 200
        statuses.append(status)
        headers = {
            "X-RateLimit-Limit": "20",
            "X-RateLimit-Remaining": str(max(0, 19 - len(recent))),
        }
        return status, headers, "{}"

    client = HttpClient(
        base_url=BASE,
        token=TOKEN,
        label=connector.label,
        parse_error=connector.parse_error,
        auth_header=connector.auth_header,
        limiter=limiter,
        limiter_key=limiter_key,
        windows=windows,
        allowed_hosts=["zenodo.org"],
    )
    stop = time.monotonic() + 2.2
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.GET, f"{BASE}/x", callback=server)
        while time.monotonic() < stop:
            try:
                client.request("GET", "x")
            except RateLimited as exc:
                time.sleep(min(exc.retry_after or 0.01, max(0.0, stop - time.monotonic())))
    assert 429 not in statuses
    assert len(statuses) >= 0.95 * 20 * 2


@responses.activate
def test_a_redirect_can_be_read_instead_of_followed(client):  # type: ignore[no-untyped-def]
    responses.add(responses.GET, f"{BASE}/api", status=302, headers={"Location": f"{BASE}/api/v1"})
    reply = client.request("GET", f"{BASE}/api", follow_redirects=False)
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/api/v1")
    assert len(responses.calls) == 1


@responses.activate
def test_a_request_without_auth_carries_no_credential(client):  # type: ignore[no-untyped-def]
    responses.add(responses.POST, f"{BASE}/upload", status=201, json={})
    client.upload("POST", f"{BASE}/upload", fileobj=io.BytesIO(b"abc"), size=3, auth=False)
    sent = responses.calls[0].request.headers
    assert "Authorization" not in sent
    assert TOKEN not in str(dict(sent))


# ---------------------------------------------------------------- hostile replies


class _HostileHandler(BaseHTTPRequestHandler):
    """A repository that misbehaves as the path says: trickles its reply a byte at a
    time, announces or streams a huge reply, or takes an upload's bytes very slowly."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.endswith("/trickle"):
            self._reply_head(length=1000)
            for _ in range(1000):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.2)
        elif self.path.endswith("/announced-huge"):
            self._reply_head(length=400_000_000)
            self.wfile.write(b"[" * 1024)
        elif self.path.endswith("/streamed-huge"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * 65536
            with contextlib.suppress(OSError):
                for _ in range(800):  # 50 MiB if nobody stops reading
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")

    def do_PUT(self) -> None:
        remaining = int(self.headers["Content-Length"])
        with contextlib.suppress(OSError):
            while remaining:
                chunk = self.rfile.read(min(remaining, 16 * 1024))
                if not chunk:
                    return
                remaining -= len(chunk)
                time.sleep(0.2)
            self._reply_head(length=2)
            self.wfile.write(b"{}")

    def _reply_head(self, *, length: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hostile_client(connector, records, settings) -> Iterator[HttpClient]:
    settings.HTTP_TOTAL_TIMEOUT = 1.5
    settings.HTTP_MAX_REPLY_BYTES = 1_000_000
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostileHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield HttpClient(
        base_url=f"http://127.0.0.1:{server.server_port}/api",
        token=TOKEN,
        label=connector.label,
        parse_error=connector.parse_error,
        auth_header=connector.auth_header,
        limiter=None,
        limiter_key="local",
        windows=list(connector.default_rate_windows),
        allowed_hosts=["127.0.0.1"],
        record=records.append,
    )
    server.shutdown()
    server.server_close()


def test_a_reply_trickling_in_is_given_up_at_the_total_deadline(hostile_client, records):
    """A byte every 0.2 s never trips the 120 s read timeout; the deadline ends it."""
    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        hostile_client.request("GET", "records/trickle")
    assert time.monotonic() - started < 4
    assert "did not finish the exchange within 2 s" in caught.value.message
    assert records[-1].status == 200
    assert "too slowly" in records[-1].error


def test_a_reply_announced_larger_than_the_cap_is_not_read(hostile_client, records):
    with pytest.raises(TransientError) as caught:
        hostile_client.request("GET", "records/announced-huge")
    message = caught.value.message
    assert "a reply of more than 1.0 MB (at least 400.0 MB); it was not read" in message
    assert (records[-1].status, records[-1].error) == (200, message)


def test_a_streamed_reply_is_cut_off_at_the_cap_with_flat_memory(hostile_client):
    tracemalloc.start()
    try:
        with pytest.raises(TransientError) as caught:
            hostile_client.request("GET", "records/streamed-huge")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "a reply of more than 1.0 MB" in caught.value.message
    assert peak < 4_000_000, f"peak {peak} bytes for a reply capped at 1 MB"


def test_an_upload_the_server_takes_too_slowly_is_given_up(hostile_client, settings):
    """16 KiB every 0.2 s: 8 MiB would take 100 s. The allowance is the total timeout
    plus the size at the slowest rate worth waiting for (here 8 MiB/s, so ~2.5 s)."""
    settings.HTTP_MIN_UPLOAD_RATE = 8 * 1024 * 1024
    client = HttpClient(
        base_url=hostile_client.base_url,
        token=TOKEN,
        label=hostile_client.label,
        parse_error=hostile_client.parse_error,
        limiter=None,
        limiter_key="local",
        windows=hostile_client.windows,
        allowed_hosts=["127.0.0.1"],
    )
    size = 8 * 1024 * 1024
    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        client.upload("PUT", "files/b/slow.bin", fileobj=io.BytesIO(b"z" * size), size=size)
    assert time.monotonic() - started < 8
    assert "did not finish the exchange within 2 s" in caught.value.message


def test_a_429_without_retry_after_says_so_and_how_long_the_account_pauses(
    connector, limiter, limiter_key
):
    client = HttpClient(
        base_url=BASE,
        token=TOKEN,
        label=connector.label,
        parse_error=connector.parse_error,
        limiter=limiter,
        limiter_key=limiter_key,
        windows=list(connector.default_rate_windows),
        allowed_hosts=["zenodo.org"],
    )
    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/deposit/depositions", status=429, body="Too many requests")
        with pytest.raises(RateLimited) as caught:
            client.request("POST", "deposit/depositions", json={})
        assert caught.value.retry_after == 2
        assert "did not say when to try again (no Retry-After)" in caught.value.message
        assert "pauses 2 s" in caught.value.message
        # every other request of the account waits, and says why
        with pytest.raises(RateLimited) as waiting:
            client.request("GET", "deposit/depositions")
        assert len(rsps.calls) == 1
    assert "asked the portal to slow down" in waiting.value.message
    assert 1 < (waiting.value.retry_after or 0) <= 2
