"""Published or failed, through the worker path (advance() on the scripted connector): the
deposit's author and its followers are told, with the DOI or the reason (issue 10)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from deposits import lifecycle, notifications
from deposits.models import Action, EmailChoice, Notification, NotificationKind, State, Target
from deposits.repositories.base import PermanentError, TransientError
from tests.factories import DepositFactory, MembershipFactory, TargetFactory, UserFactory, add_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def follower(team: Any) -> Any:
    return MembershipFactory(
        team=team, user=UserFactory(username="grace", email="grace@example.org")
    ).user


@pytest.fixture
def target(team, member, follower, zenodo_account, connector):  # type: ignore[no-untyped-def]
    member.email = "ada@example.org"
    member.save()
    deposit = DepositFactory(team=team, created_by=member)
    deposit.followers.add(follower)
    add_file(deposit, "a.csv", b"1,2,3\n")
    t = TargetFactory(deposit=deposit, account=zenodo_account)
    lifecycle.revalidate(deposit)
    t.refresh_from_db()
    return t


def run_until_idle(target: Target, limit: int = 20) -> None:
    for _ in range(limit):
        outcome = lifecycle.advance(target.pk)
        Target.objects.filter(pk=target.pk).update(next_attempt_at=None)
        if not outcome.again:
            break
    target.refresh_from_db()


def told(target: Target) -> dict[str, Notification]:
    rows = Notification.objects.filter(deposit=target.deposit).select_related("user")
    return {n.user.username: n for n in rows}


def test_the_author_and_followers_are_told_of_the_doi(target, member, owner, follower):
    EmailChoice.objects.create(user=follower, kind=NotificationKind.PUBLISHED, email=True)
    lifecycle.request(target, Action.PUBLISH, user=owner)  # olivia publishes ada's deposit
    run_until_idle(target)
    assert target.state == State.PUBLISHED
    news = told(target)
    assert set(news) == {"ada", "grace"}  # the author, the follower; not olivia
    for note in news.values():
        assert note.kind == NotificationKind.PUBLISHED
        assert note.message == (
            f"“{target.deposit}” was published on Zenodo (sandbox) as DOI 10.5072/zenodo.42."
        )
        assert note.url == f"/deposits/{target.deposit.pk}/"
    # e-mail by each one's choice: published is off by default, grace asked for it
    assert news["grace"].email_wanted and not news["ada"].email_wanted
    notifications.send_emails([n.pk for n in news.values()])
    assert [m.to for m in mail.outbox] == [["grace@example.org"]]
    assert "DOI 10.5072/zenodo.42" in mail.outbox[0].body
    assert mail.outbox[0].subject == f"[Deposit portal] Published: {target.deposit}"


def test_the_author_and_followers_are_told_why_it_failed(target, member, follower, connector):
    connector.failures["create"] = [PermanentError("Zenodo refused the record: bad license.")]
    lifecycle.request(target, Action.PUBLISH, user=member)
    run_until_idle(target)
    assert target.state == State.FAILED
    news = told(target)
    assert set(news) == {"ada", "grace"}
    note = news["grace"]
    assert note.kind == NotificationKind.FAILED
    assert "Zenodo refused the record: bad license." in note.message
    assert note.message.startswith(f"Publishing “{target.deposit}” on Zenodo (sandbox) failed: ")
    assert note.message.endswith("Retry from the deposit page.")
    # failed goes by e-mail by default, to whoever has an address
    notifications.send_emails([n.pk for n in news.values()])
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.org", "grace@example.org"]
    assert "bad license" in mail.outbox[0].body


def test_giving_up_after_retries_tells_them_once(target, member, connector, settings):
    settings.MAX_TRANSIENT_RETRIES = 1
    connector.failures["upload"] = [TransientError("timed out"), TransientError("timed out")]
    lifecycle.request(target, Action.PUBLISH, user=member)
    run_until_idle(target)
    assert target.state == State.FAILED
    failed = Notification.objects.filter(deposit=target.deposit, kind=NotificationKind.FAILED)
    assert sorted(failed.values_list("user__username", flat=True)) == ["ada", "grace"]
    assert "Gave up after 1 retries" in failed.first().message  # type: ignore[union-attr]


def test_nothing_is_told_while_it_only_works_or_waits(target, member, connector):
    connector.failures["upload"] = [TransientError("connection reset")]
    lifecycle.request(target, Action.PUBLISH, user=member)
    lifecycle.advance(target.pk)  # created, then a retry is due: no news yet
    lifecycle.advance(target.pk)
    assert not Notification.objects.filter(deposit=target.deposit).exists()
