"""The dashboard: the team's deposits, filtered and searched, polling only while in flight."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deposits.models import Deposit, Target
from tests.factories import AccountFactory, DepositFactory, TargetFactory, record

pytestmark = pytest.mark.django_db


def titles(response: Any) -> str:
    return response.content.decode()


def make_deposits(team: Any, accounts: list[Any], count: int, **metadata: Any) -> list[Deposit]:
    deposits = Deposit.objects.bulk_create(
        Deposit(team=team, title=f"Deposit {i}", metadata=record(title=f"Deposit {i}", **metadata))
        for i in range(count)
    )
    Target.objects.bulk_create(
        Target(deposit=d, account=a, state="published" if i % 2 else "working")
        for i, d in enumerate(deposits)
        for a in accounts
    )
    return deposits


def test_it_lists_only_the_teams_deposits(owner_client: Client, deposit: Any) -> None:
    foreign: Any = DepositFactory(metadata=record(title="Someone else's data"))
    body = titles(owner_client.get(reverse("dashboard")))
    assert deposit.title in body
    assert foreign.title not in body
    assert 'id="new-deposit"' in body


def test_it_searches_titles(owner_client: Client, team: Any) -> None:
    DepositFactory(team=team, metadata=record(title="Glacier mass balance"))
    DepositFactory(team=team, metadata=record(title="Soil moisture"))
    body = titles(owner_client.get(reverse("dashboard"), {"q": "glacier"}))
    assert "Glacier mass balance" in body
    assert "Soil moisture" not in body


def test_it_filters_by_target_state_and_repository(
    owner_client: Client, team: Any, zenodo_account: Any
) -> None:
    datameta: Any = AccountFactory(team=team, kind="datameta", label="DataMeta")
    published: Any = TargetFactory(
        deposit=DepositFactory(team=team, metadata=record(title="Published one")),
        account=zenodo_account,
        state="published",
    )
    TargetFactory(
        deposit=DepositFactory(team=team, metadata=record(title="Failed one")),
        account=datameta,
        state="failed",
    )

    by_state = titles(owner_client.get(reverse("dashboard"), {"state": "published"}))
    assert published.deposit.title in by_state
    assert "Failed one" not in by_state

    by_kind = titles(owner_client.get(reverse("dashboard"), {"kind": "datameta"}))
    assert "Failed one" in by_kind
    assert "Published one" not in by_kind

    both = titles(
        owner_client.get(reverse("dashboard"), {"kind": "datameta", "state": "published"})
    )
    assert "Failed one" not in both and "Published one" not in both
    assert "No deposits match these filters." in both


def test_it_answers_htmx_with_the_table_alone(
    owner_client: Client, deposit: Any, htmx: dict[str, str]
) -> None:
    response = owner_client.get(reverse("dashboard"), {"q": "soil"}, headers=htmx)
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="deposit-table"')
    assert "<html" not in body
    assert deposit.title in body


def test_it_paginates(owner_client: Client, team: Any, zenodo_account: Any) -> None:
    make_deposits(team, [zenodo_account], 30)
    first = titles(owner_client.get(reverse("dashboard")))
    assert "Page 1 of 2" in first
    assert "page=2" in first
    second = titles(owner_client.get(reverse("dashboard"), {"page": 2}))
    assert "Page 2 of 2" in second


def test_it_keeps_the_query_count_constant_whatever_the_rows(
    owner_client: Client, team: Any, zenodo_account: Any
) -> None:
    accounts = [zenodo_account, AccountFactory(team=team, kind="datameta", label="DataMeta")]
    make_deposits(team, accounts, 5)
    owner_client.get(reverse("dashboard"))  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert owner_client.get(reverse("dashboard")).status_code == 200

    make_deposits(team, accounts, 45)
    with CaptureQueriesContext(connection) as many:
        response = owner_client.get(reverse("dashboard"))
    assert response.content.decode().count('data-deposit-id="') == 25

    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_it_stays_within_a_small_query_budget(
    owner_client: Client,
    team: Any,
    zenodo_account: Any,
    django_assert_max_num_queries: Any,
) -> None:
    make_deposits(team, [zenodo_account, AccountFactory(team=team, kind="datameta")], 50)
    # 10 today: session, user, teams, the count, the top bar's review queue and unread
    # notifications (one each), accounts, the page of deposits, their targets, identifiers;
    # one spare for a session write.
    with django_assert_max_num_queries(11):
        owner_client.get(reverse("dashboard"), {"state": "published", "q": "Deposit"})


def test_it_polls_rows_in_flight(owner_client: Client, target: Any) -> None:
    Target.objects.filter(pk=target.pk).update(state="working", steps=["create"], step_index=0)
    body = titles(owner_client.get(reverse("dashboard")))
    assert f'id="deposit-status-{target.deposit_id}"' in body
    assert 'hx-trigger="every 2s"' in body


def test_it_stops_polling_once_the_row_reaches_a_final_state(
    owner_client: Client, target: Any, htmx: dict[str, str]
) -> None:
    url = reverse("deposit-status", args=[target.deposit_id])
    Target.objects.filter(pk=target.pk).update(state="queued")
    polling = owner_client.get(url, headers=htmx).content.decode()
    assert "every 2s" in polling
    assert "<html" not in polling

    Target.objects.filter(pk=target.pk).update(state="published")
    final = owner_client.get(url, headers=htmx).content.decode()
    assert "every 2s" not in final
    assert "hx-get" not in final
    assert 'data-state="published"' in final


def test_it_flags_accounts_that_need_relinking(owner_client: Client, zenodo_account: Any) -> None:
    zenodo_account.status = "failing"
    zenodo_account.save()
    body = titles(owner_client.get(reverse("dashboard")))
    assert 'id="relink-banner"' in body
    assert "Relink needed" in body
