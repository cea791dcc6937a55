"""A target's card and actions: confirmation first, progress while in flight, DOIs after."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deposits import lifecycle
from deposits.models import Event, Identifier, Target
from tests.factories import add_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(deposit: Any, target: Any) -> Any:
    add_file(deposit, "data.csv", b"a,b\n1,2\n")
    lifecycle.revalidate(deposit)
    target.refresh_from_db()
    assert target.state == "ready", target.problems
    return target


@pytest.fixture
def published(target: Any) -> Any:
    add_file(target.deposit, "data.csv", b"a,b\n1,2\n")
    Target.objects.filter(pk=target.pk).update(
        state="published",
        remote_id="1234",
        published_at=timezone.now(),
        remote_links={
            "html": "https://zenodo.org/records/1234",
            "latest_html": "https://zenodo.org/records/1240",
        },
    )
    Identifier.objects.create(
        target=target,
        scheme="doi",
        value="10.5281/zenodo.1234",
        url="https://doi.org/10.5281/zenodo.1234",
        scope="version",
    )
    Identifier.objects.create(
        target=target,
        scheme="doi",
        value="10.5281/zenodo.1233",
        url="https://doi.org/10.5281/zenodo.1233",
        scope="concept",
    )
    target.refresh_from_db()
    return target


def test_it_asks_for_confirmation_before_publishing(
    owner_client: Client, ready: Any, django_capture_on_commit_callbacks: Any
) -> None:
    url = reverse("target-action", args=[ready.pk, "publish"])
    page = owner_client.get(url).content.decode()
    assert 'id="confirm-action"' in page
    assert "cannot be undone" in page

    with django_capture_on_commit_callbacks(execute=False) as queued:
        unconfirmed = owner_client.post(url)
    assert unconfirmed.status_code == 200
    assert 'id="confirm-action"' in unconfirmed.content.decode()
    assert not queued
    ready.refresh_from_db()
    assert ready.state == "ready"


def test_it_queues_a_confirmed_publish(
    owner: Any, owner_client: Client, ready: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = owner_client.post(
            reverse("target-action", args=[ready.pk, "publish"]), {"confirmed": "1"}
        )
    assert response.status_code == 302
    assert len(queued) == 1
    ready.refresh_from_db()
    assert ready.state == "queued"
    assert Event.objects.filter(target=ready, to_state="queued", actor=owner).exists()


@pytest.mark.parametrize("action", ["delete", "discard"])
def test_it_asks_for_confirmation_before_every_action_that_cannot_be_undone(
    owner_client: Client, target: Any, action: str
) -> None:
    response = owner_client.post(reverse("target-action", args=[target.pk, action]))
    assert response.status_code == 200
    assert 'name="confirmed"' in response.content.decode()
    target.refresh_from_db()
    assert target.state == "draft"


def test_it_says_why_an_action_is_not_possible(owner_client: Client, target: Any) -> None:
    response = owner_client.post(
        reverse("target-action", args=[target.pk, "publish"]), {"confirmed": "1"}, follow=True
    )
    assert "Fix the problems" in response.content.decode()
    target.refresh_from_db()
    assert target.state == "draft"


def test_it_answers_404_for_an_unknown_action(owner_client: Client, target: Any) -> None:
    assert (
        owner_client.get(reverse("target-action", args=[target.pk, "explode"])).status_code == 404
    )


def test_a_new_version_asks_first_and_then_only_opens_a_draft(
    owner_client: Client, published: Any, django_capture_on_commit_callbacks: Any
) -> None:
    url = reverse("target-action", args=[published.pk, "new_version"])
    asked = owner_client.post(url).content.decode()
    assert "opens a draft of a new version" in asked and "Nothing is published yet" in asked
    assert "cannot be undone" not in asked  # a draft can be discarded
    published.refresh_from_db()
    assert published.state == "published"
    with django_capture_on_commit_callbacks(execute=False):
        owner_client.post(url, {"confirmed": "1"})
    published.refresh_from_db()
    assert published.state == "queued"
    assert published.action == "new_version"


def test_it_retries_a_failed_target(
    owner_client: Client, target: Any, django_capture_on_commit_callbacks: Any
) -> None:
    Target.objects.filter(pk=target.pk).update(state="failed", last_error="Zenodo said no.")
    page = owner_client.get(reverse("deposit", args=[target.deposit_id])).content.decode()
    assert "Zenodo said no." in page
    assert f'data-action="retry" id="retry-{target.pk}"' in page
    with django_capture_on_commit_callbacks(execute=False):
        owner_client.post(reverse("target-retry", args=[target.pk]))
    target.refresh_from_db()
    assert target.state == "queued"


def test_it_shows_the_step_and_upload_progress_and_keeps_polling(
    owner_client: Client, target: Any, htmx: dict[str, str]
) -> None:
    Target.objects.filter(pk=target.pk).update(
        state="working",
        steps=["create", "upload", "describe", "publish"],
        step_index=1,
        progress={
            "files_done": 2,
            "files_total": 5,
            "file": "c.csv",
            "bytes_sent": 512,
            "bytes_total": 2048,
        },
    )
    body = owner_client.get(reverse("target-card", args=[target.pk]), headers=htmx).content.decode()
    assert body.lstrip().startswith("<article")
    assert "every 2s" in body
    assert "Uploading file 3 of 5" in body
    assert '<progress max="2048" value="512">' in body
    assert "c.csv" in body


def test_it_stops_polling_once_the_target_is_published(
    owner_client: Client, published: Any, htmx: dict[str, str]
) -> None:
    body = owner_client.get(
        reverse("target-card", args=[published.pk]), headers=htmx
    ).content.decode()
    assert "every 2s" not in body
    assert 'data-state="published"' in body


def test_it_labels_the_version_and_concept_dois(owner_client: Client, published: Any) -> None:
    body = owner_client.get(reverse("deposit", args=[published.deposit_id])).content.decode()
    assert 'data-identifier="doi-version">10.5281/zenodo.1234<' in body
    assert 'data-identifier="doi-concept">10.5281/zenodo.1233<' in body
    assert "This version" in body and "All versions" in body
    assert 'href="https://zenodo.org/records/1234"' in body
    assert "<svg" in body and 'aria-label="DOI: 10.5281/zenodo.1234"' in body
    assert "<img" not in body


def test_it_offers_a_citation_to_copy(owner_client: Client, published: Any) -> None:
    body = owner_client.get(reverse("deposit", args=[published.deposit_id])).content.decode()
    citation = (
        "Lovelace, A., &amp; Hopper, G. (2025). Soil moisture at the Lindenberg site, 2024 "
        "(Version 1.0) [Data set]. Zenodo. https://doi.org/10.5281/zenodo.1234"
    )
    assert citation in body
    assert f'data-copy-from="#citation-{published.pk}"' in body


def test_it_shows_the_targets_timeline_newest_first(
    owner: Any, owner_client: Client, ready: Any
) -> None:
    lifecycle.record_event(ready, "note", user=owner, message="Second thing")
    body = owner_client.get(reverse("deposit", args=[ready.deposit_id])).content.decode()
    timeline = body[body.index('class="target-timeline"') :]
    assert timeline.index("Second thing") < timeline.index("draft → ready")


def test_a_polled_target_that_lands_swaps_in_place_and_unlocks_the_page(
    owner_client: Client, target: Any, htmx: dict[str, str]
) -> None:
    url = reverse("target-card", args=[target.pk])
    Target.objects.filter(pk=target.pk).update(state="working")
    working = owner_client.get(url, {"polling": "1"}, headers=htmx)
    assert "HX-Trigger" not in working.headers and "HX-Refresh" not in working.headers
    Target.objects.filter(pk=target.pk).update(state="failed", last_error="Timed out.")
    landed = owner_client.get(url, {"polling": "1"}, headers=htmx)
    assert "HX-Refresh" not in landed.headers  # no page reload
    assert landed.headers["HX-Trigger"] == "target-finished"
    assert "every 2s" not in landed.content.decode()
    assert "Timed out." in landed.content.decode()
    # ...on which the whole page (banners, locks, other targets, messages) fetches itself
    page = owner_client.get(reverse("deposit", args=[target.deposit_id])).content.decode()
    live = page.split('id="deposit-live"')[1].split(">")[0]
    assert 'hx-trigger="target-finished from:body"' in live
    assert 'hx-select="#deposit-live"' in live and 'hx-select-oob="#messages"' in live


def test_it_shows_the_latest_version_doi_after_a_new_version(
    owner_client: Client, published: Any
) -> None:
    Identifier.objects.create(
        target=published,
        scheme="doi",
        value="10.5281/zenodo.1240",
        url="https://doi.org/10.5281/zenodo.1240",
        scope="version",
    )
    body = owner_client.get(reverse("deposit", args=[published.deposit_id])).content.decode()
    assert 'data-identifier="doi-version">10.5281/zenodo.1240<' in body
    assert 'data-identifier="doi-earlier">10.5281/zenodo.1234<' in body
    assert 'data-identifier="doi-concept">10.5281/zenodo.1233<' in body
    dashboard = owner_client.get(reverse("dashboard")).content.decode()
    assert "10.5281/zenodo.1240" in dashboard
    assert "10.5281/zenodo.1234" not in dashboard
