"""In a real browser: the bell's count rises while the page is open, the list marks one or
all as read, a notification's link leads to its deposit, e-mail choices are saved, and a
deposit is followed and unfollowed (issue 10). At a phone's width and a laptop's."""

from __future__ import annotations

from typing import Any

import pytest

from deposits import notifications
from deposits.models import EmailChoice, Notification, NotificationKind
from tests.browser.test_layout import LAPTOP, PHONE, look, sign_in
from tests.factories import DepositFactory
from tests.livesystem import LiveSystem, wait_until

pytestmark = [pytest.mark.browser]

POLL = 25_000  # the bell asks every 10 s


def tell(deposit: Any, user: Any, message: str) -> Notification:
    (made,) = notifications.notify(
        NotificationKind.FAILED, deposit, [user], message, url=f"/deposits/{deposit.pk}/"
    )
    return made


def sent(notification: Notification) -> bool:
    notification.refresh_from_db()
    return notification.emailed_at is not None


def count(page: Any) -> str:
    return str(page.get_attribute("#notification-count", "data-unread"))


def test_the_bell_counts_live_and_the_list_marks_read(
    live_system: LiveSystem, page: Any, team: Any, member: Any, owner: Any
) -> None:
    deposit = DepositFactory(team=team, created_by=owner)
    member.email = "ada@example.org"
    member.save()
    sign_in(page, live_system, member)
    assert count(page) == "0"
    assert not page.is_visible("#notification-count")  # nothing unread: no badge

    # News arrives while the page is open: the count rises without a reload.
    first = tell(deposit, member, "Publishing failed on Zenodo: the license is missing.")
    page.wait_for_selector('#notification-count[data-unread="1"]', timeout=POLL)
    assert page.inner_text("#notification-count") == "1"
    # ...and the real worker sent its e-mail (the demo's console backend prints it).
    wait_until(lambda: sent(first), 30, "the e-mail")
    log = (live_system.logs / "worker.log").read_text()
    assert f"Subject: [Deposit portal] Failed: {deposit}" in log
    assert "To: ada@example.org" in log
    second = tell(deposit, member, "Publishing failed on DataMeta: a sample is missing.")
    page.wait_for_selector('#notification-count[data-unread="2"]', timeout=POLL)

    page.click("#notification-bell")
    page.wait_for_selector("#notification-list")
    items = page.locator("#notification-list > li")
    assert items.count() == 2
    assert "DataMeta" in items.nth(0).inner_text()  # newest first
    assert page.locator("#notification-list > li.unread").count() == 2
    problems = []
    for width in (PHONE, LAPTOP):
        page.set_viewport_size({"width": width, "height": 900})
        problems += look(page, "notifications")
    assert problems == []

    # Mark as read: that one only, and the bell counts again at once.
    page.click(f"#notification-{second.pk} .mark-read")
    page.wait_for_selector(f'#notification-{second.pk}[data-read="1"]')
    page.wait_for_selector('#notification-count[data-unread="1"]', timeout=5_000)
    # the list is drawn again by its own swap, which may land a moment after the bell's
    page.wait_for_function(
        "() => document.querySelectorAll('#notification-list > li.unread').length === 1"
    )

    # Mark all as read.
    tell(deposit, member, "Publishing failed on Zenodo again.")
    page.reload()
    assert count(page) == "2"
    page.click("#mark-all-read")
    page.wait_for_selector("text=Marked 2 notification(s) as read.")
    assert count(page) == "0"
    assert page.locator("#notification-list > li.unread").count() == 0
    assert Notification.objects.filter(user=member, read_at__isnull=True).count() == 0

    # A notification's link leads to its deposit (and marks it read).
    Notification.objects.filter(pk=first.pk).update(read_at=None)
    page.reload()
    page.click(f"#notification-{first.pk} .notification-link")
    page.wait_for_url(f"{live_system.url}/deposits/{deposit.pk}/")
    first.refresh_from_db()
    assert first.read_at is not None


def test_follow_a_deposit_and_choose_the_emails(
    live_system: LiveSystem, page: Any, team: Any, member: Any, owner: Any
) -> None:
    deposit = DepositFactory(team=team, created_by=owner)
    sign_in(page, live_system, member)
    page.goto(f"{live_system.url}/deposits/{deposit.pk}/")

    # Follow, then unfollow, the deposit from its page.
    page.click("#follow-deposit")
    page.wait_for_selector("#unfollow-deposit")
    assert notifications.is_following(deposit, member)
    problems = []
    for width in (PHONE, LAPTOP):
        page.set_viewport_size({"width": width, "height": 900})
        problems += look(page, "deposit-following")
    assert problems == []
    page.click("#unfollow-deposit")
    page.wait_for_selector("#follow-deposit")
    assert not notifications.is_following(deposit, member)

    # Fifty to a page: older ones on the next.
    Notification.objects.bulk_create(
        Notification(user=member, team=team, deposit=deposit, kind="failed", message=f"No. {n}")
        for n in range(51)
    )
    page.goto(f"{live_system.url}/notifications/")
    assert page.locator("#notification-list > li").count() == 50
    page.click("#notifications-older")
    page.wait_for_selector("text=Page 2 of 2")
    assert page.locator("#notification-list > li").count() == 1
    page.click("#notifications-newer")
    page.wait_for_selector("text=Page 1 of 2")

    # E-mail choices: published on, failed off; saved, and shown so after a reload.
    page.click("#notification-settings")
    page.wait_for_selector("#email-choices")
    assert "no e-mail address" in page.inner_text("#email-address")
    assert page.is_checked("#email-failed") and not page.is_checked("#email-published")
    page.check("#email-published")
    page.uncheck("#email-failed")
    page.click("#save-email-choices")
    page.wait_for_selector("text=Your e-mail choices are saved.")
    assert page.is_checked("#email-published") and not page.is_checked("#email-failed")
    chosen = dict(EmailChoice.objects.filter(user=member).values_list("kind", "email"))
    assert chosen["published"] is True and chosen["failed"] is False
    problems = []
    for width in (PHONE, LAPTOP):
        page.set_viewport_size({"width": width, "height": 900})
        problems += look(page, "notification-settings")
    assert problems == []
