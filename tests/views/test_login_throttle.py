"""Failed sign-ins are throttled per account and per address (django-axes): after five
wrong passwords even the right one is refused for a while, with a page saying why."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def sign_in(client: Client, username: str, password: str, address: str = "10.0.0.7") -> Any:
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(
    member: Any, team: Any
) -> None:
    client = Client()
    for _ in range(4):
        wrong = sign_in(client, member.username, "not-it")
        assert wrong.status_code == 200 and "correct username and password" in (
            wrong.content.decode()
        )
    assert sign_in(client, member.username, "not-it").status_code == 429  # the fifth
    locked = sign_in(client, member.username, "secret-pass-1")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed sign-ins" in page and "for 15 minutes" in page
    assert "_auth_user_id" not in client.session
    # the same account from another address is locked too, and so is that address
    assert sign_in(Client(), member.username, "secret-pass-1", "10.0.0.8").status_code == 429
    other = MembershipFactory(team=team, user=UserFactory(username="lin")).user
    assert sign_in(Client(), other.username, "secret-pass-1").status_code == 429
    # someone else, elsewhere, signs in as usual
    assert sign_in(Client(), other.username, "secret-pass-1", "10.0.0.9").status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(member: Any) -> None:
    client = Client()
    for _ in range(4):
        sign_in(client, member.username, "not-it")
    assert sign_in(client, member.username, "secret-pass-1").status_code == 302
    client.logout()
    for _ in range(4):
        sign_in(client, member.username, "not-it")
    assert sign_in(client, member.username, "secret-pass-1").status_code == 302
