"""The review lifecycle: policy routing, submit, withdraw, approve, return, the thread."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from deposits import lifecycle
from deposits.lifecycle import review
from deposits.models import (
    Action,
    CommentKind,
    Event,
    Notification,
    NotificationKind,
    ReviewRule,
    ReviewState,
    State,
    Target,
)
from deposits.repositories.base import Problem
from tests.factories import (
    AccountFactory,
    DepositFactory,
    MembershipFactory,
    TargetFactory,
    add_file,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(team, zenodo_account, member, connector):  # type: ignore[no-untyped-def]
    """A ready target of ada's deposit, on a team whose policy needs review."""
    team.review_required = True
    team.save()
    deposit = DepositFactory(team=team, created_by=member)
    add_file(deposit, "a.csv", b"1,2,3\n")
    target = TargetFactory(deposit=deposit, account=zenodo_account)
    lifecycle.revalidate(deposit)
    target.refresh_from_db()
    assert target.state == State.READY
    return target


def test_a_target_that_needs_review_cannot_be_published_directly(reviewed, member):
    assert Action.PUBLISH not in lifecycle.allowed_actions(reviewed)
    with pytest.raises(lifecycle.NotAllowed, match="needs a curator's approval"):
        lifecycle.request(reviewed, Action.PUBLISH, user=member)
    reviewed.refresh_from_db()
    assert reviewed.state == State.READY


def test_the_accounts_rule_overrides_the_teams_policy(reviewed, team):
    account = reviewed.account
    account.review = ReviewRule.NOT_REQUIRED
    account.save()
    reviewed.refresh_from_db()
    assert not lifecycle.needs_review(reviewed)
    assert Action.PUBLISH in lifecycle.allowed_actions(reviewed)
    team.review_required = False
    team.save()
    account.review = ReviewRule.REQUIRED
    account.save()
    reviewed.refresh_from_db()
    assert lifecycle.needs_review(reviewed)


def test_submit_moves_the_targets_to_review_and_tells_the_curators(
    reviewed, member, curator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        request = review.submit(reviewed.deposit, user=member, message="Please check the license")
    reviewed.refresh_from_db()
    assert reviewed.state == State.AWAITING_REVIEW
    assert request.state == ReviewState.OPEN
    assert list(request.targets.all()) == [reviewed]
    assert request.actions == {str(reviewed.pk): "publish"}
    thread = list(reviewed.deposit.comments.all())
    assert [(c.kind, c.body) for c in thread] == [
        (CommentKind.SUBMITTED, "Please check the license")
    ]
    assert Event.objects.filter(deposit=reviewed.deposit, kind="review_submitted").exists()
    told = Notification.objects.get(kind=NotificationKind.REVIEW_REQUESTED)
    assert told.user == curator  # not the submitter
    assert member in reviewed.deposit.followers.all()
    # while it waits the author cannot change it, a curator can
    assert lifecycle.edit_locked_reason([reviewed], "metadata")
    assert not lifecycle.edit_locked_reason([reviewed], "metadata", reviewer=True)


def test_a_second_submit_and_a_submit_with_problems_are_refused(reviewed, member, connector):
    review.submit(reviewed.deposit, user=member)
    with pytest.raises(lifecycle.NotAllowed, match="already awaiting review"):
        review.submit(reviewed.deposit, user=member)
    review.withdraw(reviewed.deposit, user=member)
    connector.problems = [Problem("license", "Choose a license.", repository="zenodo")]
    lifecycle.revalidate(reviewed.deposit)
    with pytest.raises(lifecycle.NotAllowed, match="fix"):
        review.submit(reviewed.deposit, user=member)


def test_nothing_to_submit_when_no_repository_needs_review(reviewed, team, member):
    team.review_required = False
    team.save()
    with pytest.raises(lifecycle.NotAllowed, match="publish it directly"):
        review.submit(reviewed.deposit, user=member)


def test_return_needs_a_reason_and_gives_the_deposit_back(reviewed, member, curator):
    review.submit(reviewed.deposit, user=member)
    with pytest.raises(lifecycle.NotAllowed, match="why you return it"):
        review.return_to_author(reviewed.deposit, user=curator, reason="   ")
    reviewed.refresh_from_db()
    assert reviewed.state == State.AWAITING_REVIEW
    request = review.return_to_author(reviewed.deposit, user=curator, reason="Add the ORCID")
    reviewed.refresh_from_db()
    assert reviewed.state == State.READY  # back to the author, still valid
    assert request.state == ReviewState.RETURNED and request.reason == "Add the ORCID"
    told = Notification.objects.get(kind=NotificationKind.RETURNED)
    assert told.user == member and "Add the ORCID" in told.message
    assert not lifecycle.edit_locked_reason([reviewed], "metadata")
    # resubmitting is a new request, recorded as such
    review.submit(reviewed.deposit, user=member)
    assert Event.objects.filter(kind="review_resubmitted").count() == 1
    assert reviewed.deposit.reviews.count() == 2


def test_approval_queues_the_publish_and_the_worker_publishes(reviewed, member, curator):
    review.submit(reviewed.deposit, user=member)
    assert lifecycle.advance(reviewed.pk).again is False  # a worker asked early does nothing
    reviewed.refresh_from_db()
    assert reviewed.state == State.AWAITING_REVIEW and reviewed.remote_id == ""
    review.approve(reviewed.deposit, user=curator, message="Looks good")
    reviewed.refresh_from_db()
    assert reviewed.state == State.QUEUED and reviewed.action == Action.PUBLISH
    for _ in range(10):
        if not lifecycle.advance(reviewed.pk).again:
            break
        Target.objects.filter(pk=reviewed.pk).update(next_attempt_at=None)
    reviewed.refresh_from_db()
    assert reviewed.state == State.PUBLISHED
    assert Notification.objects.filter(kind=NotificationKind.APPROVED, user=member).exists()
    states = list(
        Event.objects.filter(target=reviewed, kind="state")
        .order_by("created", "id")
        .values_list("to_state", flat=True)
    )
    assert states[:4] == [State.READY, State.AWAITING_REVIEW, State.APPROVED, State.QUEUED]


def test_only_reviewers_approve_and_not_their_own_unless_the_policy_says(
    reviewed, team, member, curator, stranger
):
    review.submit(reviewed.deposit, user=member)
    with pytest.raises(PermissionDenied):
        review.approve(reviewed.deposit, user=member)
    with pytest.raises(PermissionDenied):
        review.approve(reviewed.deposit, user=stranger)
    review.withdraw(reviewed.deposit, user=member)
    review.submit(reviewed.deposit, user=curator)
    with pytest.raises(lifecycle.NotAllowed, match="someone else"):
        review.approve(reviewed.deposit, user=curator)
    team.self_approval = True
    team.save()
    review.approve(reviewed.deposit, user=curator)
    reviewed.refresh_from_db()
    assert reviewed.state == State.QUEUED


def test_members_review_where_the_policy_lets_them(reviewed, team, member):
    colleague = MembershipFactory(team=team, role="member").user
    review.submit(reviewed.deposit, user=member)
    with pytest.raises(PermissionDenied):
        review.return_to_author(reviewed.deposit, user=colleague, reason="x")
    team.members_review = True
    team.save()
    review.return_to_author(reviewed.deposit, user=colleague, reason="Typo in the title")
    reviewed.refresh_from_db()
    assert reviewed.state == State.READY


def test_approval_is_refused_when_the_repository_rules_now_fail(
    reviewed, member, curator, connector
):
    review.submit(reviewed.deposit, user=member)
    connector.problems = [Problem("license", "Choose a license.", repository="zenodo")]
    with pytest.raises(lifecycle.NotAllowed, match="Choose a license"):
        review.approve(reviewed.deposit, user=curator)
    reviewed.refresh_from_db()
    assert reviewed.state == State.AWAITING_REVIEW
    assert review.open_review(reviewed.deposit) is not None


def test_a_withdrawn_request_frees_the_deposit(reviewed, member):
    review.submit(reviewed.deposit, user=member)
    request = review.withdraw(reviewed.deposit, user=member)
    reviewed.refresh_from_db()
    assert reviewed.state == State.READY and request.state == ReviewState.WITHDRAWN
    with pytest.raises(lifecycle.NotAllowed, match="not awaiting review"):
        review.withdraw(reviewed.deposit, user=member)


def test_comments_reach_the_others_in_the_thread(reviewed, member, curator):
    review.submit(reviewed.deposit, user=member)
    review.add_comment(reviewed.deposit, user=curator, body="Is the license right?")
    assert Notification.objects.filter(kind=NotificationKind.COMMENT, user=member).exists()
    assert not Notification.objects.filter(kind=NotificationKind.COMMENT, user=curator).exists()
    with pytest.raises(lifecycle.NotAllowed, match="Write a message"):
        review.add_comment(reviewed.deposit, user=member, body=" ")


def test_only_targets_that_need_review_wait(reviewed, team, member, curator):
    other = AccountFactory(team=team, label="Zenodo 2", review=ReviewRule.NOT_REQUIRED)
    free = TargetFactory(deposit=reviewed.deposit, account=other)
    lifecycle.revalidate(reviewed.deposit)
    free.refresh_from_db()
    request = review.submit(reviewed.deposit, user=member)
    free.refresh_from_db()
    assert list(request.targets.all()) == [reviewed]
    assert free.state == State.READY
    assert Action.PUBLISH in lifecycle.allowed_actions(free)


def test_only_the_submitter_the_creator_or_a_curator_withdraws(reviewed, team, member, curator):
    colleague = MembershipFactory(team=team, role="member").user
    review.submit(reviewed.deposit, user=member)
    with pytest.raises(PermissionDenied, match="Only ada, the deposit"):
        review.withdraw(reviewed.deposit, user=colleague)
    assert review.open_review(reviewed.deposit) is not None
    review.withdraw(reviewed.deposit, user=curator)
    assert review.open_review(reviewed.deposit) is None
