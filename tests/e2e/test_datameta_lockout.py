"""The portal never gets a DataMeta user disabled (issue 9 item 6), against the DataMeta
sandbox over real HTTP with real workers.

DataMeta counts each use of an expired key as a failed login and disables the user at
five within an hour (notes-datameta.md §3), after which not even a new key can be made.
With an expired key, presses of Check now and the periodic tasks must stay below that:
after the first refusal the token is held, and each Check now sends one check at most."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from django.test import Client
from django.urls import reverse

from deposits import lifecycle, tasks
from deposits.models import Action, LinkedAccount, State, Target, Team
from tests.e2e.test_datameta_submit import control, samples_target, wait_for_state
from tests.factories import AccountFactory
from tests.livesystem import LiveSystem, wait_until

pytestmark = [pytest.mark.e2e]

USER = "lockout"
EMAIL = "lockout@sandbox.example.org"
THRESHOLD = 5  # security_max_failed_login_attempts (notes §3)


def sandbox_user(system: LiveSystem) -> dict[str, Any]:
    reply = requests.get(f"{system.datameta_url}/_control/users", timeout=10)
    reply.raise_for_status()
    return next(u for u in reply.json()["users"] if u["email"] == EMAIL)


def whoami_requests(system: LiveSystem) -> int:
    return int(control(system)["counters"].get("GET rpc/whoami", 0))


def key(system: LiveSystem) -> str:
    return str(control(system, {"action": "issue_token", "user": USER, "days": 30})["token"])


def verified_account(system: LiveSystem, team: Team) -> LinkedAccount:
    account: Any = AccountFactory(
        team=team, kind="datameta", base_url=system.datameta_url, token=key(system)
    )
    account.status = "unverified"
    account.save()
    lifecycle.verify_account(account, user=None)

    def ready() -> bool:
        account.refresh_from_db()
        return account.status == "ok" and bool(account.schema.get("definitions"))

    wait_until(ready, 60, f"the account to be verified ({account.last_error!r})")
    return account


def check_settled(account: LinkedAccount) -> bool:
    account.refresh_from_db()
    return not account.checking


def test_check_now_and_the_periodic_tasks_never_lock_the_user_out(
    live_system: LiveSystem, team: Team, member: Any, owner: Any
) -> None:
    control(live_system, {"action": "reset", "keys": True})
    live_system.start_worker()
    account = verified_account(live_system, team)
    target = samples_target(team, account, member)
    control(live_system, {"action": "expire_keys", "user": USER})

    # A publish with the expired key: one refused request, then the target waits.
    lifecycle.request(target, Action.PUBLISH, user=member)

    def waiting() -> bool:
        target.refresh_from_db()
        return target.last_error.startswith("Waiting: the DataMeta account needs relinking")

    wait_until(waiting, 60, "the target to wait for a relink")
    account.refresh_from_db()
    assert account.held and account.needs_relink
    assert sandbox_user(live_system)["failed_logins_last_hour"] == 1
    checks_before = whoami_requests(live_system)

    # A person presses Check now three times in a row, then the periodic tasks run.
    browser = Client()
    browser.force_login(member)
    for _ in range(3):
        assert browser.post(reverse("account-verify", args=[account.pk])).status_code == 302
    wait_until(lambda: check_settled(account), 60, "the check to finish")
    clicked = sandbox_user(live_system)["failed_logins_last_hour"]
    assert 2 <= clicked <= 1 + 3  # at most one refused request per press, often fewer
    for _ in range(3):
        tasks.verify_stale_accounts()
        tasks.refresh_schemas()
        tasks.reconcile()
        time.sleep(2)  # the worker takes what was queued

    after = sandbox_user(live_system)
    assert after["failed_logins_last_hour"] == clicked  # the periodic tasks sent nothing
    assert after["failed_logins_last_hour"] < THRESHOLD and after["enabled"] is True
    assert whoami_requests(live_system) - checks_before == clicked - 1  # only the checks
    target.refresh_from_db()
    assert target.state in (State.QUEUED, State.WORKING) and waiting()
    account.refresh_from_db()
    assert account.held

    # An admin relinks with a good key: one check, then the waiting target proceeds.
    lifecycle.update_account(account, user=owner, token=key(live_system))
    wait_for_state(target, {State.PUBLISHED, State.FAILED})
    assert target.state == State.PUBLISHED, target.last_error
    account.refresh_from_db()
    assert not account.held and account.status == "ok"
    assert sandbox_user(live_system)["failed_logins_last_hour"] == clicked
    assert Target.objects.get(pk=target.pk).last_error == ""
