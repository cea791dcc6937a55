"""A create that got no answer may still land (issue 9 item 4): until it could no longer,
a re-run only looks for the record it made, adopts it, and never makes a second one."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from deposits import lifecycle
from deposits.models import Action, State, Target
from deposits.repositories.base import Job, StepResult, TransientError
from tests.factories import DepositFactory, TargetFactory, add_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(team, zenodo_account, connector):  # type: ignore[no-untyped-def]
    deposit = DepositFactory(team=team)
    add_file(deposit, "a.csv", b"1,2,3\n")
    t = TargetFactory(deposit=deposit, account=zenodo_account)
    lifecycle.revalidate(deposit)
    t.refresh_from_db()
    return t


@pytest.fixture
def marking(connector):  # type: ignore[no-untyped-def]
    """The scripted repository marks its creates; what it finds is up to each test."""
    connector.marks_creates = True
    connector.found = None
    connector.looks = []

    def find_created(client, job: Job) -> StepResult | None:  # type: ignore[no-untyped-def]
        connector.looks.append(job.create_marker)
        return connector.found

    connector.find_created = find_created
    return connector


def _timed_out_create(target: Target, member, connector) -> None:  # type: ignore[no-untyped-def]
    lifecycle.request(target, Action.PUBLISH, user=member)
    connector.failures["create"] = [TransientError("Scripted did not answer within 120 s")]
    lifecycle.advance(target.pk)
    # the index grace is over; the request could still land for minutes
    Target.objects.filter(pk=target.pk).update(
        create_started_at=timezone.now() - timedelta(seconds=30), next_attempt_at=None
    )
    target.refresh_from_db()


def test_an_unanswered_create_is_looked_for_not_made_again(target, member, marking):
    _timed_out_create(target, member, marking)
    lands_by = target.create_lands_by
    assert lands_by is not None and lands_by > timezone.now() + timedelta(minutes=2)

    outcome = lifecycle.advance(target.pk)
    target.refresh_from_db()
    assert [step for step, _ in marking.calls] == ["create"]  # not sent a second time
    assert marking.looks == [target.create_marker]
    assert outcome.again and 0 < outcome.countdown <= 20
    assert target.state == State.WORKING and target.attempts == 1  # a look is not a retry
    assert "may still land" in target.progress["waiting"]
    assert target.create_lands_by == lands_by  # looking keeps the window

    # it lands: the next look adopts it and the deposit goes on from there
    marking.found = StepResult(remote_id="77", remote_state="unsubmitted", message="Adopted")
    Target.objects.filter(pk=target.pk).update(next_attempt_at=None)
    lifecycle.advance(target.pk)
    target.refresh_from_db()
    assert target.remote_id == "77" and target.current_step == "upload"
    assert [step for step, _ in marking.calls] == ["create"]


def test_once_it_can_no_longer_land_the_create_is_made_again(target, member, marking):
    _timed_out_create(target, member, marking)
    Target.objects.filter(pk=target.pk).update(
        create_lands_by=timezone.now() - timedelta(seconds=1)
    )
    lifecycle.advance(target.pk)
    target.refresh_from_db()
    (_, second) = marking.calls
    assert second[0] == "create" and second[1].resumed  # the connector looks once more itself
    assert marking.looks == []
    assert target.remote_id == "42"


def test_a_create_that_was_answered_waits_only_for_the_index(target, member, marking):
    """A create refused with an HTTP reply was finished by the repository: it cannot land
    later, so the next attempt does not spend minutes looking for it."""
    scripted_run = marking.run_step

    def run_step(step, client, job, progress):  # type: ignore[no-untyped-def]
        if step == "create" and not marking.calls:
            marking.calls.append((step, job))
            client.request("POST", "deposit/depositions", json={})
        return scripted_run(step, client, job, progress)

    marking.run_step = run_step
    marking.parse_error = lambda status, body, content_type: TransientError(f"{status}")
    lifecycle.request(target, Action.PUBLISH, user=member)
    url = f"{target.account.base_url}/deposit/depositions"
    with responses.RequestsMock() as rsps:
        rsps.post(url, status=500, json={"status": 500, "message": "Internal error"})
        lifecycle.advance(target.pk)
    target.refresh_from_db()
    assert target.create_marker and target.create_lands_by is None
    assert target.attempts == 1
    Target.objects.filter(pk=target.pk).update(
        create_started_at=timezone.now() - timedelta(seconds=30), next_attempt_at=None
    )
    lifecycle.advance(target.pk)
    target.refresh_from_db()
    assert marking.looks == [] and target.remote_id == "42"


def test_a_target_that_does_not_mark_creates_never_looks(target, member, connector):
    connector.marks_creates = False
    _timed_out_create(target, member, connector)
    lifecycle.advance(target.pk)
    assert [step for step, _ in connector.calls] == ["create", "create"]
