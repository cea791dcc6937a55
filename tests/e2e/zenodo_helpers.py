"""Helpers for end-to-end runs against the local Zenodo sandbox over real HTTP."""

from __future__ import annotations

import os
from typing import Any

import requests

from deposits import lifecycle
from deposits.models import Action, LinkedAccount, State, Target, Team
from tests.factories import AccountFactory, DepositFactory, TargetFactory, add_file
from tests.livesystem import LiveSystem, wait_until


def control(system: LiveSystem, payload: dict[str, Any]) -> dict[str, Any]:
    reply = requests.post(f"{system.zenodo_url}/_control", json=payload, timeout=10)
    reply.raise_for_status()
    return reply.json()


def counters(system: LiveSystem) -> dict[str, Any]:
    reply = requests.get(f"{system.zenodo_url}/_control", timeout=10)
    reply.raise_for_status()
    return reply.json()["counters"]


def sandbox_account(system: LiveSystem, team: Team) -> tuple[LinkedAccount, str]:
    token = system.manage("sandbox_token", "zenodo")
    account = AccountFactory(
        team=team, base_url=f"{system.zenodo_url}/api", token=token, status="ok"
    )
    return account, token


def deposit_with_files(team: Team, account: LinkedAccount, files: dict[str, bytes]) -> Target:
    deposit = DepositFactory(team=team)
    for name, content in files.items():
        add_file(deposit, name, content)
    target = TargetFactory(deposit=deposit, account=account)
    lifecycle.revalidate(deposit)
    target.refresh_from_db()
    assert target.state == State.READY, target.problems
    return target


def publish(target: Target, user: Any) -> None:
    lifecycle.request(target, Action.PUBLISH, user=user)


def wait_for_state(target: Target, states: set[str], timeout: float = 120) -> Target:
    def reached() -> bool:
        target.refresh_from_db()
        return target.state in states

    wait_until(
        reached,
        timeout,
        f"target to reach {states} (last: {target.state}, "
        f"step {target.current_step}, error {target.last_error!r})",
    )
    return target


def remote_deposition(system: LiveSystem, token: str, remote_id: str) -> dict[str, Any]:
    reply = requests.get(
        f"{system.zenodo_url}/api/deposit/depositions/{remote_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    reply.raise_for_status()
    return reply.json()


def random_bytes(size: int) -> bytes:
    return os.urandom(size)
