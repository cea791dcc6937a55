"""The endpoint's checks of who sent a delivery: GitHub's X-Hub-Signature-256 (HMAC-SHA256
over the raw body) and GitLab's X-Gitlab-Token, and what a refusal says and changes."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from celery import current_app
from django.test import Client
from django.urls import reverse

from deposits.models import Delivery, Release, ReleaseSource
from tests.factories import ReleaseSourceFactory

SECRET = "test-webhook-secret"


def github_release(release_id: int = 101, tag: str = "v1.0.0", **changes: Any) -> dict[str, Any]:
    """A release object as GitHub's webhook and REST API give it."""
    release: dict[str, Any] = {
        "id": release_id,
        "tag_name": tag,
        "name": f"Release {tag}",
        "body": "Notes",
        "draft": False,
        "prerelease": False,
        "created_at": "2026-11-01T10:00:00Z",
        "published_at": "2026-11-01T10:05:00Z",
        "html_url": f"https://github.com/lab/analysis/releases/tag/{tag}",
        "url": f"https://api.github.com/repos/lab/analysis/releases/{release_id}",
        "zipball_url": f"https://api.github.com/repos/lab/analysis/zipball/{tag}",
        "tarball_url": f"https://api.github.com/repos/lab/analysis/tarball/{tag}",
        "author": {"login": "ada"},
    }
    release.update(changes)
    return release


def github_body(action: str = "published", **release: Any) -> bytes:
    return json.dumps(
        {
            "action": action,
            "release": github_release(**release),
            "repository": {
                "id": 7,
                "full_name": "lab/analysis",
                "html_url": "https://github.com/lab/analysis",
            },
            "sender": {"login": "ada"},
        }
    ).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_headers(
    body: bytes, *, event: str = "release", delivery: str | None = None, secret: str = SECRET
) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, secret),
        "User-Agent": "GitHub-Hookshot/abc123",
    }


def post(client: Client, source: ReleaseSource, body: bytes, headers: dict[str, str]) -> Any:
    url = reverse("release-hook", args=[source.key])
    return client.post(url, data=body, content_type="application/json", headers=headers)


def gitlab_body(action: str = "create", tag: str = "v1.0.0", **changes: Any) -> bytes:
    data: dict[str, Any] = {
        "object_kind": "release",
        "action": action,
        "id": 3,
        "tag": tag,
        "name": f"Release {tag}",
        "description": "Notes",
        "released_at": "2026-11-01T10:05:00Z",
        "url": f"https://gitlab.com/lab/analysis/-/releases/{tag}",
        "project": {
            "id": 9,
            "path_with_namespace": "lab/analysis",
            "web_url": "https://gitlab.com/lab/analysis",
        },
        "assets": {
            "sources": [
                {
                    "format": "zip",
                    "url": f"https://gitlab.com/lab/analysis/-/archive/{tag}/analysis-{tag}.zip",
                },
                {
                    "format": "tar.gz",
                    "url": f"https://gitlab.com/lab/analysis/-/archive/{tag}/analysis-{tag}.tar.gz",
                },
            ]
        },
    }
    data.update(changes)
    return json.dumps(data).encode()


def gitlab_headers(token: str = SECRET, **extra: str) -> dict[str, str]:
    headers = {
        "X-Gitlab-Event": "Release Hook",
        "X-Gitlab-Event-UUID": str(uuid.uuid4()),
        "X-Gitlab-Webhook-UUID": str(uuid.uuid4()),
        **extra,
    }
    if token:
        headers["X-Gitlab-Token"] = token
    return headers


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, list[Any]]]]:
    """The tasks handed to the broker (the broker itself is not what is tested here)."""
    calls: list[tuple[str, list[Any]]] = []

    def send_task(name: str, args: list[Any] | None = None, **kwargs: Any) -> None:
        calls.append((name, list(args or [])))

    monkeypatch.setattr(current_app, "send_task", send_task)
    yield calls


@pytest.fixture
def source(db: Any) -> ReleaseSource:
    return ReleaseSourceFactory(repository="lab/analysis")


@pytest.fixture
def gitlab_source(db: Any) -> ReleaseSource:
    return ReleaseSourceFactory(
        forge="gitlab", repository="lab/analysis", api_url="https://gitlab.com/api/v4"
    )


def assert_nothing_recorded(source: ReleaseSource) -> None:
    assert not Release.objects.filter(source=source).exists()


def assert_secret_not_in(text: str, body: bytes) -> None:
    assert SECRET not in text
    assert sign(body).split("=", 1)[1] not in text


# --------------------------------------------------------------------------- GitHub


def test_it_accepts_a_correctly_signed_release(
    client: Client, source: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    body = github_body()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, source, body, github_headers(body, delivery="d-1"))
    assert response.status_code == 202
    assert response.json()["release"] == "v1.0.0"
    release = Release.objects.get(source=source)
    assert release.status == "received"
    delivery = Delivery.objects.get(source=source)
    assert (delivery.outcome, delivery.verified, delivery.delivery_id) == ("accepted", True, "d-1")
    assert delivery.release == release
    assert sent == [("deposits.tasks.import_release", [release.pk])]


def test_it_refuses_a_request_without_signature(client: Client, source: ReleaseSource) -> None:
    body = github_body()
    headers = github_headers(body)
    del headers["X-Hub-Signature-256"]
    response = post(client, source, body, headers)
    assert response.status_code == 401
    assert "X-Hub-Signature-256" in response.json()["message"]
    assert_nothing_recorded(source)
    delivery = Delivery.objects.get(source=source)
    assert (delivery.outcome, delivery.verified, delivery.http_status) == ("refused", False, 401)


def test_it_refuses_a_signature_made_with_another_secret(
    client: Client, source: ReleaseSource
) -> None:
    body = github_body()
    response = post(client, source, body, github_headers(body, secret="not-the-secret"))
    assert response.status_code == 403
    assert_secret_not_in(response.content.decode(), body)
    assert_nothing_recorded(source)
    delivery = Delivery.objects.get(source=source)
    assert (delivery.outcome, delivery.verified) == ("refused", False)
    assert_secret_not_in(delivery.message, body)


def test_it_refuses_a_signature_computed_over_another_body(
    client: Client, source: ReleaseSource
) -> None:
    signed = github_body(tag="v1.0.0")
    tampered = github_body(tag="v6.6.6")
    response = post(client, source, tampered, github_headers(signed))
    assert response.status_code == 403
    assert_nothing_recorded(source)


def test_it_refuses_a_signature_that_is_not_sha256(client: Client, source: ReleaseSource) -> None:
    body = github_body()
    headers = github_headers(body)
    headers["X-Hub-Signature-256"] = "sha1=" + hmac.new(SECRET.encode(), body, "sha1").hexdigest()
    assert post(client, source, body, headers).status_code == 403
    assert_nothing_recorded(source)


def test_a_replayed_delivery_creates_nothing_new(
    client: Client, source: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    body = github_body()
    headers = github_headers(body, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, source, body, headers).status_code == 202
        again = post(client, source, body, headers)
    assert again.status_code == 200
    assert again.json()["message"].startswith(
        "Delivery 72d3162e-cc78-11e3-81ab-4c9367dc0958 was already received"
    )
    assert Release.objects.filter(source=source).count() == 1
    assert len(sent) == 1
    outcomes = list(
        Delivery.objects.filter(source=source).order_by("pk").values_list("outcome", flat=True)
    )
    assert outcomes == ["accepted", "duplicate"]


def test_a_forged_request_cannot_take_a_real_deliverys_id_first(
    client: Client, source: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    body = github_body()
    forged = github_headers(body, delivery="d-42", secret="guessed")
    assert post(client, source, body, forged).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        real = post(client, source, body, github_headers(body, delivery="d-42"))
    assert real.status_code == 202
    assert Release.objects.filter(source=source).count() == 1


def test_an_unknown_endpoint_is_404_and_writes_nothing(
    client: Client, source: ReleaseSource
) -> None:
    body = github_body()
    url = reverse("release-hook", args=["no-such-key"])
    response = client.post(
        url, data=body, content_type="application/json", headers=github_headers(body)
    )
    assert response.status_code == 404
    assert not Delivery.objects.exists()
    assert not Release.objects.exists()


# --------------------------------------------------------------------------- GitLab


def test_gitlab_a_release_with_the_right_token_is_accepted(
    client: Client,
    gitlab_source: ReleaseSource,
    sent: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, gitlab_source, gitlab_body(), gitlab_headers())
    assert response.status_code == 202
    release = Release.objects.get(source=gitlab_source)
    assert (release.release_id, release.tag) == ("v1.0.0", "v1.0.0")
    assert release.archive_url.endswith("/-/archive/v1.0.0/analysis-v1.0.0.zip")
    assert release.html_url == "https://gitlab.com/lab/analysis/-/releases/v1.0.0"
    assert sent == [("deposits.tasks.import_release", [release.pk])]


def test_gitlab_a_request_without_token_is_refused(
    client: Client, gitlab_source: ReleaseSource
) -> None:
    response = post(client, gitlab_source, gitlab_body(), gitlab_headers(token=""))
    assert response.status_code == 401
    assert "X-Gitlab-Token" in response.json()["message"]
    assert_nothing_recorded(gitlab_source)


def test_gitlab_a_wrong_token_is_refused_without_saying_the_right_one(
    client: Client, gitlab_source: ReleaseSource
) -> None:
    body = gitlab_body()
    response = post(client, gitlab_source, body, gitlab_headers(token="test-webhook-secreT"))
    assert response.status_code == 403
    assert_secret_not_in(response.content.decode(), body)
    assert_nothing_recorded(gitlab_source)
    assert Delivery.objects.get(source=gitlab_source).verified is False


def test_gitlab_a_github_signature_does_not_pass_for_gitlab(
    client: Client, gitlab_source: ReleaseSource
) -> None:
    body = gitlab_body()
    headers = gitlab_headers(token="")
    headers["X-Hub-Signature-256"] = sign(body)
    assert post(client, gitlab_source, body, headers).status_code == 401
    assert_nothing_recorded(gitlab_source)


def test_a_replayed_ping_is_a_duplicate(client: Client, source: ReleaseSource) -> None:
    body = json.dumps({"zen": "Design for failure.", "hook_id": 1}).encode()
    headers = github_headers(body, event="ping", delivery="ping-1")
    assert post(client, source, body, headers).json()["message"].startswith("pong")
    again = post(client, source, body, headers)
    assert (again.status_code, again.json()["ok"]) == (200, True)
    assert "already received" in again.json()["message"]
    outcomes = (
        Delivery.objects.filter(source=source).order_by("pk").values_list("outcome", flat=True)
    )
    assert list(outcomes) == ["ping", "duplicate"]
