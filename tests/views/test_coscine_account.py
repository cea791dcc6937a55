"""A Coscine account as people see it: its token's expiry (read from Coscine's token
list when the account is checked) warned of a week ahead on the linked-accounts page,
and Coscine's trace id of each request in the API call log, which support asks for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
from django.test import Client
from django.urls import reverse

from deposits import lifecycle
from deposits.models import ApiCall, LinkedAccount
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

SITE = "https://coscine.example.org/coscine"
API = f"{SITE}/api/v2"


@pytest.fixture(autouse=True)
def coscine_allowed(settings: Any) -> None:
    settings.ALLOWED_REPOSITORY_HOSTS = ["coscine.example.org"]


@pytest.fixture
def account(team: Any) -> LinkedAccount:
    linked: Any = AccountFactory(
        team=team, kind="coscine", label="RWTH Coscine", base_url=SITE, status="unverified"
    )
    return linked


def serve_token_expiring_in(delta: timedelta) -> None:
    me = {"id": "u1", "displayName": "Ada Lovelace", "emails": [{"email": "ada@rwth-aachen.de"}]}
    expiry = (datetime.now(UTC) + delta).isoformat()
    tokens = [
        {"id": "t1", "name": "portal", "creationDate": "2026-01-01T00:00:00Z", "expiryDate": expiry}
    ]
    responses.get(f"{API}/self", json={"data": me, "isSuccess": True, "traceId": "trace-self"})
    responses.get(
        f"{API}/self/api-tokens",
        json={
            "data": tokens,
            "isSuccess": True,
            "traceId": "trace-tokens",
            "pagination": {"currentPage": 1, "hasNext": False},
        },
    )


def card(client: Client, account: LinkedAccount) -> str:
    page = client.get(reverse("accounts")).content.decode()
    return page.split(f'id="account-{account.pk}"')[1].split("</article>")[0]


@responses.activate
def test_a_coscine_token_expiring_within_a_week_is_warned_of(
    member_client: Client, account: LinkedAccount
) -> None:
    serve_token_expiring_in(timedelta(days=5, hours=1))
    lifecycle.verify_now(account.pk)
    account.refresh_from_db()
    assert account.expires_at is not None
    shown = card(member_client, account)
    assert f'id="key-expiring-{account.pk}"' in shown
    assert "expires in 5\xa0days" in shown
    assert "on Coscine, then press Edit and paste it here" in shown


@responses.activate
def test_a_coscine_token_expiring_later_is_not_warned_of(
    member_client: Client, account: LinkedAccount
) -> None:
    serve_token_expiring_in(timedelta(days=60))
    lifecycle.verify_now(account.pk)
    shown = card(member_client, account)
    assert "key-expiring" not in shown and "<dt>Expires</dt>" in shown


@pytest.fixture
def staff_client(db: Any) -> Client:
    user: Any = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


@responses.activate
def test_the_api_call_log_shows_and_finds_coscine_s_trace_id(
    staff_client: Client, account: LinkedAccount
) -> None:
    serve_token_expiring_in(timedelta(days=60))
    lifecycle.verify_now(account.pk)
    assert set(ApiCall.objects.values_list("trace_id", flat=True)) == {"trace-self", "trace-tokens"}
    changelist = reverse("admin:deposits_apicall_changelist")
    page = staff_client.get(changelist).content.decode()
    assert "column-trace_id" in page and "trace-self" in page and "trace-tokens" in page
    found = staff_client.get(changelist, {"q": "trace-tokens"}).content.decode()
    assert "trace-tokens" in found and "trace-self" not in found
