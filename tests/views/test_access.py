"""Scoping: every page answers only for the user's teams; another team's ids answer 404."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deposits import access
from tests.factories import (
    AccountFactory,
    DepositFactory,
    MembershipFactory,
    TargetFactory,
    TeamFactory,
    add_file,
    record,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(deposit: Any, target: Any, zenodo_account: Any) -> dict[str, Any]:
    return {
        "deposit": deposit,
        "target": target,
        "account": zenodo_account,
        "file": add_file(deposit, "data.csv", b"a,b\n1,2\n"),
    }


def object_urls(objects: dict[str, Any]) -> list[tuple[str, str]]:
    """(method, url) of every view that names an object."""
    d, t, a, f = (objects[k] for k in ("deposit", "target", "account", "file"))
    return [
        ("get", reverse("deposit", args=[d.pk])),
        ("get", reverse("deposit-status", args=[d.pk])),
        ("post", reverse("deposit-metadata", args=[d.pk])),
        ("post", reverse("deposit-targets", args=[d.pk])),
        ("get", reverse("file-list", args=[d.pk])),
        ("post", reverse("file-upload", args=[d.pk])),
        ("post", reverse("upload-start", args=[d.pk])),
        ("get", reverse("upload-chunk", args=[f.uid])),
        ("get", reverse("file-delete", args=[f.uid])),
        ("post", reverse("file-delete", args=[f.uid])),
        ("get", reverse("target-card", args=[t.pk])),
        ("get", reverse("target-action", args=[t.pk, "publish"])),
        ("post", reverse("target-action", args=[t.pk, "publish"])),
        ("post", reverse("target-retry", args=[t.pk])),
        ("get", reverse("account-card", args=[a.pk])),
        ("get", reverse("account-edit", args=[a.pk])),
        ("post", reverse("account-edit", args=[a.pk])),
        ("post", reverse("account-verify", args=[a.pk])),
        ("get", reverse("account-unlink", args=[a.pk])),
        ("post", reverse("account-unlink", args=[a.pk])),
    ]


PAGES = ["dashboard", "deposit-new", "accounts", "account-new"]


@pytest.mark.parametrize("name", PAGES)
def test_it_redirects_anonymous_visitors_to_login(client: Client, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_redirects_anonymous_visitors_away_from_every_object(
    client: Client, objects: dict[str, Any]
) -> None:
    for method, url in object_urls(objects):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_it_answers_404_for_another_teams_objects(
    stranger_client: Client, objects: dict[str, Any]
) -> None:
    for method, url in object_urls(objects):
        response = getattr(stranger_client, method)(url)
        assert response.status_code == 404, (method, url)
    objects["deposit"].refresh_from_db()
    assert objects["deposit"].title  # nothing changed on the way


def test_it_answers_404_for_an_unknown_upload(owner_client: Client) -> None:
    assert owner_client.get(reverse("upload-chunk", args=[uuid.uuid4()])).status_code == 404


def test_it_shows_a_teams_deposit_to_every_member(
    owner_client: Client, member_client: Client, deposit: Any
) -> None:
    for client in (owner_client, member_client):
        response = client.get(reverse("deposit", args=[deposit.pk]))
        assert response.status_code == 200
        assert deposit.title in response.content.decode()


def test_it_lists_the_deposits_of_every_team_a_user_is_in(
    member: Any, member_client: Client
) -> None:
    other_team: Any = TeamFactory(name="Lab C", slug="lab-c")
    MembershipFactory(team=other_team, user=member)
    mine: Any = DepositFactory(team=other_team, metadata=record(title="From the second team"))
    foreign: Any = DepositFactory(team=TeamFactory(slug="lab-z"), metadata=record(title="Not mine"))

    body = member_client.get(reverse("dashboard")).content.decode()

    assert mine.title in body
    assert foreign.title not in body
    assert member_client.get(reverse("deposit", args=[mine.pk])).status_code == 200


def test_it_never_scopes_by_object_ids_alone(member: Any, stranger: Any, team: Any) -> None:
    deposit: Any = DepositFactory(team=team)
    TargetFactory(deposit=deposit, account=AccountFactory(team=team))
    assert list(access.deposits_for(member)) == [deposit]
    assert list(access.deposits_for(stranger)) == []
    assert list(access.targets_for(stranger)) == []
    assert list(access.accounts_for(stranger)) == []


def test_it_signs_in_and_out(owner: Any, client: Client) -> None:
    page = client.get(reverse("login"))
    assert b'id="login-form"' in page.content
    response = client.post(reverse("login"), {"username": "olivia", "password": "secret-pass-1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_it_refuses_a_wrong_password_clearly(owner: Any, client: Client) -> None:
    response = client.post(reverse("login"), {"username": "olivia", "password": "nope"})
    assert response.status_code == 200
    assert b"error-box" in response.content
