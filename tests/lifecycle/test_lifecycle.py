from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deposits import lifecycle
from deposits.models import Action, Event, Identifier, RemoteFile, State, Target
from deposits.repositories.base import (
    AuthError,
    Problem,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from tests.factories import DepositFactory, TargetFactory, add_file, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(team, zenodo_account, connector):  # type: ignore[no-untyped-def]
    deposit = DepositFactory(team=team)
    add_file(deposit, "a.csv", b"1,2,3\n")
    add_file(deposit, "b.csv", b"4,5,6\n")
    t = TargetFactory(deposit=deposit, account=zenodo_account)
    lifecycle.revalidate(deposit)
    t.refresh_from_db()
    return t


def run_until_idle(target: Target, limit: int = 20) -> list[lifecycle.Outcome]:
    outcomes = []
    for _ in range(limit):
        outcome = lifecycle.advance(target.pk)
        outcomes.append(outcome)
        Target.objects.filter(pk=target.pk).update(next_attempt_at=None)
        if not outcome.again:
            break
    target.refresh_from_db()
    return outcomes


def test_it_moves_a_valid_draft_to_ready_and_back_when_a_problem_appears(target, connector):
    assert target.state == State.READY
    connector.problems = [Problem("license", "Choose a license.", repository="zenodo")]
    lifecycle.revalidate(target.deposit)
    target.refresh_from_db()
    assert target.state == State.DRAFT
    assert target.problems[0]["field"] == "license"
    kinds = list(
        Event.objects.filter(target=target, kind="state").values_list("to_state", flat=True)
    )
    assert State.DRAFT in kinds and State.READY in kinds


def test_it_refuses_an_illegal_transition(target):
    with pytest.raises(lifecycle.NotAllowed):
        lifecycle.transition(target, State.PUBLISHED)


def test_it_refuses_to_publish_while_problems_remain(target, member, connector):
    connector.problems = [Problem("creators", "Add at least one creator.", repository="zenodo")]
    lifecycle.revalidate(target.deposit)
    target.refresh_from_db()
    with pytest.raises(lifecycle.NotAllowed, match="Fix the problems"):
        lifecycle.request(target, Action.PUBLISH, user=member)


def test_it_queues_a_publish_and_sends_the_task_after_commit(
    target, member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lifecycle.request(target, Action.PUBLISH, user=member)
    target.refresh_from_db()
    assert target.state == State.QUEUED
    assert len(callbacks) == 1
    assert Event.objects.filter(target=target, to_state=State.QUEUED, actor=member).exists()


def test_it_publishes_step_by_step_and_records_each_result(target, member, connector):
    lifecycle.request(target, Action.PUBLISH, user=member)
    run_until_idle(target)
    assert target.state == State.PUBLISHED
    assert target.remote_id == "42"
    assert [step for step, _ in connector.calls] == ["create", "upload", "upload", "publish"]
    assert set(RemoteFile.objects.filter(target=target).values_list("status", flat=True)) == {
        "done"
    }
    scopes = dict(Identifier.objects.filter(target=target).values_list("scope", "value"))
    assert scopes == {"version": "10.5072/zenodo.42", "concept": "10.5072/zenodo.41"}
    # The remote id was known to the second step: results are recorded before the next one.
    assert connector.calls[1][1].remote_id == "42"


def test_it_does_nothing_while_another_worker_holds_the_lease(target, member, connector):
    lifecycle.request(target, Action.PUBLISH, user=member)
    Target.objects.filter(pk=target.pk).update(
        lease_token="other", lease_until=timezone.now() + timedelta(seconds=60)
    )
    assert lifecycle.advance(target.pk).again is False
    assert connector.calls == []


def test_it_writes_the_create_marker_before_creating_and_waits_before_a_second_try(
    target, member, connector
):
    lifecycle.request(target, Action.PUBLISH, user=member)
    connector.failures["create"] = [TransientError("connection reset")]
    lifecycle.advance(target.pk)  # queued -> working, create fails after the marker is stored
    target.refresh_from_db()
    marker = target.create_marker
    assert marker.startswith("deposit-portal:")
    Target.objects.filter(pk=target.pk).update(next_attempt_at=None)
    outcome = lifecycle.advance(target.pk)
    # Too soon: a draft made by the interrupted call may not be listed yet.
    assert outcome.again and outcome.countdown > 0
    assert [s for s, _ in connector.calls] == ["create"]
    Target.objects.filter(pk=target.pk).update(
        create_started_at=timezone.now() - timedelta(minutes=1), next_attempt_at=None
    )
    lifecycle.advance(target.pk)
    assert connector.calls[-1][1].create_marker == marker


def test_it_retries_transient_faults_with_backoff_then_fails_retryably(
    target, member, connector, settings
):
    settings.MAX_TRANSIENT_RETRIES = 2
    lifecycle.request(target, Action.PUBLISH, user=member)
    connector.failures["publish"] = [TransientError("Zenodo answered 502")] * 3
    outcomes = run_until_idle(target)
    retries = [o for o in outcomes if o.countdown > 0]
    assert len(retries) == 2
    assert target.state == State.FAILED
    assert target.retryable is True
    assert "Gave up after 2 retries" in target.last_error
    uploaded_before = list(connector.uploaded)
    lifecycle.retry(target, user=member)
    run_until_idle(target)
    assert target.state == State.PUBLISHED
    assert target.remote_id == "42"
    # The steps ran again from the start, but nothing already done was sent twice.
    assert connector.uploaded == uploaded_before == ["a.csv", "b.csv"]


def test_it_fails_on_a_validation_error_with_the_repositorys_problems(target, member, connector):
    lifecycle.request(target, Action.PUBLISH, user=member)
    connector.failures["publish"] = [
        ValidationFailed(
            "Zenodo rejected the metadata.",
            problems=[Problem("license", "Invalid license provided: cc-by", source="zenodo")],
        )
    ]
    run_until_idle(target)
    assert target.state == State.FAILED and target.retryable is False
    assert {
        "field": "license",
        "message": "Invalid license provided: cc-by",
        "source": "zenodo",
        "repository": "",
    } in target.problems
    assert lifecycle.problems_by_field(target.deposit)["license"][0].source == "zenodo"


def test_it_flags_the_account_for_relinking_on_an_auth_error(target, member, connector):
    lifecycle.request(target, Action.PUBLISH, user=member)
    connector.failures["create"] = [AuthError("Zenodo refused the token; relink the account")]
    run_until_idle(target)
    target.account.refresh_from_db()
    # The token is held and the target waits for a relink (issue 9 item 6): it does not fail.
    assert target.state == State.WORKING
    assert target.account.needs_relink and target.account.held
    assert "needs relinking" in target.last_error
    with pytest.raises(lifecycle.NotAllowed):
        lifecycle.retry(target, user=member)


def test_it_requeues_for_the_rate_budget_without_counting_an_attempt(target, member, connector):
    lifecycle.request(target, Action.PUBLISH, user=member)
    connector.failures["create"] = [RateLimited("no budget", retry_after=7)]
    outcome = lifecycle.advance(target.pk)
    target.refresh_from_db()
    assert outcome.again and outcome.countdown == 7
    assert target.attempts == 0 and target.state == State.WORKING
    assert target.lease_token == ""  # never holds the target while waiting
    # Nothing was sent: the next attempt is a first one, not a resumed one.
    assert target.step_started is None and target.create_started_at is None
    Target.objects.filter(pk=target.pk).update(next_attempt_at=None)
    lifecycle.advance(target.pk)
    assert connector.calls[-1][0] == "create" and not connector.calls[-1][1].resumed


def test_the_reconciler_resumes_a_target_whose_worker_died(
    target, member, connector, django_capture_on_commit_callbacks
):
    lifecycle.request(target, Action.PUBLISH, user=member)
    lifecycle.advance(target.pk)  # create done
    # A worker claimed the next step and was killed: its lease runs out.
    Target.objects.filter(pk=target.pk).update(
        lease_token="dead", lease_until=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert lifecycle.reconcile() == 1
    assert len(callbacks) == 1
    assert Event.objects.filter(target=target, kind="resumed").exists()
    run_until_idle(target)
    assert target.state == State.PUBLISHED
    assert [s for s, _ in connector.calls].count("create") == 1


def test_deleting_the_remote_draft_returns_the_target_to_a_fresh_state(target, member, connector):
    lifecycle.request(target, Action.PUBLISH, user=member)
    connector.failures["publish"] = [ValidationFailed("rejected")]
    run_until_idle(target)
    assert target.state == State.FAILED and target.remote_id == "42"
    assert Action.DELETE in lifecycle.allowed_actions(target)
    lifecycle.request(target, Action.DELETE, user=member)
    run_until_idle(target)
    assert target.state == State.READY
    assert target.remote_id == "" and not target.remote_files.exists()


def test_edits_are_locked_while_a_worker_or_a_curator_has_the_deposit(target):
    assert lifecycle.edit_locked_reason([target], "files") == ""
    Target.objects.filter(pk=target.pk).update(state=State.AWAITING_REVIEW)
    target.refresh_from_db()
    assert "curator is reviewing" in lifecycle.edit_locked_reason([target], "metadata")
    Target.objects.filter(pk=target.pk).update(state=State.WORKING)
    target.refresh_from_db()
    reason = lifecycle.edit_locked_reason([target], "files")
    assert "is working on this deposit: its files can change again" in reason


def test_a_step_knows_when_it_is_resumed_and_a_file_is_marked_before_its_bytes_move(
    target, member, connector
):
    statuses: list[str] = []

    def upload(job):  # type: ignore[no-untyped-def]
        current = next(job.pending_files())
        statuses.append(RemoteFile.objects.get(target=target, name=current.name).status)
        raise TransientError("connection reset mid-upload")

    lifecycle.request(target, Action.PUBLISH, user=member)
    lifecycle.advance(target.pk)  # create
    connector.on_step["upload"] = upload
    lifecycle.advance(target.pk)
    Target.objects.filter(pk=target.pk).update(next_attempt_at=None)
    del connector.on_step["upload"]
    lifecycle.advance(target.pk)

    # The file was marked before the first attempt sent anything.
    assert statuses == ["uploading"]
    resumed = [(step, job.resumed) for step, job in connector.calls]
    assert resumed == [("create", False), ("upload", False), ("upload", True)]
    # The retried file arrives at the connector as one an earlier attempt began.
    assert connector.calls[2][1].files[0].status == "failed"


@pytest.mark.usefixtures("connector")
def test_a_backlog_takes_turns_per_account_oldest_first(
    team, zenodo_account, member, settings, monkeypatch
):
    from deposits.lifecycle import worker

    settings.MAX_ACTIVE_TARGETS_PER_ACCOUNT = 1
    targets = []
    for title in ("first", "second", "third"):
        deposit = DepositFactory(team=team, metadata=record(title=title))
        add_file(deposit, "a.csv", b"1\n")
        t = TargetFactory(deposit=deposit, account=zenodo_account)
        lifecycle.revalidate(deposit)
        t.refresh_from_db()
        lifecycle.request(t, Action.PUBLISH, user=member)
        targets.append(t)
    first, second, third = targets
    started: list[int] = []
    monkeypatch.setattr(worker, "enqueue", lambda pk, **kw: started.append(pk))

    lifecycle.advance(first.pk)  # first starts working
    assert lifecycle.advance(third.pk).again is False  # no room: it waits, untouched
    third.refresh_from_db()
    assert third.state == State.QUEUED

    run_until_idle(first)
    assert first.state == State.PUBLISHED
    # The account has room again: the longest-waiting target is started, and only it.
    assert started == [second.pk]


def test_progress_counts_only_the_files_the_repository_is_sent(target):
    from deposits.lifecycle.leases import ProgressWriter
    from deposits.repositories.base import FileJob, FileState, Job

    def file(name: str, size: int, status: FileState) -> FileJob:
        return FileJob(name, size, "0" * 32, "0" * 64, open=lambda: None, status=status)  # type: ignore[arg-type,return-value]

    job = Job(
        target_id=target.pk,
        action="publish",
        metadata={},
        options={},
        files=[
            file("AB12_R1.fastq.gz", 10, FileState.DONE),
            file("CD34_R1.fastq.gz", 20, FileState.PENDING),
            file("README.md", 5, FileState.PENDING),
        ],
    )
    ProgressWriter(target, "token", job, {"README.md"})
    target.refresh_from_db()
    assert target.progress == {
        "files_done": 1,
        "files_total": 2,
        "bytes_done": 10,
        "bytes_total": 30,
    }
