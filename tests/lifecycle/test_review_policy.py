"""Changing a team's review policy and an account's rule: admins only, always audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from deposits.lifecycle import NotAllowed, needs_review
from deposits.lifecycle.teams import set_account_review, set_team_policy
from deposits.models import Event, Team
from tests.factories import AccountFactory, TargetFactory

pytestmark = pytest.mark.django_db


def test_an_admin_turns_review_on_and_publishing_needs_approval(
    team: Team, owner: Any, zenodo_account: Any
) -> None:
    target = TargetFactory(deposit__team=team, account=zenodo_account)
    assert not needs_review(target)
    changed = set_team_policy(team, user=owner, review_required=True, members_review=False)
    assert changed == ["review_required"]
    target = type(target).objects.select_related("account", "deposit__team").get(pk=target.pk)
    assert needs_review(target)
    event = Event.objects.get(kind="policy")
    assert event.team == team and event.actor == owner and event.deposit is None
    assert event.message == "Review policy changed: publishing needs a curator's approval: yes"


def test_nothing_changed_writes_nothing(team: Team, owner: Any) -> None:
    assert set_team_policy(team, user=owner, review_required=False) == []
    assert not Event.objects.exists()


def test_a_member_cannot_change_the_policy(team: Team, owner: Any, member: Any) -> None:
    with pytest.raises(PermissionDenied, match="Only an admin of Lab A"):
        set_team_policy(team, user=member, review_required=True)
    team.refresh_from_db()
    assert not team.review_required
    assert not Event.objects.exists()


def test_an_unknown_setting_is_refused(team: Team, owner: Any) -> None:
    with pytest.raises(NotAllowed, match="no setting colour"):
        set_team_policy(team, user=owner, colour=True)


def test_an_account_rule_overrides_the_team(team: Team, owner: Any, member: Any) -> None:
    account = AccountFactory(team=team)
    Team.objects.filter(pk=team.pk).update(review_required=True)
    target = TargetFactory(deposit__team=team, account=account)

    assert set_account_review(account, user=owner, rule="not_required")
    target.refresh_from_db()
    assert not needs_review(type(target).objects.get(pk=target.pk))
    event = Event.objects.get(kind="policy")
    assert event.data == {"account": account.pk, "review": ["", "not_required"]}
    assert not set_account_review(account, user=owner, rule="not_required")
    assert Event.objects.count() == 1

    with pytest.raises(PermissionDenied):
        set_account_review(account, user=member, rule="required")
    with pytest.raises(NotAllowed, match="is not a review rule"):
        set_account_review(account, user=owner, rule="sometimes")
    account.refresh_from_db()
    assert account.review == "not_required"
