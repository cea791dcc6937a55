"""The forge sandbox's webhook deliveries, as a receiver on a real local port gets them:
GitHub's signatures and its three events per release (two for a pre-release's last, one
for a draft), GitLab's token header, no delivery for a lost webhook, redeliveries that
keep their id, and a receiver that is down or failing written down, not raised."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from tests.livesystem import free_port
from tests.sandbox.test_forge import control, make_repo

pytestmark = [pytest.mark.urls("sandbox.forge.root_urls"), pytest.mark.django_db]

SECRET = "demo-webhook-secret"


@dataclass
class Received:
    path: str
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A tiny HTTP server that keeps every request and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(Received(self.path, self.headers, body))
                reply = b'{"ok": true}' if receiver.status < 300 else b"broken"
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/x/"

    @contextlib.contextmanager
    def running(self) -> Iterator[Receiver]:
        thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()

    def releases(self) -> list[Received]:
        return [r for r in self.received if r.headers.get("X-GitHub-Event") != "ping"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as found:
        yield found


def github_signature_ok(request: Received, secret: str = SECRET) -> bool:
    key = secret.encode()
    sha256 = "sha256=" + hmac.new(key, request.body, hashlib.sha256).hexdigest()
    sha1 = "sha1=" + hmac.new(key, request.body, hashlib.sha1).hexdigest()
    return hmac.compare_digest(request.headers["X-Hub-Signature-256"], sha256) and (
        hmac.compare_digest(request.headers["X-Hub-Signature"], sha1)
    )


def hook(
    client: Client, url: str, forge: str = "github", path: str = "octo/demo", **extra: Any
) -> Any:
    response = control(
        client, "hooks", {"forge": forge, "path": path, "url": url, "secret": SECRET, **extra}
    )
    assert response.status_code == 201, response.content
    return response.json()


def publish(
    client: Client, tag: str, forge: str = "github", path: str = "octo/demo", **extra: Any
) -> Any:
    response = control(client, "releases", {"forge": forge, "path": path, "tag": tag, **extra})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_github_hook_is_pinged_signed(client: Client, receiver: Receiver) -> None:
    make_repo(client)
    made = hook(client, receiver.url)

    (ping,) = receiver.received
    assert ping.path == "/hooks/x/"
    assert ping.headers["X-GitHub-Event"] == "ping"
    assert ping.headers["X-GitHub-Hook-ID"] == str(made["hook"]["id"])
    assert ping.json()["hook_id"] == made["hook"]["id"] and ping.json()["zen"]
    assert github_signature_ok(ping)
    assert made["deliveries"][0]["status"] == 200


def test_a_github_release_is_delivered_as_three_signed_events(
    client: Client, receiver: Receiver
) -> None:
    make_repo(client)
    made = hook(client, receiver.url)

    reply = publish(client, "v1.0")

    sent = receiver.releases()
    assert [r.json()["action"] for r in sent] == ["created", "published", "released"]
    assert [d["action"] for d in reply["deliveries"]] == ["created", "published", "released"]
    assert all(d["status"] == 200 and d["ms"] is not None for d in reply["deliveries"])
    ids = [r.headers["X-GitHub-Delivery"] for r in sent]
    assert len(set(ids)) == 3 and ids == [d["id"] for d in reply["deliveries"]]
    assert {r.json()["release"]["id"] for r in sent} == {reply["release"]["id"]}
    for request in sent:
        assert github_signature_ok(request)
        assert request.headers["X-GitHub-Event"] == "release"
        assert request.headers["X-GitHub-Hook-ID"] == str(made["hook"]["id"])
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["User-Agent"].startswith("GitHub-Hookshot/")
        body = request.json()
        assert body["repository"]["full_name"] == "octo/demo"
        assert body["release"]["zipball_url"] == "http://testserver/repos/octo/demo/zipball/v1.0"
        assert body["sender"]["login"]
    assert not github_signature_ok(sent[0], "another-secret")


def test_a_pre_release_ends_with_prereleased_and_a_draft_sends_only_created(
    client: Client, receiver: Receiver
) -> None:
    make_repo(client)
    hook(client, receiver.url)

    publish(client, "v2.0-rc1", prerelease=True)
    pre = [r.json()["action"] for r in receiver.releases()]
    publish(client, "v3.0", draft=True, files={"CHANGES.md": "three"})
    draft = [r.json() for r in receiver.releases()[3:]]
    published = publish(client, "v3.0")  # the saved draft, published now
    zipball = client.get(client.get(published["release"]["zipball_url"])["Location"])
    later = [r.json()["action"] for r in receiver.releases()[4:]]

    assert pre == ["created", "published", "prereleased"]
    assert [(b["action"], b["release"]["draft"]) for b in draft] == [("created", True)]
    assert later == ["published", "released"]
    assert published["release"]["id"] == draft[0]["release"]["id"]
    assert published["release"]["draft"] is False
    with zipfile.ZipFile(io.BytesIO(zipball.content)) as archive:
        assert any(name.endswith("/CHANGES.md") for name in archive.namelist())


def test_a_release_without_delivery_sends_nothing_but_is_listed(
    client: Client, receiver: Receiver
) -> None:
    make_repo(client)
    hook(client, receiver.url)

    reply = publish(client, "v1.0", deliver=False)

    assert reply["deliveries"] == [] and receiver.releases() == []
    listed = client.get("/repos/octo/demo/releases").json()
    assert [r["tag_name"] for r in listed] == ["v1.0"]


def test_a_redelivery_keeps_the_delivery_id_and_body_and_is_signed_again(
    client: Client, receiver: Receiver
) -> None:
    make_repo(client)
    hook(client, receiver.url)
    first = publish(client, "v1.0")["deliveries"][1]
    hook(client, receiver.url, secret="rotated-secret")  # the same hook, a new secret

    again = control(client, "redeliver", {"delivery": first["id"]})

    assert again.status_code == 201
    assert again.json()["delivery"]["id"] == first["id"]
    assert again.json()["delivery"]["redelivery"] is True
    original, resent = receiver.releases()[1], receiver.releases()[-1]
    assert len(receiver.releases()) == 4
    assert resent.headers["X-GitHub-Delivery"] == original.headers["X-GitHub-Delivery"]
    assert resent.body == original.body
    assert github_signature_ok(resent, "rotated-secret")
    by_row = control(client, "redeliver", {"delivery": first["pk"]})
    assert by_row.json()["delivery"]["id"] == first["id"]
    assert control(client, "redeliver", {"delivery": "nope"}).status_code == 404


def test_a_gitlab_release_is_delivered_with_its_token_header(
    client: Client, receiver: Receiver
) -> None:
    repo = make_repo(client, forge="gitlab", path="grp/tool")
    made = hook(client, receiver.url, forge="gitlab", path="grp/tool")

    reply = publish(client, "v1.0", forge="gitlab", path="grp/tool")

    assert made["deliveries"] == []  # GitLab sends no ping
    (request,) = receiver.received
    assert request.headers["X-Gitlab-Token"] == SECRET
    assert request.headers["X-Gitlab-Event"] == "Release Hook"
    assert request.headers["X-Gitlab-Event-UUID"] == reply["deliveries"][0]["id"]
    assert request.headers["X-Gitlab-Webhook-UUID"] == made["hook"]["uuid"]
    body = request.json()
    assert (body["object_kind"], body["action"], body["tag"]) == ("release", "create", "v1.0")
    assert body["project"] == {
        "id": repo["id"],
        "name": "tool",
        "path_with_namespace": "grp/tool",
        "web_url": "http://testserver/grp/tool",
    }
    zip_url = next(s["url"] for s in body["assets"]["sources"] if s["format"] == "zip")
    assert client.get(zip_url).status_code == 200
    (logged,) = client.get("/_control/deliveries").json()["deliveries"]
    assert logged["request"]["headers"]["X-Gitlab-Token"] == "[REDACTED]"
    assert SECRET not in json.dumps(logged)


def test_a_hook_without_a_secret_gets_unsigned_deliveries(
    client: Client, receiver: Receiver
) -> None:
    make_repo(client)
    hook(client, receiver.url, secret="")
    publish(client, "v1.0")
    assert all("X-Hub-Signature-256" not in r.headers for r in receiver.received)


def test_a_receiver_that_is_down_or_failing_is_written_down(
    client: Client, receiver: Receiver
) -> None:
    make_repo(client)
    down = f"http://127.0.0.1:{free_port()}/hook"
    hook(client, down)
    receiver.status = 500
    hook(client, receiver.url)

    reply = publish(client, "v1.0")

    by_hook: dict[Any, list[Any]] = {}
    for delivery in reply["deliveries"]:
        by_hook.setdefault(delivery["status"], []).append(delivery)
    assert len(by_hook[None]) == 3 and len(by_hook[500]) == 3
    assert {d["error"] for d in by_hook[None]} == {
        f"Could not deliver to {down}: Connection refused."
    }
    logged = client.get("/_control/deliveries").json()["deliveries"]
    failing = [d for d in logged if d["status"] == 500]
    assert failing and all(d["response"]["body"] == "broken" for d in failing)
    page = client.get("/").content.decode()
    assert "Could not deliver" in page and 'data-status="500"' in page
