"""Failed logins on the DataMeta sandbox, as on the real server (notes-datameta.md §3):
wrong passwords and expired keys count, five within an hour disable the user, and a
disabled user can neither authenticate nor make a new key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from sandbox.datameta.models import ApiKey, LoginFailure, User
from sandbox.datameta.seed import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.sandbox.datameta_fixtures import *  # noqa: F403
from tests.sandbox.datameta_fixtures import DATAMETA_API, DataMetaClient, datameta_control

pytestmark = pytest.mark.urls("sandbox.datameta.root_urls")


def failures(client: Client, email: str) -> dict[str, Any]:
    listed = client.get("/_control/users").json()["users"]
    return next(u for u in listed if u["email"] == email)


def new_key(password: str) -> Any:
    return Client().post(
        f"{DATAMETA_API}/keys",
        {"email": ADMIN_EMAIL, "password": password, "label": "x"},
        content_type="application/json",
    )


def test_each_use_of_an_expired_key_counts_as_a_failed_login(
    datameta_admin: DataMetaClient,
) -> None:
    ApiKey.objects.update(expires=timezone.now() - timedelta(seconds=1))

    for _ in range(2):
        assert datameta_admin.api_get("/rpc/whoami").status_code == 401

    user = failures(datameta_admin, ADMIN_EMAIL)
    assert user == {**user, "failed_logins_last_hour": 2, "enabled": True}


def test_an_unknown_key_names_nobody_and_counts_nothing(datameta_admin: DataMetaClient) -> None:
    assert DataMetaClient("x" * 64).api_get("/rpc/whoami").status_code == 401

    assert failures(datameta_admin, ADMIN_EMAIL)["failed_logins_last_hour"] == 0


def test_the_fifth_expired_key_use_disables_the_user_who_then_cannot_make_a_key(
    datameta_admin: DataMetaClient,
) -> None:
    live = ApiKey.objects.get()
    _, expired = ApiKey.issue(live.user, "old", timezone.now() - timedelta(days=1))
    old = DataMetaClient(expired)
    for _ in range(4):
        old.api_get("/rpc/whoami")
    assert failures(datameta_admin, ADMIN_EMAIL)["enabled"] is True
    assert datameta_admin.api_get("/rpc/whoami").status_code == 200  # below the threshold

    old.api_get("/rpc/whoami")

    assert User.objects.get(email=ADMIN_EMAIL).enabled is False
    assert datameta_admin.api_get("/rpc/whoami").status_code == 401  # a live key too
    refused = new_key(ADMIN_PASSWORD)  # the right password
    assert refused.status_code == 401
    assert refused["Content-Type"] == "text/html; charset=UTF-8"
    assert failures(Client(), ADMIN_EMAIL)["enabled"] is False


def test_failures_older_than_an_hour_do_not_count(datameta_admin: DataMetaClient) -> None:
    user = User.objects.get(email=ADMIN_EMAIL)
    for _ in range(4):
        LoginFailure.objects.create(user=user, at=timezone.now() - timedelta(minutes=61))

    assert new_key("wrong").status_code == 401

    assert failures(datameta_admin, ADMIN_EMAIL)["failed_logins_last_hour"] == 1
    assert User.objects.get(email=ADMIN_EMAIL).enabled is True


def test_a_reset_with_keys_enables_the_users_again(datameta_admin: DataMetaClient) -> None:
    for _ in range(5):
        new_key("wrong")
    assert User.objects.get(email=ADMIN_EMAIL).enabled is False

    datameta_control(Client(), action="reset", keys=True)

    assert failures(Client(), ADMIN_EMAIL) == {
        **failures(Client(), ADMIN_EMAIL),
        "enabled": True,
        "failed_logins_last_hour": 0,
    }
