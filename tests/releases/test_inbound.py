"""The endpoint's handling of verified deliveries: what it takes, what it refuses, and
how it keeps GitHub's several events and redeliveries one release."""

from __future__ import annotations

import io
import json
import threading
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from deposits.models import Delivery, Release, ReleaseSource
from deposits.releases import inbound
from deposits.views.hooks import release_hook
from tests.factories import ReleaseSourceFactory
from tests.releases import test_signatures as signed
from tests.releases.test_signatures import (
    github_body,
    github_headers,
    gitlab_body,
    gitlab_headers,
    post,
    sign,
)

# the signature tests' fixtures
sent = signed.sent
source = signed.source
gitlab_source = signed.gitlab_source


def outcomes(of: ReleaseSource) -> list[str]:
    return list(Delivery.objects.filter(source=of).order_by("pk").values_list("outcome", flat=True))


# --------------------------------------------------------------------------- refused


def test_it_refuses_another_event_and_says_which_to_send(
    client: Client, source: ReleaseSource
) -> None:
    body = json.dumps({"ref": "refs/heads/main", "commits": []}).encode()
    response = post(client, source, body, github_headers(body, event="push"))
    assert response.status_code == 400
    assert "set the webhook to send Releases only" in response.json()["message"]
    assert not Release.objects.exists()
    delivery = Delivery.objects.get(source=source)
    assert (delivery.outcome, delivery.event, delivery.verified) == ("refused", "push", True)


def test_it_refuses_malformed_json(client: Client, source: ReleaseSource) -> None:
    body = b'{"action": "published", "release": {'
    response = post(client, source, body, github_headers(body))
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["message"]
    assert not Release.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "101"}, "release.id"),
        ({"tag_name": None}, "release.tag_name"),
        ({"draft": "no"}, "release.draft"),
        ({"zipball_url": "file:///etc/passwd"}, "release.zipball_url"),
    ],
)
def test_it_says_which_field_is_missing_or_wrong(
    client: Client, source: ReleaseSource, changes: dict[str, Any], field: str
) -> None:
    body = github_body(**changes)
    response = post(client, source, body, github_headers(body))
    assert response.status_code == 400
    assert field in response.json()["message"]
    assert not Release.objects.exists()


def test_a_body_declared_too_large_is_refused_unread(
    client: Client, source: ReleaseSource, settings: Any
) -> None:
    settings.RELEASE_WEBHOOK_MAX_BYTES = 1000
    body = github_body(body="x" * 2000)
    response = post(client, source, body, github_headers(body))
    assert response.status_code == 413
    assert not Release.objects.exists()
    delivery = Delivery.objects.get(source=source)
    assert (delivery.outcome, delivery.http_status) == ("refused", 413)
    assert delivery.body_size == len(body)


class _Endless(io.RawIOBase):
    """A chunked body that never ends; counts what was read from it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        size = 65536 if size is None or size < 0 else size
        self.read_bytes += size
        return b"x" * size


def test_a_chunked_body_is_read_only_up_to_the_limit(source: ReleaseSource, settings: Any) -> None:
    settings.RELEASE_WEBHOOK_MAX_BYTES = 1000
    stream = _Endless()
    request = RequestFactory().post(
        reverse("release-hook", args=[source.key]), content_type="application/json"
    )
    del request.META["CONTENT_LENGTH"]
    request.META["wsgi.input"] = stream
    request.META["wsgi.input_terminated"] = True
    request.META["HTTP_X_GITHUB_EVENT"] = "release"
    response = release_hook(request, source.key)
    assert response.status_code == 413
    assert stream.read_bytes <= 1001


def test_a_get_is_refused_with_405(client: Client, source: ReleaseSource) -> None:
    response = client.get(reverse("release-hook", args=[source.key]))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert Delivery.objects.get(source=source).http_status == 405


def test_a_switched_off_source_takes_nothing(client: Client, source: ReleaseSource) -> None:
    source.enabled = False
    source.save()
    body = github_body()
    response = post(client, source, body, github_headers(body))
    assert response.status_code == 409
    assert "switched off" in response.json()["message"]
    assert not Release.objects.exists()


# --------------------------------------------------------------------------- taken


def test_a_ping_is_acknowledged(client: Client, source: ReleaseSource) -> None:
    body = json.dumps(
        {"zen": "Keep it logically awesome.", "hook_id": 1, "hook": {"events": ["release"]}}
    ).encode()
    response = post(client, source, body, github_headers(body, event="ping"))
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.json()["message"].startswith("pong")
    assert outcomes(source) == ["ping"]
    assert not Release.objects.exists()


def test_a_ping_of_a_hook_without_release_events_says_so(
    client: Client, source: ReleaseSource
) -> None:
    body = json.dumps({"zen": "z", "hook_id": 1, "hook": {"events": ["push"]}}).encode()
    response = post(client, source, body, github_headers(body, event="ping"))
    assert response.status_code == 200
    assert "Releases only" in response.json()["message"]


def test_githubs_three_events_make_one_release_and_one_import(
    client: Client, source: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        codes = []
        for action in ("created", "published", "released"):
            body = github_body(action=action)
            codes.append(post(client, source, body, github_headers(body)).status_code)
    assert codes == [202, 200, 200]
    release = Release.objects.get(source=source)
    assert sent == [("deposits.tasks.import_release", [release.pk])]
    assert outcomes(source) == ["accepted", "duplicate", "duplicate"]
    assert set(Delivery.objects.values_list("release", flat=True)) == {release.pk}


def test_edited_and_deleted_change_nothing(
    client: Client, source: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        for action in ("edited", "deleted", "unpublished"):
            body = github_body(action=action)
            assert post(client, source, body, github_headers(body)).status_code == 200
    assert not Release.objects.exists()
    assert sent == []
    assert outcomes(source) == ["ignored", "ignored", "ignored"]


def test_a_form_encoded_delivery_is_read(
    client: Client, source: ReleaseSource, sent: list[Any]
) -> None:
    from urllib.parse import urlencode

    body = urlencode({"payload": github_body().decode()}).encode()
    response = client.post(
        reverse("release-hook", args=[source.key]),
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers=github_headers(body),
    )
    assert response.status_code == 202
    assert Release.objects.get(source=source).tag == "v1.0.0"


def test_a_draft_is_recorded_ignored_then_imported_once_published(
    client: Client, source: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        body = github_body(action="created", draft=True, published_at=None)
        response = post(client, source, body, github_headers(body))
        assert response.status_code == 200
        release = Release.objects.get(source=source)
        assert release.status == "ignored"
        assert "draft" in release.message
        assert sent == []
        body = github_body(action="published")
        assert post(client, source, body, github_headers(body)).status_code == 202
    release.refresh_from_db()
    assert (release.status, release.draft) == ("received", False)
    assert sent == [("deposits.tasks.import_release", [release.pk])]


@pytest.mark.parametrize(
    ("changes", "option"),
    [({"draft": True}, "include_drafts"), ({"prerelease": True}, "include_prereleases")],
)
def test_drafts_and_prereleases_are_imported_when_the_source_opts_in(
    client: Client,
    source: ReleaseSource,
    *,
    sent: list[Any],
    django_capture_on_commit_callbacks: Any,
    changes: dict[str, Any],
    option: str,
) -> None:
    body = github_body(action="created", **changes)
    post(client, source, body, github_headers(body))
    assert Release.objects.get(source=source).status == "ignored"
    other = ReleaseSourceFactory(repository="lab/other", **{option: True})
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, other, body, github_headers(body)).status_code == 202
    assert Release.objects.get(source=other).status == "received"
    assert len(sent) == 1


def test_gitlab_create_imports_and_update_is_ignored(
    client: Client,
    gitlab_source: ReleaseSource,
    sent: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, gitlab_source, gitlab_body(), gitlab_headers()).status_code == 202
        body = gitlab_body(action="update")
        assert post(client, gitlab_source, body, gitlab_headers()).status_code == 200
    assert Release.objects.filter(source=gitlab_source).count() == 1
    assert outcomes(gitlab_source) == ["accepted", "ignored"]
    assert len(sent) == 1


def test_gitlab_an_upcoming_release_counts_as_a_prerelease(
    client: Client, gitlab_source: ReleaseSource, sent: list[Any]
) -> None:
    body = gitlab_body(released_at="2999-01-01T00:00:00Z")
    assert post(client, gitlab_source, body, gitlab_headers()).status_code == 200
    release = Release.objects.get(source=gitlab_source)
    assert (release.status, release.prerelease) == ("ignored", True)


def test_gitlab_a_redelivery_with_the_same_idempotency_key_is_a_duplicate(
    client: Client, gitlab_source: ReleaseSource
) -> None:
    headers = gitlab_headers(**{"Idempotency-Key": "key-1"})
    assert post(client, gitlab_source, gitlab_body(), headers).status_code == 202
    headers["X-Gitlab-Event-UUID"] = str(uuid.uuid4())
    again = post(client, gitlab_source, gitlab_body(), headers)
    assert again.status_code == 200
    assert outcomes(gitlab_source) == ["accepted", "duplicate"]


def test_the_log_keeps_only_the_newest_deliveries(
    client: Client, source: ReleaseSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbound, "DELIVERY_LOG_KEEP", 3)
    ids = []
    for n in range(5):
        body = github_body(release_id=n + 1, tag=f"v{n}")
        ids.append(f"d-{n}")
        post(client, source, body, github_headers(body, delivery=ids[-1]))
    kept = (
        Delivery.objects.filter(source=source).order_by("pk").values_list("delivery_id", flat=True)
    )
    assert list(kept) == ids[2:]
    assert Release.objects.filter(source=source).count() == 5


def test_receive_reads_headers_in_any_case(source: ReleaseSource) -> None:
    body = github_body()
    headers = {k.lower(): v for k, v in github_headers(body).items()}
    status, reply = inbound.receive(source.key, headers, body)
    assert status == 202
    assert reply["status"] == "received"


# --------------------------------------------------------------------------- at once


@pytest.mark.django_db(transaction=True)
def test_two_identical_deliveries_at_once_make_one_release(
    sent: list[Any],
) -> None:
    src = ReleaseSourceFactory(repository="lab/race")
    body = github_body()
    headers = github_headers(body, delivery="same-delivery")
    barrier = threading.Barrier(2)
    replies: list[int] = []

    def deliver() -> None:
        try:
            barrier.wait()
            replies.append(inbound.receive(src.key, headers, body)[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(replies) == [200, 202]
    assert Release.objects.filter(source=src).count() == 1
    assert sorted(outcomes(src)) == ["accepted", "duplicate"]
    assert Delivery.objects.get(source=src, outcome="duplicate").message.startswith(
        "Delivery same-delivery was already received"
    )
    assert [name for name, _ in sent] == ["deposits.tasks.import_release"]


@pytest.mark.django_db(transaction=True)
def test_githubs_events_at_once_make_one_release(sent: list[Any]) -> None:
    src = ReleaseSourceFactory(repository="lab/race-events")
    bodies = [github_body(action=a) for a in ("created", "published", "released")]
    barrier = threading.Barrier(3)
    replies: list[int] = []

    def deliver(body: bytes) -> None:
        try:
            barrier.wait()
            replies.append(inbound.receive(src.key, github_headers(body), body)[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(replies) == [200, 200, 202]
    assert Release.objects.filter(source=src).count() == 1
    assert len(sent) == 1
    messages = Delivery.objects.filter(source=src, outcome="duplicate").values_list(
        "message", flat=True
    )
    assert all(m.startswith("Release v1.0.0 was already received") for m in messages)


def test_signing_helper_matches_githubs_documented_example() -> None:
    # https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    assert sign(b"Hello, World!", "It's a Secret to Everybody") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )
