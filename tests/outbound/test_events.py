"""Which news becomes which webhook event, made by the real lifecycle: a submit, a
return, an approval (review), and a worker finishing a publish, a new version or a
failure (notifications.target_finished). Each payload holds ids, identifiers and links."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import TestCase

from deposits import lifecycle
from deposits.lifecycle import review
from deposits.models import (
    Action,
    DeliveryStatus,
    OutboundDelivery,
    State,
    Target,
    WebhookEvent,
)
from deposits.notifications import target_finished
from deposits.outbound.events import emit
from deposits.repositories.errors import PermanentError
from tests.factories import DepositFactory, SubscriptionFactory, TargetFactory, add_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription(team):  # type: ignore[no-untyped-def]
    return SubscriptionFactory(team=team)


def sent() -> list[str]:
    return list(OutboundDelivery.objects.order_by("pk").values_list("event", flat=True))


def publish(target: Target) -> None:
    for _ in range(12):
        if not lifecycle.advance(target.pk).again:
            break
        Target.objects.filter(pk=target.pk).update(next_attempt_at=None)
    target.refresh_from_db()


def test_review_steps_are_told(reviewed, subscription, member, curator, settings):
    deposit = reviewed.deposit
    review.submit(deposit, user=member)
    review.return_to_author(deposit, user=curator, reason="Add the funder.")
    review.submit(deposit, user=member)
    approved = review.approve(deposit, user=curator)
    assert sent() == [
        "deposit.submitted",
        "deposit.returned",
        "deposit.submitted",
        "deposit.approved",
    ]
    payload = OutboundDelivery.objects.get(event="deposit.approved").payload
    assert payload["type"] == "deposit.approved"
    data = payload["data"]
    assert data["review"] == {"id": approved.pk, "targets": [reviewed.pk]}
    assert data["deposit"] == {
        "id": deposit.pk,
        "title": str(deposit),
        "url": f"{settings.PORTAL_BASE_URL}/deposits/{deposit.pk}/",
    }
    assert [t["id"] for t in data["targets"]] == [reviewed.pk]
    assert data["targets"][0]["repository"]["label"] == reviewed.account.label


def test_a_publish_and_a_failure_are_told_by_the_worker(reviewed, subscription, member, curator):
    review.submit(reviewed.deposit, user=member)
    review.approve(reviewed.deposit, user=curator)
    publish(reviewed)
    assert reviewed.state == State.PUBLISHED
    assert sent()[-1] == "deposit.published"
    target = OutboundDelivery.objects.get(event="deposit.published").payload["data"]["target"]
    assert target["id"] == reviewed.pk and target["state"] == "published"
    version = [i for i in target["identifiers"] if i["scope"] == "version"]
    assert [(i["scheme"], i["value"]) for i in version] == [("doi", "10.5072/zenodo.42")]
    assert set(target) == {"id", "repository", "state", "action", "identifiers", "record_url"}


def test_a_failure_is_told(team, zenodo_account, member, connector, subscription):
    deposit = DepositFactory(team=team, created_by=member)
    add_file(deposit, "a.csv", b"1\n")
    target = TargetFactory(deposit=deposit, account=zenodo_account)
    lifecycle.revalidate(deposit)
    target.refresh_from_db()
    connector.failures["create"] = [PermanentError("Zenodo said no: secret-ish detail")]
    lifecycle.request(target, Action.PUBLISH, user=member)
    publish(target)
    assert target.state == State.FAILED
    assert sent() == ["deposit.failed"]
    payload = OutboundDelivery.objects.get().payload
    assert "secret-ish detail" not in str(payload)  # a repository's words stay out


@pytest.mark.parametrize(
    ("state", "action", "expected"),
    [
        (State.PUBLISHED, Action.PUBLISH, ["deposit.published"]),
        (State.PUBLISHED, Action.PUBLISH_VERSION, ["deposit.new_version"]),
        (State.PUBLISHED, Action.DISCARD, []),
        (State.FAILED, Action.PUBLISH_VERSION, ["deposit.failed"]),
    ],
)
@pytest.mark.usefixtures("subscription", "connector")
def test_what_a_finished_action_tells(state, action, expected, zenodo_account):
    deposit = DepositFactory(team=zenodo_account.team)
    target = TargetFactory(deposit=deposit, account=zenodo_account, state=state, action=action)
    target_finished(target)
    assert sent() == expected


def test_only_subscriptions_wanting_it_get_it_and_switched_off_ones_hold_it(team, zenodo_account):
    wants = SubscriptionFactory(team=team, events=["deposit.published"])
    SubscriptionFactory(team=team, events=["deposit.failed"])
    off = SubscriptionFactory(team=team, enabled=False, url="https://other.example.org/")
    SubscriptionFactory(url="https://another-team.example.org/")  # another team's
    deposit = DepositFactory(team=team)
    made = emit(WebhookEvent.PUBLISHED, deposit)
    assert {(d.subscription, d.status) for d in made} == {
        (wants, DeliveryStatus.PENDING),
        (off, DeliveryStatus.HELD),
    }
    assert len({d.message_id for d in made}) == 2


def test_emit_never_breaks_the_callers_work(team, monkeypatch: Any, caplog):
    SubscriptionFactory(team=team)
    from deposits.outbound import events

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(events, "queue", broken)
    assert emit(WebhookEvent.SUBMITTED, DepositFactory(team=team)) == []
    assert "not queued" in caplog.text


class TestQueuedOnCommit(TestCase):
    def test_the_task_is_sent_when_the_transaction_commits(self) -> None:
        from unittest import mock

        from deposits.outbound import events

        team = SubscriptionFactory().team
        patched = mock.patch.object(events.current_app, "send_task")
        with patched as send_task, self.captureOnCommitCallbacks(execute=True):
            (made,) = emit(WebhookEvent.SUBMITTED, DepositFactory(team=team))
            assert send_task.call_count == 0  # not before the news is committed
        send_task.assert_called_once()
        assert send_task.call_args.args == ("deposits.tasks.deliver_webhook",)
        assert send_task.call_args.kwargs["args"] == [made.pk]
