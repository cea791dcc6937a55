"""After one authentication failure a token is held: nothing more goes out with it until a
person relinks the account or presses Check now, which sends one check (issue 9 item 6).

A connector of any kind goes through the real HttpClient here, with ``responses`` as the
repository: each test counts the requests that actually left."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from deposits import lifecycle, tasks
from deposits.lifecycle.holds import CredentialHeld
from deposits.lifecycle.jobs import build_client
from deposits.models import AccountStatus, Action, LinkedAccount, State, Target
from deposits.models.accounts import CheckState
from deposits.repositories import registry
from deposits.repositories.base import (
    AuthError,
    Identity,
    RepositoryError,
    TransientError,
)
from tests.factories import AccountFactory, DepositFactory, TargetFactory, add_file
from tests.lifecycle.conftest import ScriptedConnector

pytestmark = pytest.mark.django_db

API = "http://127.0.0.1:8001/api"
ITEMS = f"{API}/items"
WHOAMI = f"{API}/whoami"
RULES = f"{API}/rules"


class HttpConnector(ScriptedConnector):
    """The scripted steps, each preceded by one real request through the account's client."""

    uses_schema = True

    def run_step(self, step, client, job, progress):  # type: ignore[no-untyped-def]
        client.request("GET", "items")
        return super().run_step(step, client, job, progress)

    def verify(self, client: Any) -> Identity:
        client.request("GET", "whoami")
        client.request("GET", "whoami/keys")
        return Identity(name="Ada", detail={})

    def fetch_schema(self, client: Any) -> dict[str, Any]:
        client.request("GET", "rules")
        return {"definitions": []}

    def parse_error(self, status: int, body: bytes, content_type: str) -> RepositoryError:
        if status == 401:
            return AuthError("The repository did not accept the token.", status=401)
        return TransientError(f"answered {status}", status=status)


@pytest.fixture
def connector(monkeypatch: pytest.MonkeyPatch) -> HttpConnector:
    scripted = HttpConnector()
    monkeypatch.setattr(registry, "get", lambda kind: scripted)
    return scripted


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[Any], dict[str, Any]]]:
    """The tasks handed to the broker (by name), instead of a broker."""
    calls: list[tuple[str, list[Any], dict[str, Any]]] = []

    def send_task(name: str, args: Any = None, kwargs: Any = None, **options: Any) -> None:
        calls.append((name, list(args or []), dict(kwargs or {})))

    from celery import current_app

    monkeypatch.setattr(current_app, "send_task", send_task)
    return calls


@pytest.fixture
def account(team: Any) -> LinkedAccount:
    linked: Any = AccountFactory(team=team, base_url=API)
    return linked


@pytest.fixture
def target(team: Any, account: LinkedAccount, connector: HttpConnector, member: Any) -> Target:
    deposit: Any = DepositFactory(team=team)
    add_file(deposit, "a.csv", b"1,2,3\n")
    target: Any = TargetFactory(deposit=deposit, account=account)
    lifecycle.revalidate(deposit)
    target.refresh_from_db()
    lifecycle.request(target, Action.PUBLISH, user=member)
    return target


def advance_until_idle(target: Target, limit: int = 20) -> None:
    for _ in range(limit):
        Target.objects.filter(pk=target.pk).update(next_attempt_at=None)
        if not lifecycle.advance(target.pk).again:
            break
    target.refresh_from_db()


def held(account: LinkedAccount) -> LinkedAccount:
    account.refresh_from_db()
    return account


@responses.activate
def test_one_refusal_holds_the_token_and_the_target_waits(
    target: Target, account: LinkedAccount, connector: HttpConnector
) -> None:
    responses.get(ITEMS, status=401)

    advance_until_idle(target)
    advance_until_idle(target)  # the reconciler or another worker comes back to it

    assert len(responses.calls) == 1  # one refused request, then nothing
    assert held(account).held and account.status == AccountStatus.FAILING
    assert account.needs_relink
    assert target.state in (State.QUEUED, State.WORKING)  # waiting, not failed
    assert target.last_error.startswith("Waiting: the Scripted account needs relinking")
    assert "presses Check now" in target.last_error
    assert target.lease_token == ""  # a waiting target holds no worker


@responses.activate
def test_a_held_token_is_refused_before_any_request_leaves(account: LinkedAccount) -> None:
    responses.get(ITEMS, status=200, json=[])
    account.held_since = account.created
    account.save()

    with pytest.raises(CredentialHeld):
        build_client(account, None).request("GET", "items")

    assert len(responses.calls) == 0


@responses.activate
def test_a_refusal_stops_the_other_clients_of_the_account_too(
    account: LinkedAccount, connector: HttpConnector
) -> None:
    responses.get(ITEMS, status=401)
    first, second = build_client(account, None), build_client(account, None)

    with pytest.raises(AuthError):
        first.request("GET", "items")
    with pytest.raises(CredentialHeld):
        second.request("GET", "items")  # built before the refusal, refused after it

    assert len(responses.calls) == 1
    assert held(account).held


@responses.activate
def test_periodic_checks_and_rules_skip_a_held_token(
    account: LinkedAccount, connector: HttpConnector, sent: list[Any]
) -> None:
    responses.get(WHOAMI, status=401)
    account.held_since = account.created
    account.status = AccountStatus.FAILING
    account.save()

    tasks.verify_stale_accounts()
    tasks.refresh_schemas()
    tasks.refresh_schema(account.pk)
    lifecycle.verify_now(account.pk)

    assert sent == []
    assert len(responses.calls) == 0


@responses.activate
def test_the_hourly_check_of_a_working_token_is_one_task(
    account: LinkedAccount, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        tasks.verify_stale_accounts()
        tasks.verify_stale_accounts()  # the first is still asked for: nothing more

    assert [(name, kw["asked"]) for name, _, kw in sent] == [
        ("deposits.tasks.verify_account", False)
    ]


def test_check_now_queues_one_check_and_a_second_click_nothing(
    account: LinkedAccount, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert lifecycle.verify_account(account, user=None) is True
        assert lifecycle.verify_account(account, user=None) is False
        assert lifecycle.verify_account(account, user=None) is False

    # One task: the verification, which fetches the rules itself afterwards (before,
    # the rules were fetched in parallel: two refused requests per click).
    assert [name for name, _, _ in sent] == ["deposits.tasks.verify_account"]
    assert held(account).check_state == CheckState.PENDING


@responses.activate
def test_check_now_on_a_held_token_sends_exactly_one_request(
    target: Target,
    account: LinkedAccount,
    connector: HttpConnector,
    sent: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    responses.get(ITEMS, status=401)
    responses.get(WHOAMI, status=401)
    responses.get(RULES, status=200, json=[])
    advance_until_idle(target)
    assert len(responses.calls) == 1

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.verify_account(account, user=None)
    (task,) = sent
    tasks.verify_account(*task[1], **task[2])
    tasks.verify_account(*task[1], **task[2])  # the broker delivers it again

    assert [c.request.url for c in responses.calls] == [ITEMS, WHOAMI]  # no keys, no rules
    assert held(account).held and account.check_state == CheckState.IDLE
    assert "did not accept the token" in account.last_error
    target.refresh_from_db()
    assert target.last_error.startswith("Waiting:")


@responses.activate
def test_a_relink_that_passes_queues_the_waiting_targets_again(
    target: Target,
    account: LinkedAccount,
    owner: Any,
    sent: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    responses.get(ITEMS, status=401)
    advance_until_idle(target)
    responses.replace(responses.GET, ITEMS, status=200, json=[])
    responses.get(WHOAMI, status=200, json={})
    responses.get(f"{WHOAMI}/keys", status=200, json=[])
    responses.get(RULES, status=200, json=[])

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.update_account(account, user=owner, token="a-new-good-token")
    assert held(account).held  # still held until the new token has passed its check
    (check,) = sent
    with django_capture_on_commit_callbacks(execute=True):
        tasks.verify_account(*check[1], **check[2])

    account.refresh_from_db()
    assert not account.held and account.status == AccountStatus.OK
    target.refresh_from_db()
    assert target.last_error == "" and target.next_attempt_at is None
    assert ("deposits.tasks.advance", [target.pk]) in [(n, a) for n, a, _ in sent]
    urls = [c.request.url for c in responses.calls]
    assert urls[1:] == [WHOAMI, f"{WHOAMI}/keys", RULES]  # one at a time, in turn
    advance_until_idle(target)
    assert target.state == State.PUBLISHED


@responses.activate
def test_a_check_nobody_asked_for_never_tries_a_held_token(
    account: LinkedAccount, connector: HttpConnector
) -> None:
    responses.get(WHOAMI, status=200, json={})
    account.held_since = account.created
    account.check_state = CheckState.PENDING
    account.save()

    lifecycle.check_account(account.pk, asked=False)

    assert len(responses.calls) == 0
    assert held(account).held
