"""Published Handles that stop resolving (``lifecycle.identifiers``) with the Coscine
connector asking ``GET /api/v2/pids/{prefix}/{suffix}`` through ``responses``: a 410
flags the identifier with what to do and tells the team's admins once; a Coscine that
cannot say changes nothing; a held token asks nothing."""

from __future__ import annotations

from typing import Any

import pytest
import responses
from django.utils import timezone

from deposits import lifecycle
from deposits.models import (
    ApiCall,
    Identifier,
    LinkedAccount,
    Notification,
    NotificationKind,
    State,
    Target,
)
from tests.factories import AccountFactory, DepositFactory, TargetFactory

pytestmark = pytest.mark.django_db

SITE = "https://coscine.example.org/coscine"
SUFFIX = "5b3c1e2a-0000-4000-8000-00000000abcd"
PID = f"21.11102/{SUFFIX}"
PID_URL = f"{SITE}/api/v2/pids/21.11102/{SUFFIX}"


@pytest.fixture(autouse=True)
def coscine_allowed(settings: Any) -> None:
    settings.ALLOWED_REPOSITORY_HOSTS = ["coscine.example.org"]


@pytest.fixture
def account(team: Any) -> LinkedAccount:
    linked: Any = AccountFactory(team=team, kind="coscine", label="RWTH Coscine", base_url=SITE)
    return linked


@pytest.fixture
def target(account: LinkedAccount, owner: Any, member: Any) -> Target:
    deposit: Any = DepositFactory(team=account.team, title="Soil moisture")
    made: Any = TargetFactory(deposit=deposit, account=account, state=State.PUBLISHED)
    Identifier.objects.create(
        target=made, scheme="handle", value=PID, url=f"https://hdl.handle.net/{PID}"
    )
    return made


def gone(trace: str = "trace-gone") -> None:
    responses.get(PID_URL, status=410, json={"title": "Gone", "status": 410, "traceId": trace})


def told(user: Any) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=NotificationKind.IDENTIFIER_GONE))


@responses.activate
def test_a_deleted_resource_flags_its_handle_and_tells_the_admins_once(
    target: Target, owner: Any, member: Any
) -> None:
    gone()
    assert [i.value for i in lifecycle.check_identifiers(target.pk)] == [PID]
    identifier = Identifier.objects.get(target=target)
    assert identifier.problem.startswith(
        "Coscine says this Handle is no longer valid: the resource was deleted."
    )
    assert identifier.problem.endswith("Coscine trace id: trace-gone")
    assert identifier.checked_at is not None
    notes = told(owner)
    assert len(notes) == 1
    assert f"persistent identifier (Handle) {PID}" in notes[0].message
    assert "no longer valid" in notes[0].message
    assert told(member) == []  # not an admin, not following

    first_checked = identifier.checked_at
    assert lifecycle.check_identifiers(target.pk) == []  # still gone: nobody told again
    identifier.refresh_from_db()
    assert len(told(owner)) == 1 and identifier.checked_at > first_checked
    assert ApiCall.objects.filter(account=target.account, trace_id="trace-gone").count() == 2


@responses.activate
def test_a_handle_that_resolves_again_is_cleared(target: Target, owner: Any) -> None:
    Identifier.objects.filter(target=target).update(problem="Coscine says ... deleted.")
    responses.get(
        PID_URL,
        json={
            "data": {"identifier": PID, "isEntityValid": True},
            "isSuccess": True,
            "traceId": "t",
        },
    )
    assert lifecycle.check_identifiers(target.pk) == []
    identifier = Identifier.objects.get(target=target)
    assert identifier.problem == "" and identifier.checked_at is not None
    assert told(owner) == []


@responses.activate
def test_when_coscine_cannot_say_nothing_changes(target: Target, owner: Any) -> None:
    responses.get(PID_URL, status=503, body=b"")
    assert lifecycle.check_identifiers(target.pk) == []
    identifier = Identifier.objects.get(target=target)
    assert (identifier.problem, identifier.checked_at) == ("", None)
    assert told(owner) == []


@responses.activate
def test_a_held_token_is_not_used_for_checks(target: Target, account: LinkedAccount) -> None:
    LinkedAccount.objects.filter(pk=account.pk).update(held_since=timezone.now())
    gone()
    assert lifecycle.check_identifiers(target.pk) == []
    assert len(responses.calls) == 0
    assert Identifier.objects.get(target=target).checked_at is None


def test_the_daily_check_queues_published_coscine_targets_only(
    target: Target, account: LinkedAccount, team: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, list[Any]]] = []
    from celery import current_app

    monkeypatch.setattr(
        current_app,
        "send_task",
        lambda name, args=None, **options: sent.append((name, list(args or []))),
    )
    TargetFactory(deposit=DepositFactory(team=team), account=account, state=State.DRAFT)
    zenodo: Any = AccountFactory(team=team)
    TargetFactory(deposit=DepositFactory(team=team), account=zenodo, state=State.PUBLISHED)
    held: Any = AccountFactory(team=team, kind="coscine", base_url=SITE, held_since=timezone.now())
    TargetFactory(deposit=DepositFactory(team=team), account=held, state=State.PUBLISHED)
    assert lifecycle.check_all_identifiers() == 1
    assert sent == [("deposits.tasks.check_target_identifiers", [target.pk])]
