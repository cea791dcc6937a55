"""A 429 that does not say when to come back (issue 9 item 9): the card says why the
target waits and when it tries next, and the account backs off instead of polling."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import responses
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deposits import lifecycle
from deposits.models import State, Target
from deposits.repositories import limiter as limiter_module
from deposits.repositories.limiter import get_limiter


def _queue_publish(target: Any) -> None:
    Target.objects.filter(pk=target.pk).update(state=State.QUEUED, action="publish")


def test_a_hintless_429_shows_its_reason_and_the_next_attempt(
    owner_client: Client, target: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a pause long enough that the test's second look surely falls inside it
    monkeypatch.setattr(limiter_module, "BACKOFF_BASE_SECONDS", 60.0)
    account = target.account
    limiter = get_limiter()
    limiter.reset(account.limiter_key, account.effective_rate_windows())
    _queue_publish(target)
    create = f"{account.base_url}/deposit/depositions"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(create, status=429, body="Too many requests")
        outcome = lifecycle.advance(target.pk)
        target.refresh_from_db()
        assert outcome.again and 59 <= outcome.countdown <= 60
        assert target.state == State.WORKING and target.attempts == 0
        waiting = target.progress["waiting"]
        assert "did not say when to try again (no Retry-After)" in waiting
        assert "pauses 60 s" in waiting
        expected = timezone.now() + timedelta(seconds=60)
        assert abs((target.next_attempt_at - expected).total_seconds()) < 5

        html = owner_client.get(reverse("target-card", args=[target.pk])).content.decode()
        assert "no Retry-After" in html
        shown = timezone.localtime(target.next_attempt_at).strftime("%H:%M:%S")
        assert "Next attempt at <time datetime=" in html and shown in html

        # Even when a worker comes early (and the create's grace is over), nothing is
        # sent while the account is paused.
        Target.objects.filter(pk=target.pk).update(
            next_attempt_at=None, create_started_at=timezone.now() - timedelta(minutes=5)
        )
        lifecycle.advance(target.pk)
        assert len(rsps.calls) == 1
    target.refresh_from_db()
    assert "asked the portal to slow down" in target.progress["waiting"]
    limiter.reset(account.limiter_key, account.effective_rate_windows())
