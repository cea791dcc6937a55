"""Telling people: one in-portal notification per person, and an e-mail where they want it.

``notify`` is called inside the transaction that made the news; the e-mails go out from a
worker (``deposits.tasks.send_notification_emails``) once it commits, never in a request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from deposits.models import (
    EMAIL_BY_DEFAULT,
    Action,
    Deposit,
    EmailChoice,
    Notification,
    NotificationKind,
    State,
    Target,
    WebhookEvent,
)
from deposits.outbound.events import emit
from deposits.repositories import registry
from deposits.repositories.limiter import Priority

log = logging.getLogger(__name__)

# What sending a task raises when the broker cannot be reached (as lifecycle/states.py;
# not imported from there: the lifecycle imports this module).
_BROKER_DOWN = (OperationalError, RedisConnectionError, RedisTimeoutError)

AnyUser = AbstractBaseUser | AnonymousUser | None


def wants_email(user_id: int, kind: str) -> bool:
    choice = EmailChoice.objects.filter(user_id=user_id, kind=kind).first()
    if choice is not None:
        return choice.email
    return kind in EMAIL_BY_DEFAULT


def notify(
    kind: NotificationKind,
    deposit: Deposit | None,
    users: Iterable[AbstractBaseUser | None],
    message: str,
    *,
    url: str = "",
    actor: AnyUser = None,
    team_id: int | None = None,
) -> list[Notification]:
    """One notification per (distinct, active) person in ``users``, except ``actor``: who
    did it needs no telling. Returns what was made. News about no deposit (a webhook
    subscription switched off) names its team by ``team_id``."""
    team_id = deposit.team_id if deposit is not None else team_id
    if team_id is None:
        raise ValueError("a notification needs a deposit or a team")
    actor_id = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None
    seen: set[int] = set()
    made: list[Notification] = []
    for user in users:
        if user is None or not user.is_active or user.pk in seen or user.pk == actor_id:
            continue
        seen.add(user.pk)
        made.append(
            Notification.objects.create(
                user_id=user.pk,
                team_id=team_id,
                deposit=deposit,
                kind=kind,
                message=message,
                url=url,
                email_wanted=wants_email(user.pk, kind) and bool(getattr(user, "email", "")),
            )
        )
    emails = [n.pk for n in made if n.email_wanted]
    if emails:
        transaction.on_commit(lambda: _send_emails(emails))
    return made


def _send_emails(ids: list[int]) -> None:
    """Queue the e-mails. With the broker down they stay wanted and unsent, and the
    periodic ``send_pending_emails`` sends them later: a request never fails for it."""
    from celery import current_app

    try:
        current_app.send_task(
            "deposits.tasks.send_notification_emails",
            args=[ids],
            queue=Priority.BACKGROUND.queue,
        )
    except _BROKER_DOWN as exc:
        log.warning("notification e-mails %s not queued (broker down): %s", ids, exc)


# --------------------------------------------------------------------------- published, failed


def target_finished(target: Target) -> list[Notification]:
    """A worker moved ``target`` to published or failed: tell the deposit's author and
    whoever follows it. Called inside the transaction of that move; a notification that
    cannot be made is logged and never undoes the move. Subscribed URLs are told too."""
    event = finished_event(target)
    if event is not None:
        emit(event, target.deposit, target=target)
    try:
        with transaction.atomic():
            return _target_finished(target)
    except Exception:
        log.exception("no notification made for target %s", target.pk)
        return []


def finished_event(target: Target) -> WebhookEvent | None:
    """The webhook event of a finished action: a first publish, a new version, a failure
    (a discarded edit, or an edit published, leaves the record's news unchanged)."""
    if target.state == State.FAILED:
        return WebhookEvent.FAILED
    if target.state != State.PUBLISHED:
        return None
    return {
        Action.PUBLISH: WebhookEvent.PUBLISHED,
        Action.PUBLISH_VERSION: WebhookEvent.NEW_VERSION,
    }.get(Action(target.action))


def _target_finished(target: Target) -> list[Notification]:
    deposit = target.deposit
    people = [deposit.created_by, *deposit.followers.all()]
    where = target.account.label
    url = reverse("deposit", args=[deposit.pk])
    if target.state == State.PUBLISHED:
        if target.action == Action.DISCARD:  # the published record is unchanged: no news
            return []
        found = target.identifiers.filter(scope="version").order_by("-created").first()
        label = registry.get(target.account.kind).scheme(found.scheme).label if found else ""
        ident = f" as {label} {found.value}" if found else ""
        message = f"“{deposit}” was published on {where}{ident}."
        return notify(NotificationKind.PUBLISHED, deposit, people, message, url=url)
    if target.state == State.FAILED:
        reason = target.last_error.strip() or "no reason was given"
        doing = "Publishing" if target.action == Action.PUBLISH else target.get_action_display()
        message = f"{doing} “{deposit}” on {where} failed: {reason} Retry from the deposit page."
        return notify(NotificationKind.FAILED, deposit, people, message, url=url)
    return []


# --------------------------------------------------------------------------- e-mail

# An e-mail that fails this many times is given up; its error stays on the notification.
MAX_EMAIL_TRIES = 3
GAVE_UP = "Gave up"
# The sweep leaves fresh ones to the task queued when they were made.
SWEEP_AFTER = timedelta(seconds=30)

SUBJECTS = {
    NotificationKind.REVIEW_REQUESTED: "Review requested",
    NotificationKind.RETURNED: "Returned to you",
    NotificationKind.APPROVED: "Approved",
    NotificationKind.PUBLISHED: "Published",
    NotificationKind.FAILED: "Failed",
    NotificationKind.COMMENT: "New message",
    NotificationKind.RELEASE_IMPORTED: "Release imported",
    NotificationKind.RELEASE_FAILED: "Release not imported",
    NotificationKind.FORGE_TOKEN: "Forge token refused",
    NotificationKind.IDENTIFIER_GONE: "Identifier no longer valid",
    NotificationKind.WEBHOOK_DISABLED: "Webhook switched off",
}


def absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def email_text(notification: Notification) -> tuple[str, str]:
    """The subject and plain-text body of one notification's e-mail."""
    what = SUBJECTS.get(NotificationKind(notification.kind), "Notification")
    about = f": {notification.deposit}" if notification.deposit else ""
    subject = " ".join(f"[Deposit portal] {what}{about}".split())  # a header: one line
    if len(subject) > 150:
        subject = subject[:149] + "…"
    lines = [notification.message, ""]
    if notification.url.startswith("/"):
        lines += ["Open it in the portal:", absolute(notification.url), ""]
    lines += [
        "--",
        "You get this e-mail because of your choices in the deposit portal. Choose which "
        "notifications you receive by e-mail:",
        absolute(reverse("notification-settings")),
    ]
    return subject, "\n".join(lines) + "\n"


def _tries(error: str) -> int:
    match = re.match(r"Try (\d+) ", error)
    return int(match.group(1)) if match else 0


def send_email(notification_id: int) -> bool:
    """Send one notification's e-mail if it is wanted and not sent; True when sent now.

    Claimed first by a compare-and-set on ``emailed_at``: two workers (the task and the
    sweep, or a redelivered task) never both send it. A worker that dies between the
    claim and the SMTP reply leaves it marked sent: at most once, never twice.
    """
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id, email_wanted=True, emailed_at__isnull=True
    ).exclude(email_error__startswith=GAVE_UP)
    if claimed.update(emailed_at=now) != 1:
        return False
    notification = Notification.objects.select_related("user", "deposit").get(pk=notification_id)
    address = notification.user.email
    if not address or not notification.user.is_active:
        _failed(notification, "The account has no e-mail address (or is inactive).", last=True)
        return False
    subject, body = email_text(notification)
    try:
        EmailMessage(subject, body, None, [address]).send()
    except Exception as exc:  # SMTP, DNS, a refused connection: kept, retried by the sweep
        # the exception's text only (never the settings): the password is not in it
        _failed(notification, f"{type(exc).__name__}: {exc}"[:1000])
        return False
    Notification.objects.filter(pk=notification_id).update(email_error="")
    return True


def _failed(notification: Notification, error: str, *, last: bool = False) -> None:
    tries = _tries(notification.email_error) + 1
    if last or tries >= MAX_EMAIL_TRIES:
        text = f"{GAVE_UP} after {tries} {'try' if tries == 1 else 'tries'}: {error}"
    else:
        text = f"Try {tries} of {MAX_EMAIL_TRIES} failed: {error}"
    log.warning("notification %s e-mail not sent: %s", notification.pk, text)
    # unclaimed again, so the sweep tries once more (unless given up)
    Notification.objects.filter(pk=notification.pk).update(emailed_at=None, email_error=text)


def send_emails(ids: Iterable[int]) -> int:
    """Send the e-mails of these notifications (those still wanted and unsent)."""
    return sum(send_email(pk) for pk in ids)


def pending_email_ids() -> list[int]:
    """Wanted, unsent, not given up, and older than SWEEP_AFTER (their task is late or
    was never queued: the broker was down, or the send failed)."""
    return list(
        Notification.objects.filter(
            email_wanted=True,
            emailed_at__isnull=True,
            created__lte=timezone.now() - SWEEP_AFTER,
        )
        .exclude(email_error__startswith=GAVE_UP)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )


def send_pending_emails() -> int:
    return send_emails(pending_email_ids())


# --------------------------------------------------------------------------- in the portal


def notifications_for(user: AuthUser) -> QuerySet[Notification]:
    """A person's own notifications, from the teams they are still in."""
    return Notification.objects.filter(user=user, team__memberships__user=user)


def unread_count(user: AuthUser) -> int:
    return notifications_for(user).filter(read_at__isnull=True).count()


def mark_read(notification: Notification) -> None:
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def mark_all_read(user: AuthUser) -> int:
    ids = notifications_for(user).filter(read_at__isnull=True).values_list("pk", flat=True)
    return Notification.objects.filter(pk__in=list(ids)).update(read_at=timezone.now())


def email_choices(user: AuthUser) -> dict[str, bool]:
    """Kind -> whether it goes out by e-mail, for every kind (the default where unset)."""
    chosen = dict(EmailChoice.objects.filter(user=user).values_list("kind", "email"))
    return {kind: chosen.get(kind, kind in EMAIL_BY_DEFAULT) for kind in NotificationKind.values}


def save_email_choices(user: AuthUser, wanted: set[str]) -> None:
    """One row per kind: an explicit choice survives a change of the defaults."""
    with transaction.atomic():
        for kind in NotificationKind.values:
            EmailChoice.objects.update_or_create(
                user=user, kind=kind, defaults={"email": kind in wanted}
            )


def follow(deposit: Deposit, user: AuthUser, *, on: bool) -> None:
    if on:
        deposit.followers.add(user)
    else:
        deposit.followers.remove(user)


def is_following(deposit: Deposit, user: AuthUser) -> bool:
    return deposit.followers.filter(pk=user.pk).exists()
