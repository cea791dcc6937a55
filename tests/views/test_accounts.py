"""Linked accounts: the token goes in once and never comes back out."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deposits.models import LinkedAccount
from deposits.repositories.limiter import RateWindow
from tests.factories import AccountFactory, DepositFactory, TargetFactory

pytestmark = pytest.mark.django_db

TOKEN = "zenodo-Secret-Token-7f3a9c21"
SANDBOX = "http://127.0.0.1:8001/api"


def link(client: Client, **overrides: str) -> Any:
    data = {
        "kind": "zenodo",
        "label": "Lab Zenodo",
        "base_url": SANDBOX,
        "token": TOKEN,
        "rate_windows": "",
        **overrides,
    }
    return client.post(reverse("account-new"), data)


def test_it_links_an_account_and_checks_its_token(
    owner_client: Client, team: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = link(owner_client, rate_windows="100/60s, 5000/3600s")
    assert response.status_code == 302
    account = LinkedAccount.objects.get(label="Lab Zenodo")
    assert account.team == team
    assert account.token == TOKEN
    assert account.effective_rate_windows() == [RateWindow(100, 60), RateWindow(5000, 3600)]
    assert len(queued) == 1  # verification


def test_it_never_shows_the_token_again(
    owner_client: Client, team: Any, caplog: Any, django_capture_on_commit_callbacks: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=False):
        first = link(owner_client)
    account = LinkedAccount.objects.get()
    deposit: Any = DepositFactory(team=team)
    target: Any = TargetFactory(deposit=deposit, account=account)
    pages = [
        first,
        owner_client.get(reverse("accounts")),
        owner_client.get(reverse("account-card", args=[account.pk])),
        owner_client.get(reverse("account-edit", args=[account.pk])),
        owner_client.get(reverse("account-unlink", args=[account.pk])),
        owner_client.get(reverse("dashboard")),
        owner_client.get(reverse("deposit", args=[deposit.pk])),
        owner_client.get(reverse("deposit-new")),
        owner_client.get(reverse("target-card", args=[target.pk])),
        # A form that comes back with errors must not echo the token either.
        link(owner_client, base_url="https://evil.example.org/api"),
        owner_client.post(
            reverse("account-edit", args=[account.pk]),
            {"label": "", "base_url": SANDBOX, "token": TOKEN + "-new"},
        ),
    ]
    for response in pages:
        body = response.content.decode()
        assert TOKEN not in body
        assert account.token_encrypted not in body
    accounts_page = owner_client.get(reverse("accounts")).content.decode()
    assert account.token_hint in accounts_page
    assert TOKEN not in caplog.text


def test_it_refuses_a_host_outside_the_allowlist(owner_client: Client, team: Any) -> None:
    response = link(owner_client, base_url="https://evil.example.org/api")
    assert response.status_code == 200
    assert "not an allowed repository host" in response.content.decode()
    assert not LinkedAccount.objects.exists()


def test_it_needs_a_token_to_link(owner_client: Client, team: Any) -> None:
    response = link(owner_client, token="")
    assert response.status_code == 200
    assert not LinkedAccount.objects.exists()


def test_it_explains_rate_windows_it_cannot_read(owner_client: Client, team: Any) -> None:
    response = link(owner_client, rate_windows="lots")
    assert "requests/seconds" in response.content.decode()


def test_it_keeps_the_token_when_the_edit_leaves_it_empty(
    owner_client: Client, zenodo_account: Any
) -> None:
    before = zenodo_account.token
    owner_client.post(
        reverse("account-edit", args=[zenodo_account.pk]),
        {"label": "Renamed", "base_url": zenodo_account.base_url, "token": "", "rate_windows": ""},
    )
    zenodo_account.refresh_from_db()
    assert zenodo_account.label == "Renamed"
    assert zenodo_account.token == before
    assert zenodo_account.status == "ok"


def test_it_replaces_the_token_and_checks_it_again(
    owner_client: Client, zenodo_account: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        owner_client.post(
            reverse("account-edit", args=[zenodo_account.pk]),
            {"label": "Lab", "base_url": zenodo_account.base_url, "token": "fresh-token-123456"},
        )
    zenodo_account.refresh_from_db()
    assert zenodo_account.token == "fresh-token-123456"
    assert zenodo_account.status == "unverified"
    assert len(queued) == 1


def test_it_shows_status_identity_and_rate_budget(
    owner_client: Client, zenodo_account: Any
) -> None:
    zenodo_account.identity = "Zenodo user 42"
    zenodo_account.save()
    body = owner_client.get(reverse("accounts")).content.decode()
    assert "Zenodo user 42" in body
    assert 'data-account-status="ok"' in body
    assert "per 1 min" in body
    assert "Rate budget" in body


def test_it_flags_an_account_that_needs_relinking(
    owner_client: Client, zenodo_account: Any
) -> None:
    zenodo_account.status = "failing"
    zenodo_account.last_error = "Zenodo refused the token (401)."
    zenodo_account.save()
    body = owner_client.get(reverse("accounts")).content.decode()
    assert "Relink needed" in body
    assert "Zenodo refused the token (401)." in body


def test_it_polls_an_account_until_its_token_is_checked(
    owner_client: Client, zenodo_account: Any, htmx: dict[str, str]
) -> None:
    url = reverse("account-card", args=[zenodo_account.pk])
    zenodo_account.status = "unverified"
    zenodo_account.save()
    assert "every 2s" in owner_client.get(url, headers=htmx).content.decode()
    zenodo_account.status = "ok"
    zenodo_account.save()
    card = owner_client.get(url, headers=htmx).content.decode()
    assert "every 2s" not in card
    assert card.lstrip().startswith("<article")


def test_it_checks_a_token_on_request(
    owner_client: Client, zenodo_account: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        owner_client.post(reverse("account-verify", args=[zenodo_account.pk]))
    assert len(queued) == 1


def test_it_asks_before_unlinking(owner_client: Client, zenodo_account: Any) -> None:
    url = reverse("account-unlink", args=[zenodo_account.pk])
    assert 'id="confirm-action"' in owner_client.get(url).content.decode()
    owner_client.post(url)
    assert LinkedAccount.objects.filter(pk=zenodo_account.pk).exists()
    owner_client.post(url, {"confirmed": "1"})
    assert not LinkedAccount.objects.filter(pk=zenodo_account.pk).exists()


def test_it_says_why_an_account_in_use_stays_linked(
    owner_client: Client, zenodo_account: Any, deposit: Any
) -> None:
    TargetFactory(deposit=deposit, account=zenodo_account)
    response = owner_client.post(
        reverse("account-unlink", args=[zenodo_account.pk]), {"confirmed": "1"}, follow=True
    )
    assert "is a target of 1 deposit" in response.content.decode()
    assert LinkedAccount.objects.filter(pk=zenodo_account.pk).exists()


def test_it_lists_only_the_teams_accounts(
    owner_client: Client, zenodo_account: Any, stranger: Any
) -> None:
    foreign: Any = AccountFactory(team=stranger.memberships.get().team, label="Their Zenodo")
    body = owner_client.get(reverse("accounts")).content.decode()
    assert zenodo_account.label in body
    assert foreign.label not in body
