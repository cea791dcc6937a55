"""In a real browser, olivia (an admin) manages a webhook subscription end to end against
a local receiver that verifies every request with the Standard Webhooks library: adds it
(a refused URL said next to its field), sees and copies its secret once, sends a test
event and watches it arrive in the delivery log, changes it, sees it switched off after
failures and re-enables it (what was held is sent), rotates the secret (the receiver
verifies with the new one), and deletes it. Every page at 390 and 1366 px."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deposits.models import Notification, NotificationKind, Subscription
from tests.browser.test_layout import LAPTOP, PHONE, look, sign_in
from tests.livesystem import LiveSystem, purge_queues, wait_until
from tests.outbound.receiver import running

pytestmark = [pytest.mark.browser]


@pytest.fixture
def webhook_system(transactional_db: None, tmp_path: Path) -> Iterator[LiveSystem]:
    """The live system, allowed to send to a receiver on 127.0.0.1, retrying at once and
    switching a subscription off after two failures in a row."""
    purge_queues()
    system = LiveSystem(
        tmp_path,
        SUBSCRIPTION_PRIVATE_HOSTS="127.0.0.1",
        WEBHOOK_RETRY_SECONDS="0.3,0.3,0.3",
        WEBHOOK_DISABLE_AFTER_FAILURES="2",
        WEBHOOK_TIMEOUT_SECONDS="5",
    )
    try:
        system.start_web()
        system.start_worker()
        yield system
    finally:
        system.stop()
        purge_queues()


def looks_right(page: Any, name: str) -> None:
    problems = []
    for width in (PHONE, LAPTOP):
        page.set_viewport_size({"width": width, "height": 900})
        problems += look(page, name)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert problems == []


def delivered(page: Any, event: str, count: int) -> None:
    """The log (refreshing itself) shows ``count`` delivered ``event`` rows."""
    page.wait_for_function(
        "([event, count]) => document.querySelectorAll("
        "`#delivery-log tr[data-event='${event}'][data-delivery-status='delivered']`"
        ").length === count",
        arg=[event, count],
        timeout=30_000,
    )


def add_one(page: Any, system: LiveSystem, team: Any, url: str) -> str:
    """The list, the form (a refused URL first), and the secret page: the secret."""
    page.goto(f"{system.url}/teams/{team.pk}/webhooks/")
    page.wait_for_selector("#no-subscriptions")
    looks_right(page, "subscriptions-empty")
    page.click("#new-subscription")
    page.click("#cancel-subscription")
    page.wait_for_selector("#no-subscriptions")
    page.click("#new-subscription")
    page.fill("#id_url", "http://hooks.example.org/portal")
    page.fill("#id_description", "Our CRIS")
    page.click("#save-subscription")
    assert "Use an https:// URL" in page.inner_text('[data-field="url"] .field-error')
    looks_right(page, "subscription-form-error")
    page.fill("#id_url", url)
    page.uncheck("input[name=events][value='deposit.returned']")
    page.click("#save-subscription")
    secret = str(page.inner_text("#webhook-secret")).strip()
    assert secret.startswith("whsec_")
    page.click("#copy-secret")
    page.wait_for_function("() => document.querySelector('#copy-secret').innerText === 'Copied'")
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    looks_right(page, "subscription-secret")
    return secret


def switch_off_and_on(page: Any, receiver: Any, sub: Subscription, owner: Any) -> None:
    """Two failures in a row switch it off (admins told); Re-enable sends what was held."""
    receiver.answers = [500]
    page.click("#send-test")
    wait_until(lambda: not Subscription.objects.get(pk=sub.pk).enabled, 30, "switched off")
    page.reload()
    assert "Switched off after 2 failed deliveries" in page.inner_text("#subscription-off")
    assert Notification.objects.filter(user=owner, kind=NotificationKind.WEBHOOK_DISABLED).exists()
    assert page.locator("#send-test").count() == 0
    page.click("#delivery-log .delivery-attempts summary")  # each attempt, oldest first
    attempts = page.inner_text("#delivery-log .delivery-attempts ol")
    assert attempts.count("The receiver answered 500") == 2
    looks_right(page, "subscription-off")
    receiver.answers = [200]
    before = len(receiver.requests)
    page.click("#reenable")
    page.wait_for_selector("#subscription-status[data-subscription-status='on']")
    delivered(page, "subscription.test", 2)
    assert len(receiver.requests) == before + 1 and receiver.requests[-1].verified


def test_olivia_manages_a_subscription(
    webhook_system: LiveSystem, page: Any, team: Any, owner: Any
) -> None:
    system = webhook_system
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    with running("whsec_" + "A" * 32) as receiver:
        sign_in(page, system, owner)
        secret = add_one(page, system, team, receiver.url)
        receiver.secret = secret
        sub = Subscription.objects.get(team=team)
        assert "deposit.returned" not in sub.events and "deposit.published" in sub.events
        page.click("#done-secret")
        assert secret not in page.content()

        # A test event arrives, verified, and shows in the log without a reload.
        page.click("#send-test")
        delivered(page, "subscription.test", 1)
        assert [r.verified for r in receiver.requests] == [True]
        assert receiver.requests[0].payload["type"] == "subscription.test"
        assert "200" in page.inner_text("#delivery-log")
        looks_right(page, "subscription-detail")

        page.fill("#id_description", "Our CRIS (production)")
        page.click("#save-subscription")
        page.wait_for_selector("#messages >> text=Saved.")
        assert page.inner_text("h1") == "Our CRIS (production)"

        switch_off_and_on(page, receiver, sub, owner)

        # Rotate: the next delivery verifies with the new secret.
        page.click("#rotate-secret")
        rotated = str(page.inner_text("#webhook-secret")).strip()
        assert rotated != secret
        receiver.secret = rotated
        page.click("#done-secret")
        page.click("#send-test")
        delivered(page, "subscription.test", 3)
        assert receiver.requests[-1].verified

        page.click("#back-to-subscriptions")
        row = page.inner_text(f"#subscription-{sub.pk}")
        assert "Enabled" in row and "Delivered" in row
        looks_right(page, "subscriptions-list")

        # Delete, after a confirmation.
        page.click(f"#subscription-{sub.pk} a[data-link=subscription]")
        page.click("#delete-subscription")
        page.wait_for_selector("#confirm-action")
        looks_right(page, "subscription-delete")
        page.click("#confirm-action")
        page.wait_for_selector("#no-subscriptions")
        assert not Subscription.objects.filter(pk=sub.pk).exists()
        assert secret not in page.content() and rotated not in page.content()
