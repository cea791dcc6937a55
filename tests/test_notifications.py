"""Notifications: who is told, and their e-mails, sent by a worker once each (issue 10).

E-mails land in Django's locmem outbox (pytest-django's test backend); a failing SMTP
server is a real SMTP backend pointed at a port where nothing listens.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from deposits import notifications, tasks
from deposits.lifecycle import review
from deposits.models import EmailChoice, Notification, NotificationKind
from tests.factories import DepositFactory, MembershipFactory, UserFactory, record
from tests.livesystem import free_port
from tests.test_settings import settings_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[Any], dict[str, Any]]]:
    """The tasks handed to the broker (by name), instead of a broker."""
    calls: list[tuple[str, list[Any], dict[str, Any]]] = []

    def send_task(name: str, args: Any = None, kwargs: Any = None, **options: Any) -> None:
        calls.append((name, list(args or []), {**(kwargs or {}), **options}))

    from celery import current_app

    monkeypatch.setattr(current_app, "send_task", send_task)
    return calls


@pytest.fixture
def people(team: Any, owner: Any, member: Any) -> dict[str, Any]:
    """ada (member) and olivia (admin) with addresses; a third without one."""
    for user, address in ((member, "ada@example.org"), (owner, "olivia@example.org")):
        user.email = address
        user.save()
    nobody = MembershipFactory(team=team, user=UserFactory(username="noaddr")).user
    return {"ada": member, "olivia": owner, "noaddr": nobody}


@pytest.fixture
def deposit(team: Any, member: Any) -> Any:
    return DepositFactory(team=team, created_by=member)


def make(kind: str, deposit: Any, users: list[Any], **kw: Any) -> list[Notification]:
    return notifications.notify(NotificationKind(kind), deposit, users, "Something", **kw)


def age(*items: Notification, seconds: int = 60) -> None:
    Notification.objects.filter(pk__in=[n.pk for n in items]).update(
        created=timezone.now() - timedelta(seconds=seconds)
    )


def test_a_comment_tells_the_thread_and_followers_but_not_who_wrote_it(
    deposit, people, django_capture_on_commit_callbacks, sent
):
    ada, olivia = people["ada"], people["olivia"]
    deposit.followers.add(ada, olivia)
    with django_capture_on_commit_callbacks(execute=True):
        review.add_comment(deposit, user=olivia, body="Please add the probe depths.")
    told = Notification.objects.filter(deposit=deposit)
    assert [n.user for n in told] == [ada]
    only = told.get()
    assert only.kind == NotificationKind.COMMENT
    assert "Please add the probe depths." in only.message
    assert only.url == f"/deposits/{deposit.pk}/#thread"
    assert only.read_at is None


def test_notify_tells_each_active_person_once(deposit, people):
    ada, olivia, nobody = people["ada"], people["olivia"], people["noaddr"]
    gone = UserFactory(username="gone", is_active=False)
    made = make("failed", deposit, [ada, olivia, ada, None, gone, nobody], actor=olivia)
    assert sorted(n.user.username for n in made) == ["ada", "noaddr"]


def test_email_is_wanted_by_each_persons_choice_and_only_with_an_address(deposit, people):
    ada, olivia, nobody = people["ada"], people["olivia"], people["noaddr"]
    EmailChoice.objects.create(user=olivia, kind=NotificationKind.FAILED, email=False)
    EmailChoice.objects.create(user=olivia, kind=NotificationKind.PUBLISHED, email=True)
    failed = {n.user.username: n.email_wanted for n in make("failed", deposit, [ada, olivia])}
    assert failed == {"ada": True, "olivia": False}  # failed: on by default, olivia said no
    published = {n.user.username: n.email_wanted for n in make("published", deposit, [ada, olivia])}
    assert published == {"ada": False, "olivia": True}  # published: off by default
    assert [n.email_wanted for n in make("failed", deposit, [nobody])] == [False]


def test_the_email_task_is_queued_after_commit_and_sends_each_once(
    deposit, people, django_capture_on_commit_callbacks, sent
):
    ada, olivia = people["ada"], people["olivia"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        made = notifications.notify(
            NotificationKind.RETURNED,
            deposit,
            [ada, olivia],
            f"Grace returned “{deposit}” to you: add a license.",
            url=f"/deposits/{deposit.pk}/",
        )
    assert sent == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert [(name, args) for name, args, _ in sent] == [
        ("deposits.tasks.send_notification_emails", [[n.pk for n in made]])
    ]
    assert sent[0][2]["queue"] == "background"

    assert tasks.send_notification_emails(*sent[0][1]) == 2  # what the worker runs
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.org", "olivia@example.org"]
    message = mail.outbox[0]
    assert message.subject == f"[Deposit portal] Returned to you: {deposit}"
    assert f"Grace returned “{deposit}” to you: add a license." in message.body
    assert f"http://127.0.0.1:8000/deposits/{deposit.pk}/" in message.body
    assert "http://127.0.0.1:8000/notifications/settings/" in message.body
    assert message.content_subtype == "plain" and not getattr(message, "alternatives", None)

    # The task delivered again (a redelivery, or the sweep): nothing is sent twice.
    assert tasks.send_notification_emails(*sent[0][1]) == 0
    age(*made)
    assert tasks.send_pending_emails() == 0
    assert len(mail.outbox) == 2
    assert all(n.emailed_at for n in Notification.objects.filter(pk__in=[m.pk for m in made]))


def test_links_use_the_configured_address(deposit, people, settings):
    settings.PORTAL_BASE_URL = "https://deposits.example.org"
    made = make("failed", deposit, [people["ada"]], url=f"/deposits/{deposit.pk}/")
    notifications.send_emails([n.pk for n in made])
    assert f"https://deposits.example.org/deposits/{deposit.pk}/" in mail.outbox[0].body


def test_a_title_with_a_line_break_still_makes_a_one_line_subject(team, people):
    deposit = DepositFactory(team=team, metadata=record(title="Soil\nBcc: x@evil.example"))
    made = make("failed", deposit, [people["ada"]])
    assert notifications.send_emails([n.pk for n in made]) == 1
    assert mail.outbox[0].subject == "[Deposit portal] Failed: Soil Bcc: x@evil.example"
    assert mail.outbox[0].bcc == []


def test_a_notification_another_worker_claimed_is_not_sent_again(deposit, people):
    (made,) = make("failed", deposit, [people["ada"]])
    claimed = Notification.objects.filter(pk=made.pk, emailed_at__isnull=True)
    assert claimed.update(emailed_at=timezone.now()) == 1  # the other worker's claim
    assert notifications.send_email(made.pk) is False
    assert mail.outbox == []


def test_an_email_nobody_wanted_is_never_sent(deposit, people):
    (made,) = make("published", deposit, [people["ada"]])
    assert made.email_wanted is False
    assert notifications.send_email(made.pk) is False
    assert mail.outbox == []


def test_with_the_broker_down_the_sweep_sends_it_later(
    deposit, people, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    from celery import current_app
    from kombu.exceptions import OperationalError

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(current_app, "send_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True):  # the request does not fail
        (made,) = make("failed", deposit, [people["ada"]])
    made.refresh_from_db()
    assert made.email_wanted and made.emailed_at is None
    assert "not queued (broker down)" in caplog.text

    assert tasks.send_pending_emails() == 0  # too fresh: its own task may still come
    age(made, seconds=31)
    assert tasks.send_pending_emails() == 1
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    assert tasks.send_pending_emails() == 0
    assert len(mail.outbox) == 1


def test_a_failed_send_is_kept_retried_by_the_sweep_then_given_up(
    deposit, people, settings, caplog
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": "127.0.0.1",
                "port": free_port(),  # nothing listens: the connection is refused
                "username": "portal",
                "password": "smtp-secret-do-not-log",
                "use_tls": False,
                "timeout": 5,
            },
        }
    }
    caplog.set_level(logging.DEBUG)
    (made,) = make("failed", deposit, [people["ada"]])

    assert notifications.send_email(made.pk) is False
    made.refresh_from_db()
    assert made.emailed_at is None
    assert made.email_error.startswith("Try 1 of 3 failed: ConnectionRefusedError")

    age(made)
    assert tasks.send_pending_emails() == 0  # the sweep tries again, and fails again
    made.refresh_from_db()
    assert made.email_error.startswith("Try 2 of 3 failed:")
    tasks.send_pending_emails()
    made.refresh_from_db()
    assert made.email_error.startswith("Gave up after 3 tries: ConnectionRefusedError")
    assert made.emailed_at is None
    assert notifications.pending_email_ids() == []  # given up: the sweep leaves it

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert tasks.send_pending_emails() == 0
    assert mail.outbox == []
    assert "smtp-secret-do-not-log" not in caplog.text
    assert "smtp-secret-do-not-log" not in made.email_error


def test_a_send_that_works_after_a_failure_clears_the_error(deposit, people):
    (made,) = make("failed", deposit, [people["ada"]])
    Notification.objects.filter(pk=made.pk).update(email_error="Try 1 of 3 failed: timeout")
    assert notifications.send_email(made.pk) is True
    made.refresh_from_db()
    assert made.email_error == "" and made.emailed_at is not None


def test_the_sweep_runs_every_minute_on_the_background_queue(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["send-pending-emails"]
    assert entry["task"] == tasks.send_pending_emails.name == "deposits.tasks.send_pending_emails"
    assert entry["schedule"] == 60
    assert entry["options"]["queue"] == "background"
    assert tasks.send_notification_emails.name == "deposits.tasks.send_notification_emails"


def test_the_demo_prints_emails_and_smtp_is_chosen_by_configuration():
    backend = "settings.MAILERS['default']['BACKEND']"
    assert settings_of({}, backend).endswith("console.EmailBackend")
    smtp = {
        "EMAIL_HOST": "smtp.example.org",
        "EMAIL_PORT": "2525",
        "EMAIL_HOST_USER": "portal",
        "EMAIL_HOST_PASSWORD": "pw",
        "DEFAULT_FROM_EMAIL": "Deposits <deposits@example.org>",
    }
    options = "sorted(settings.MAILERS['default']['OPTIONS'].items())"
    assert settings_of(smtp, backend) == "django.core.mail.backends.smtp.EmailBackend"
    assert settings_of(smtp, options) == str(
        [
            ("host", "smtp.example.org"),
            ("password", "pw"),
            ("port", 2525),
            ("timeout", 30),
            ("use_ssl", False),
            ("use_tls", True),
            ("username", "portal"),
        ]
    )
    assert settings_of(smtp, "settings.DEFAULT_FROM_EMAIL") == "Deposits <deposits@example.org>"
    tls_off = settings_of({**smtp, "EMAIL_USE_TLS": "0"}, options)
    assert "('use_tls', False)" in tls_off
    production = {
        "PORTAL_ENV": "production",
        "SECRET_KEY": "x" * 50,
        "TOKEN_ENCRYPTION_KEYS": "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q=",
    }
    assert settings_of(production, backend) == "django.core.mail.backends.smtp.EmailBackend"
    local = "[settings.MAILERS['default']['OPTIONS'][k] for k in ('host', 'port', 'use_tls')]"
    assert settings_of(production, local) == "['localhost', 25, False]"  # a local mail server


def test_following_is_what_publishing_news_goes_to(deposit, people):
    ada, olivia = people["ada"], people["olivia"]
    notifications.follow(deposit, olivia, on=True)
    assert notifications.is_following(deposit, olivia)
    notifications.follow(deposit, olivia, on=False)
    assert not notifications.is_following(deposit, olivia)
    assert not notifications.is_following(deposit, ada)


def test_every_kind_has_a_subject_of_its_own(team, people):
    """A person sorting their mail sees what happened, never a bare "Notification"."""
    assert set(notifications.SUBJECTS) == set(NotificationKind)
    made = notifications.notify(
        NotificationKind.WEBHOOK_DISABLED,
        None,
        [people["ada"]],
        "The webhook subscription to https://hooks.example.org was switched off.",
        team_id=team.pk,
    )
    assert made[0].deposit is None and made[0].team_id == team.pk
    subject, _ = notifications.email_text(made[0])
    assert subject == "[Deposit portal] Webhook switched off"
