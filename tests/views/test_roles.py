"""Roles guard what the team shares: only an admin links, edits, relinks or unlinks a
linked account, and a new base URL needs the token again, so the stored token never goes
to an address it was not given for. Members still use the accounts and may check them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deposits.models import LinkedAccount
from tests.factories import AccountFactory, UserFactory
from tests.views.conftest import signed_in

pytestmark = pytest.mark.django_db

SANDBOX = "http://127.0.0.1:8001/api"
NEW = {"kind": "zenodo", "label": "Mine", "base_url": SANDBOX, "token": "t0k3n-of-a-member"}


def edit(client: Client, account: LinkedAccount, **data: str) -> Any:
    form = {"label": account.label, "base_url": account.base_url, "token": "", "rate_windows": ""}
    return client.post(reverse("account-edit", args=[account.pk]), {**form, **data})


def test_a_member_cannot_link_edit_relink_or_unlink(
    member_client: Client, zenodo_account: Any, owner: Any
) -> None:
    before = (zenodo_account.base_url, zenodo_account.token, zenodo_account.label)
    refused = [
        member_client.get(reverse("account-new")),
        member_client.post(reverse("account-new"), NEW),
        member_client.get(reverse("account-edit", args=[zenodo_account.pk])),
        edit(member_client, zenodo_account, base_url="https://sandbox.zenodo.org/api"),
        edit(member_client, zenodo_account, label="Renamed", token="another-token"),
        member_client.get(reverse("account-unlink", args=[zenodo_account.pk])),
        member_client.post(reverse("account-unlink", args=[zenodo_account.pk]), {"confirmed": 1}),
    ]
    for response in refused:
        assert response.status_code == 403
        body = response.content.decode()
        assert "Only an admin of Lab A can" in body and "Ask an admin (olivia)" in body
    zenodo_account.refresh_from_db()
    assert (zenodo_account.base_url, zenodo_account.token, zenodo_account.label) == before
    assert LinkedAccount.objects.count() == 1


def test_a_member_sees_the_accounts_without_the_admins_controls_and_may_check_them(
    member_client: Client, owner_client: Client, zenodo_account: Any
) -> None:
    page = member_client.get(reverse("accounts")).content.decode()
    assert 'data-action="edit-account"' not in page and 'id="link-account"' not in page
    assert 'data-action="unlink-account"' not in page
    assert "Only an admin of Lab A can edit, relink or unlink this account." in page
    assert 'data-action="verify-account"' in page
    checked = member_client.post(reverse("account-verify", args=[zenodo_account.pk]))
    assert checked.status_code == 302
    admin_page = owner_client.get(reverse("accounts")).content.decode()
    assert 'data-action="edit-account"' in admin_page and 'id="link-account"' in admin_page


def test_a_new_base_url_needs_the_token_again(
    owner_client: Client, zenodo_account: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        page = edit(owner_client, zenodo_account, base_url="https://sandbox.zenodo.org/api")
    assert page.status_code == 200 and "A new base URL needs the token again" in (
        page.content.decode()
    )
    zenodo_account.refresh_from_db()
    assert zenodo_account.base_url != "https://sandbox.zenodo.org/api" and not queued
    moved = edit(
        owner_client, zenodo_account, base_url="https://sandbox.zenodo.org/api", token="sb-t0k"
    )
    assert moved.status_code == 302
    zenodo_account.refresh_from_db()
    assert zenodo_account.base_url == "https://sandbox.zenodo.org/api"
    assert zenodo_account.token == "sb-t0k" and zenodo_account.status == "unverified"


def test_an_admin_and_a_superuser_manage_accounts(team: Any, zenodo_account: Any) -> None:
    from tests.factories import MembershipFactory

    root = MembershipFactory(
        team=team, role="member", user=UserFactory(username="root", is_superuser=True)
    ).user
    client = signed_in(root)
    assert client.get(reverse("account-edit", args=[zenodo_account.pk])).status_code == 200
    assert edit(client, zenodo_account, label="By root").status_code == 302
    AccountFactory(team=team, label="Second")
    assert client.post(reverse("account-new"), NEW).status_code == 302
    assert LinkedAccount.objects.filter(label="Mine").exists()
