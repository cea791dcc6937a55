"""Policy routing through real workers and the Zenodo sandbox: a target that needs review
never reaches the repository before a curator approves it, and is published after."""

from __future__ import annotations

import time

import pytest

from deposits.lifecycle import review
from deposits.models import ApiCall, Identifier, State
from tests.e2e.zenodo_helpers import (
    control,
    counters,
    deposit_with_files,
    sandbox_account,
    wait_for_state,
)
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e]


def test_nothing_reaches_the_repository_before_approval(live_system, team, member):
    control(live_system, {"wipe": True})
    team.review_required = True
    team.save()
    curator = MembershipFactory(team=team, role="curator", user=UserFactory(username="grace")).user
    account, _ = sandbox_account(live_system, team)
    target = deposit_with_files(team, account, {"data.csv": b"a,b\n1,2\n"})
    live_system.start_worker()
    live_system.start_beat()  # the reconciler runs too: it must not send it either

    review.submit(target.deposit, user=member, message="First version")
    time.sleep(6)  # a worker and the reconciler have had time to pick up anything queued
    target.refresh_from_db()
    assert target.state == State.AWAITING_REVIEW
    assert not ApiCall.objects.filter(account=account).exclude(method="GET").exists()
    assert counters(live_system)["depositions_created"] == 0

    review.approve(target.deposit, user=curator)
    wait_for_state(target, {State.PUBLISHED, State.FAILED})
    assert target.state == State.PUBLISHED, target.last_error
    assert counters(live_system)["depositions_created"] == 1
    assert Identifier.objects.filter(target=target, scope="version").exists()
