"""A local webhook receiver for the tests: an http.server on a free 127.0.0.1 port, in a
thread, that checks every request as a real receiver would, with the Standard Webhooks
library (``Webhook(secret).verify(body, headers)``: signature and timestamp)."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    error: str = ""
    payload: Any = None


@dataclass
class Receiver:
    secret: str
    # what to answer, in order (the last one repeats): a status, or (status, {headers})
    answers: list[Any] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    port: int = 0
    # the TLS server names clients asked for (SNI), when it serves https
    server_names: list[str | None] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def answer(self) -> tuple[int, dict[str, str]]:
        index = min(len(self.requests) - 1, len(self.answers) - 1)
        chosen = self.answers[index]
        return chosen if isinstance(chosen, tuple) else (chosen, {})


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items()}
            got = Received(self.path, headers, body, verified=False)
            try:
                got.payload = Webhook(receiver.secret).verify(body, headers)
                got.verified = True
            except WebhookVerificationError as exc:
                got.error = str(exc)
            receiver.requests.append(got)
            status, extra = receiver.answer() if got.verified else (400, {})
            reply = b"refused: " + got.error.encode() if not got.verified else b"ok"
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running(
    secret: str, answers: list[Any] | None = None, *, tls: ssl.SSLContext | None = None
) -> Iterator[Receiver]:
    receiver = Receiver(secret, answers or [200])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.port = int(server.server_address[1])
    if tls is not None:
        tls.sni_callback = lambda sock, name, ctx: receiver.server_names.append(name)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
