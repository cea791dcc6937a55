"""Against the real web server: a body larger than its route allows is refused by its
declared length, without waiting for (or storing) the body."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.livesystem import LiveSystem

pytestmark = [pytest.mark.e2e]


def test_the_server_answers_413_without_waiting_for_the_body(live_system: LiveSystem) -> None:
    """Against the real web server: 568 MB declared, 64 KB sent, refused at once."""
    parts = urlsplit(live_system.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(
            b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 568000000\r\n\r\n" + b"\0" * 65536
        )
        started = time.monotonic()
        reply = conn.recv(4096).decode(errors="replace")
    assert reply.startswith("HTTP/1.1 413"), reply[:200]
    assert time.monotonic() - started < 5
