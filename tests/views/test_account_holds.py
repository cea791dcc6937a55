"""The accounts page says when a token is held after a refusal, and Check now sends one
check however often it is pressed (issue 9 item 6)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deposits.models import LinkedAccount
from deposits.models.accounts import CheckState

pytestmark = pytest.mark.django_db


def held(account: LinkedAccount) -> LinkedAccount:
    account.held_since = timezone.now()
    account.status = "failing"
    account.save()
    return account


def test_a_held_account_says_nothing_is_sent_and_what_to_do(
    owner_client: Client, zenodo_account: LinkedAccount
) -> None:
    held(zenodo_account)

    body = owner_client.get(reverse("accounts")).content.decode()

    assert f'id="account-held-{zenodo_account.pk}"' in body
    assert "Zenodo refused this token, so nothing more is sent with it" in body
    assert "Relink it with a new token" in body
    assert "Relink (new token)" in body and "Relink needed" in body


def test_a_member_is_told_an_admin_relinks(
    member_client: Client, zenodo_account: LinkedAccount
) -> None:
    held(zenodo_account)

    body = member_client.get(reverse("accounts")).content.decode()

    assert "An admin of Lab A relinks it with a new token, or press Check now" in body


def test_a_working_account_shows_no_hold(
    owner_client: Client, zenodo_account: LinkedAccount
) -> None:
    body = owner_client.get(reverse("accounts")).content.decode()

    assert "account-held-" not in body


def test_check_now_pressed_twice_sends_one_check(
    member_client: Client,
    zenodo_account: LinkedAccount,
    django_capture_on_commit_callbacks: Any,
) -> None:
    held(zenodo_account)
    url = reverse("account-verify", args=[zenodo_account.pk])

    with django_capture_on_commit_callbacks(execute=False) as queued:
        member_client.post(url)
        second = member_client.post(url, follow=True)

    assert len(queued) == 1
    assert "already under way" in second.content.decode()
    zenodo_account.refresh_from_db()
    assert zenodo_account.check_state == CheckState.PENDING


def test_while_a_check_runs_the_card_polls_and_the_button_waits(
    member_client: Client, zenodo_account: LinkedAccount
) -> None:
    held(zenodo_account)
    LinkedAccount.objects.filter(pk=zenodo_account.pk).update(
        check_state=CheckState.RUNNING, check_requested_at=timezone.now()
    )

    body = member_client.get(reverse("account-card", args=[zenodo_account.pk])).content.decode()

    assert 'data-account-status="checking"' in body
    assert 'hx-trigger="every 2s"' in body
    assert 'data-action="verify-account" disabled' in body
