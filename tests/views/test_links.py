"""A repository's links are untrusted: the pages link only to http(s) URLs on an allowed
host, and identifiers to their resolver, whatever the repository's reply said."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deposits.models import Identifier, Target


def card_of(client: Client, target: Target) -> str:
    page = client.get(reverse("deposit", args=[target.deposit_id])).content.decode()
    return page.split(f'id="target-{target.pk}"')[1].split("</article>")[0]


def test_record_links_off_the_allowlist_or_not_http_are_not_shown(
    owner_client: Client, target: Any
) -> None:
    Identifier.objects.create(target=target, scheme="doi", value="10.5281/zenodo.7")
    Target.objects.filter(pk=target.pk).update(
        state="published",
        remote_id="7",
        remote_state="done",
        published_at=timezone.now(),
        remote_links={
            "html": "https://evil.example/records/7",
            "latest_html": "javascript:alert(document.cookie)",
        },
    )
    card = card_of(owner_client, target)
    assert "evil.example" not in card and "javascript:" not in card
    assert 'data-link="record"' not in card and 'data-link="latest"' not in card
    Target.objects.filter(pk=target.pk).update(
        remote_links={"html": "https://zenodo.org/records/7", "latest_html": "data:text/html,x"}
    )
    card = card_of(owner_client, target)
    assert 'href="https://zenodo.org/records/7"' in card and "data:text" not in card


def test_identifiers_link_to_their_resolver_not_to_where_the_reply_said(
    owner_client: Client, target: Any
) -> None:
    Target.objects.filter(pk=target.pk).update(state="published", published_at=timezone.now())
    Identifier.objects.create(
        target=target,
        scheme="doi",
        value="10.5281/zenodo.7",
        url="https://evil.example/phish",
        scope="version",
    )
    card = card_of(owner_client, target)
    assert 'href="https://doi.org/10.5281/zenodo.7"' in card and "evil.example" not in card
    dashboard = owner_client.get(reverse("dashboard")).content.decode()
    assert 'href="https://doi.org/10.5281/zenodo.7"' in dashboard
    assert "evil.example" not in dashboard
