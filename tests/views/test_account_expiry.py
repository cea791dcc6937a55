"""The linked-accounts page warns a week before an account's key expires, and says what
to do once it has (README "Pointing a linked account at DataMeta")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deposits.models import LinkedAccount
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def card(client: Client, account: LinkedAccount) -> str:
    page = client.get(reverse("accounts")).content.decode()
    return page.split(f'id="account-{account.pk}"')[1].split("</article>")[0]


def expiring(team: Any, delta: timedelta) -> LinkedAccount:
    return AccountFactory(
        team=team,
        kind="datameta",
        label="CoGDat",
        base_url="http://127.0.0.1:8002",
        status="ok",
        expires_at=timezone.now() + delta,
    )


def test_a_key_that_expires_in_minutes_is_warned_of(member_client: Client, team: Any) -> None:
    account = expiring(team, timedelta(minutes=3, seconds=30))
    shown = card(member_client, account)
    assert f'id="key-expiring-{account.pk}"' in shown
    assert "The API key expires in 3\xa0minutes" in shown
    assert "create a new API key on DataMeta, then press Edit and paste it here" in shown
    assert f'id="key-expired-{account.pk}"' not in shown


def test_a_key_that_expires_within_a_week_is_warned_of(member_client: Client, team: Any) -> None:
    account = expiring(team, timedelta(days=6, hours=23))
    assert "The API key expires in 6\xa0days" in card(member_client, account)


def test_a_key_that_expires_later_gets_no_warning(member_client: Client, team: Any) -> None:
    account = expiring(team, timedelta(days=8))
    shown = card(member_client, account)
    assert "key-expiring" not in shown and "key-expired" not in shown
    assert "<dt>Expires</dt>" in shown


def test_an_expired_key_is_an_error_saying_what_to_do(member_client: Client, team: Any) -> None:
    account = expiring(team, -timedelta(hours=2))
    shown = card(member_client, account)
    assert f'id="key-expired-{account.pk}"' in shown and 'role="alert"' in shown
    assert "The API key expired" in shown
    assert "Create a new API key on DataMeta, then press Edit and paste it here" in shown
    assert "key-expiring" not in shown


def test_the_polled_card_carries_the_warning_too(member_client: Client, team: Any) -> None:
    account = expiring(team, timedelta(hours=5))
    response = member_client.get(reverse("account-card", args=[account.pk]))
    assert f'id="key-expiring-{account.pk}"' in response.content.decode()


def test_a_token_without_expiry_gets_no_warning(member_client: Client, team: Any) -> None:
    account = AccountFactory(team=team, status="ok", expires_at=None)
    shown = card(member_client, account)
    assert "key-expir" not in shown and "<dt>Expires</dt>" not in shown
