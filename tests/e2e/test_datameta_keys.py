"""Which expiry a DataMeta account shows, against the DataMeta sandbox over real HTTP.

DataMeta lists a user's keys with their expiry but never says which key a request used
(notes-datameta.md §2, §6, exchange #12), so with several live keys the earliest expiry
is shown: a warning may come early, never late."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from deposits import lifecycle
from deposits.models import LinkedAccount, Team
from tests.e2e.test_datameta_submit import control
from tests.factories import AccountFactory
from tests.livesystem import LiveSystem, wait_until

pytestmark = [pytest.mark.e2e]


def verified(system: LiveSystem, team: Team, token: str) -> LinkedAccount:
    account = AccountFactory(
        team=team, kind="datameta", base_url=system.datameta_url, token=token, status="unverified"
    )
    lifecycle.verify_account(account, user=None)

    def done() -> bool:
        account.refresh_from_db()
        return account.status == "ok"

    wait_until(done, 60, f"the account to be verified ({account.last_error!r})")
    return account


def issue(system: LiveSystem, user: str, days: float) -> str:
    reply: dict[str, Any] = control(system, {"action": "issue_token", "user": user, "days": days})
    return str(reply["token"])


def test_one_key_shows_its_own_expiry(live_system: LiveSystem, team: Team) -> None:
    control(live_system, {"action": "reset", "keys": True})
    live_system.start_worker()
    account = verified(live_system, team, issue(live_system, "kim", 3 / (24 * 60)))
    assert account.expires_at is not None
    left = account.expires_at - timezone.now()
    assert timedelta(minutes=1) < left <= timedelta(minutes=3)


def test_several_keys_show_the_earliest_expiry(live_system: LiveSystem, team: Team) -> None:
    control(live_system, {"action": "reset", "keys": True})
    live_system.start_worker()
    ours = issue(live_system, "lee", 30)
    issue(live_system, "lee", 2)  # another key of the same user, made elsewhere
    issue(live_system, "lee", 0)  # an expired one: it cannot be the key in use
    account = verified(live_system, team, ours)
    assert account.expires_at is not None
    left = account.expires_at - timezone.now()
    assert timedelta(days=1, hours=23) < left <= timedelta(days=2)
