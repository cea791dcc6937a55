"""The shared rate limiter when its Redis cannot be reached: a worker backs off and
retries the step (a transient error), it never fails the target as "Unexpected error";
the accounts page shows the budget as unknown. Against a real Redis client on a port
where nothing listens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from deposits import lifecycle
from deposits.models import Action, Event, State
from deposits.repositories.base import TransientError
from deposits.repositories.limiter import Limiter, RateWindow, get_limiter
from tests.factories import DepositFactory, TargetFactory, add_file
from tests.livesystem import free_port

pytestmark = pytest.mark.django_db

WINDOWS = [RateWindow(100, 60)]


@pytest.fixture
def redis_down(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The process-wide limiter, on a Redis that is not there."""
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    get_limiter.cache_clear()
    yield settings.REDIS_URL
    get_limiter.cache_clear()


def test_acquire_and_usage_say_the_limiter_is_unreachable(redis_down):
    limiter = get_limiter()
    with pytest.raises(TransientError, match=r"rate limiter \(Redis\) is unreachable"):
        limiter.acquire("key", WINDOWS)
    with pytest.raises(TransientError, match=r"rate limiter \(Redis\) is unreachable"):
        limiter.usage("key", WINDOWS)


def test_observe_keeps_the_reply_when_the_limiter_is_unreachable(redis_down):
    # The request already went out: its reply stands, only the hint is not recorded.
    assert isinstance(get_limiter(), Limiter)
    seen = get_limiter().observe("key", WINDOWS, status=429, headers={"Retry-After": "30"})
    assert seen is None


def test_a_worker_retries_a_step_while_the_limiter_is_unreachable(
    team, member, zenodo_account, redis_down, django_capture_on_commit_callbacks
):
    deposit = DepositFactory(team=team)
    add_file(deposit, "a.csv", b"1,2,3\n")
    target = TargetFactory(deposit=deposit, account=zenodo_account)
    lifecycle.revalidate(deposit)
    target.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False):  # no broker here: not sent
        lifecycle.request(target, Action.PUBLISH, user=member)

    with responses.RequestsMock():  # nothing may reach the repository either
        outcome = lifecycle.advance(target.pk)

    target.refresh_from_db()
    assert outcome.again and outcome.countdown > 0
    assert target.state == State.WORKING
    assert "rate limiter (Redis) is unreachable" in target.last_error
    assert target.events.filter(kind="retry").exists()
    assert not Event.objects.filter(message__contains="Unexpected error").exists()


def test_the_accounts_page_shows_the_budget_as_unknown(client, member, zenodo_account, redis_down):
    client.force_login(member)
    page = client.get("/accounts/")
    assert page.status_code == 200
    assert "unknown" in page.content.decode()


def test_a_check_that_could_not_be_sent_can_be_asked_for_again(
    zenodo_account, monkeypatch, django_capture_on_commit_callbacks
):
    """With the broker down, Check now says it could not check, and the next press (once
    Redis is back) asks again instead of waiting for a check nobody is running."""
    from celery import current_app
    from kombu.exceptions import OperationalError

    from deposits.lifecycle.accounts import request_check
    from deposits.lifecycle.states import QueueUnreachable
    from deposits.models.accounts import CheckState

    def broker_down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(current_app, "send_task", broker_down)
    with pytest.raises(QueueUnreachable), django_capture_on_commit_callbacks(execute=True):
        assert request_check(zenodo_account.pk)
    zenodo_account.refresh_from_db()
    assert zenodo_account.check_state == CheckState.IDLE
    monkeypatch.undo()
    with django_capture_on_commit_callbacks() as sent:
        assert request_check(zenodo_account.pk)
    assert len(sent) == 1
