"""Outbound deliveries to a local receiver that checks every request with the Standard
Webhooks library: signed, retried with backoff, given up, switched off after repeated
failures (the admins told), re-enabled (what was held is sent), never redirected, and
the secret never written anywhere."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from deposits.models import (
    DeliveryStatus,
    Event,
    Notification,
    NotificationKind,
    OutboundDelivery,
    Subscription,
    WebhookEvent,
)
from deposits.outbound import delivery as sending
from deposits.outbound import subscriptions as manage
from deposits.outbound.events import emit
from tests.factories import DepositFactory, SubscriptionFactory
from tests.outbound.conftest import SECRET
from tests.outbound.receiver import running

pytestmark = pytest.mark.django_db


def subscribed(team: Any, url: str, **kwargs: Any) -> Subscription:
    return SubscriptionFactory(team=team, url=url, secret=SECRET, **kwargs)


def one_delivery(team: Any, subscription: Subscription) -> OutboundDelivery:
    deposit = DepositFactory(team=team)
    (made,) = emit(WebhookEvent.SUBMITTED, deposit)
    assert made.subscription == subscription
    return made


def refreshed(delivery: OutboundDelivery) -> OutboundDelivery:
    delivery.refresh_from_db()
    return delivery


def test_a_delivery_is_signed_so_the_receiver_verifies_it(local, team):
    with running(SECRET) as receiver:
        sub = subscribed(team, receiver.url)
        made = one_delivery(team, sub)
        assert sending.deliver(made.pk) is True
    (got,) = receiver.requests
    assert got.verified, got.error
    assert got.headers["webhook-id"] == made.message_id
    assert json.loads(got.body) == made.payload == got.payload
    assert got.payload["type"] == "deposit.submitted"
    assert got.payload["data"]["team"]["id"] == team.pk
    made = refreshed(made)
    assert made.status == DeliveryStatus.DELIVERED and made.delivered_at is not None
    assert [entry["status"] for entry in made.log] == [200]
    assert made.last_status_code == 200 and made.last_error == ""


def test_a_receiver_with_another_secret_refuses_it(local, team):
    with running("whsec_" + "A" * 32) as receiver:
        made = one_delivery(team, subscribed(team, receiver.url))
        assert sending.deliver(made.pk) is False
    assert receiver.requests[0].verified is False
    assert refreshed(made).last_status_code == 400


def test_it_retries_with_backoff_until_the_receiver_takes_it(local, team):
    local.WEBHOOK_RETRY_SECONDS = [0.0, 0.0, 0.0]
    with running(SECRET, answers=[500, 500, 200]) as receiver:
        sub = subscribed(team, receiver.url, consecutive_failures=3)
        made = one_delivery(team, sub)
        results = [sending.deliver(made.pk) for _ in range(4)]
    assert results == [False, False, True, False]  # the fourth: nothing left to send
    assert [r.verified for r in receiver.requests] == [True, True, True]
    assert {r.headers["webhook-id"] for r in receiver.requests} == {made.message_id}
    made = refreshed(made)
    assert made.status == DeliveryStatus.DELIVERED
    assert [e["status"] for e in made.log] == [500, 500, 200]
    assert "The receiver answered 500" in made.log[0]["error"]
    assert all(isinstance(e["ms"], int) for e in made.log)
    sub.refresh_from_db()
    assert sub.consecutive_failures == 0  # reset by the success


def test_a_retry_waits_for_its_time(local, team):
    local.WEBHOOK_RETRY_SECONDS = [120.0]
    with running(SECRET, answers=[503]) as receiver:
        made = one_delivery(team, subscribed(team, receiver.url))
        sending.deliver(made.pk)
        sending.deliver(made.pk)  # not due yet: nothing sent
        assert len(receiver.requests) == 1
        made = refreshed(made)
        assert made.status == DeliveryStatus.RETRYING
        wait = (made.next_attempt_at - timezone.now()).total_seconds()
        assert 100 < wait <= 120
        assert made.pk not in sending.due_ids()
        assert made.pk in sending.due_ids(timezone.now() + timedelta(seconds=121))


def test_it_gives_up_after_the_last_retry(local, team):
    with running(SECRET, answers=[500]) as receiver:
        made = one_delivery(team, subscribed(team, receiver.url))
        for _ in range(5):
            sending.deliver(made.pk)
    assert len(receiver.requests) == 3  # the first attempt and two retries
    made = refreshed(made)
    assert made.status == DeliveryStatus.FAILED and len(made.log) == 3


def test_the_timestamp_is_the_attempts_and_an_old_one_is_refused(local, team):
    with running(SECRET) as receiver:
        made = one_delivery(team, subscribed(team, receiver.url))
        OutboundDelivery.objects.filter(pk=made.pk).update(
            created=timezone.now() - timedelta(hours=2)
        )
        assert sending.deliver(made.pk) is True  # made two hours ago, signed now
        got = receiver.requests[0]
        # A replay: the same message signed ten minutes ago, as an eavesdropper kept it.
        old = timezone.now() - timedelta(minutes=10)
        headers = sending.signed_headers(SECRET, made.message_id, old, got.body)
        reply = requests.post(receiver.url, data=got.body, headers=headers, timeout=5)
    assert reply.status_code == 400
    assert "too old" in receiver.requests[1].error
    assert abs(int(got.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    with pytest.raises(Exception, match="too old"):
        Webhook(SECRET).verify(got.body, headers)


def test_a_subscription_failing_again_and_again_is_switched_off_and_admins_told(
    local, team, owner, member
):
    local.WEBHOOK_DISABLE_AFTER_FAILURES = 4
    with running(SECRET, answers=[500]) as receiver:
        sub = subscribed(team, receiver.url)
        first, second = one_delivery(team, sub), one_delivery(team, sub)
        for _ in range(2):
            sending.deliver(first.pk)
            sending.deliver(second.pk)
        waiting = one_delivery(team, sub)  # made while it is off: held, not sent
        sending.deliver(waiting.pk)
    assert len(receiver.requests) == 4
    sub.refresh_from_db()
    assert sub.enabled is False and sub.disabled_at is not None
    assert "Switched off after 4 failed deliveries in a row" in sub.disabled_reason
    assert "The receiver answered 500" in sub.disabled_reason
    assert {refreshed(d).status for d in (first, second, waiting)} == {DeliveryStatus.HELD}
    (told,) = Notification.objects.filter(kind=NotificationKind.WEBHOOK_DISABLED)
    assert told.user == owner and told.deposit is None and told.team == team
    assert told.url == f"/webhooks/{sub.pk}/"
    assert "switched off" in told.message


def test_reenabling_sends_what_was_held(local, team, owner):
    local.WEBHOOK_DISABLE_AFTER_FAILURES = 1
    with running(SECRET, answers=[500, 200]) as receiver:
        sub = subscribed(team, receiver.url)
        failed_once = one_delivery(team, sub)
        sending.deliver(failed_once.pk)
        sub.refresh_from_db()
        assert sub.enabled is False
        held = one_delivery(team, sub)
        assert held.status == DeliveryStatus.HELD
        assert manage.reenable(sub, user=owner) == 2
        for made in (failed_once, held):
            assert sending.deliver(made.pk) is True
    assert [r.verified for r in receiver.requests] == [True, True, True]
    assert {refreshed(d).status for d in (failed_once, held)} == {DeliveryStatus.DELIVERED}
    assert [e["status"] for e in refreshed(failed_once).log] == [500, 200]
    sub.refresh_from_db()
    assert sub.enabled and sub.consecutive_failures == 0 and sub.disabled_reason == ""
    assert Event.objects.filter(kind="webhook", message__contains="re-enabled").exists()


def test_a_redirect_is_not_followed(local, team):
    with (
        running(SECRET) as elsewhere,
        running(SECRET, answers=[(302, {"Location": elsewhere.url})]) as receiver,
    ):
        made = one_delivery(team, subscribed(team, receiver.url))
        assert sending.deliver(made.pk) is False
    assert len(receiver.requests) == 1 and elsewhere.requests == []
    made = refreshed(made)
    assert made.last_status_code == 302 and made.status == DeliveryStatus.RETRYING
    assert made.last_error == (
        "The receiver redirected; webhooks are not followed to another address."
    )


def test_a_receiver_that_does_not_answer_is_a_failed_attempt(local, team):
    from tests.livesystem import free_port

    sub = subscribed(team, f"http://127.0.0.1:{free_port()}/nobody")
    made = one_delivery(team, sub)
    assert sending.deliver(made.pk) is False
    made = refreshed(made)
    assert made.last_status_code is None and "Could not connect" in made.last_error
    assert made.log[0]["status"] is None


def test_the_secret_is_never_logged_nor_in_the_delivery_log(local, team, caplog):
    with running(SECRET, answers=[500]) as receiver:
        sub = subscribed(team, receiver.url)
        made = one_delivery(team, sub)
        caplog.set_level(logging.DEBUG)  # from here: what the portal logs, not the factory
        sending.deliver(made.pk)
    made = refreshed(made)
    stored = json.dumps([made.log, made.last_error, made.payload])
    assert SECRET not in caplog.text and SECRET not in stored
    assert SECRET[len("whsec_") :] not in caplog.text + stored
    assert sub.secret_encrypted and SECRET not in sub.secret_encrypted


def test_two_workers_never_send_one_attempt_twice(local, team):
    with running(SECRET) as receiver:
        made = one_delivery(team, subscribed(team, receiver.url))
        # both workers read it due at once; one takes it, the other finds it taken
        first_read, second_read = sending._due(made.pk), sending._due(made.pk)
        assert first_read is not None and second_read is not None
        assert sending._take(first_read) is not None
        assert sending._take(second_read) is None
        assert sending.deliver(made.pk) is False  # a third, later: not due (leased)
    assert receiver.requests == []


def test_deliver_due_sends_what_the_broker_never_carried(local, team):
    with running(SECRET) as receiver:
        made = one_delivery(team, subscribed(team, receiver.url))
        assert sending.deliver_due() == 0  # fresh: left to its task for a while
        OutboundDelivery.objects.filter(pk=made.pk).update(
            created=timezone.now() - timedelta(minutes=1)
        )
        assert sending.deliver_due() == 1
    assert len(receiver.requests) == 1 and refreshed(made).status == DeliveryStatus.DELIVERED
