"""In a real browser, grace (a staff curator, not a superuser) in the admin: the curation
figures on the index, the deposit's metadata saved through the portal's editor (an
invalid date refused next to its field, then a valid title saved), and Retry on a failed
target, all under the Content-Security-Policy (the ``page`` fixture fails on a refusal)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from deposits.models import Event, ReviewRequest, ReviewState, State, Target
from tests.browser.test_layout import overflow
from tests.factories import DepositFactory, MembershipFactory, TargetFactory, UserFactory
from tests.livesystem import LiveSystem

pytestmark = [pytest.mark.browser]


def sticks_out(page: Any) -> list[str]:
    """What sticks out of the page, leaving out the admin's own screen-reader-only
    headings (clipped on purpose)."""
    return [p for p in overflow(page) if ".visually-hidden " not in p]


def admin_sign_in(page: Any, system: LiveSystem, user: Any) -> None:
    page.goto(f"{system.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "secret-pass-1")
    page.click("#login-form input[type=submit]")
    page.wait_for_selector("#user-tools")


def test_grace_sees_the_figures_saves_metadata_and_retries_in_the_admin(
    live_system: LiveSystem, page: Any, team: Any, zenodo_account: Any
) -> None:
    grace = UserFactory(username="grace", is_staff=True)
    MembershipFactory(team=team, user=grace, role="curator")
    deposit = DepositFactory(team=team)
    target = TargetFactory(deposit=deposit, account=zenodo_account)
    Target.objects.filter(pk=target.pk).update(
        state=State.FAILED, last_error="Zenodo refused the upload: try again later."
    )
    now = timezone.now()
    ReviewRequest.objects.create(
        deposit=DepositFactory(team=team),
        submitted_at=now - timedelta(hours=6),
        decided_at=now - timedelta(hours=3),
        state=ReviewState.APPROVED,
    )
    ReviewRequest.objects.create(deposit=deposit, submitted_at=now - timedelta(hours=2))

    page.set_viewport_size({"width": 1366, "height": 900})
    admin_sign_in(page, live_system, grace)

    # The index: the figures and the queue chart, drawn by the server.
    page.goto(f"{live_system.url}/admin/")
    assert page.inner_text("#figure-waiting").startswith("1")
    assert page.inner_text("#figure-median") == "3 h"
    assert page.locator("#queue-chart rect").count() == 30
    assert page.locator("#queue-chart").is_visible()
    assert sticks_out(page) == []
    page.set_viewport_size({"width": 390, "height": 900})
    assert page.locator("#curation-figures").is_visible()  # narrow: still there, readable
    page.set_viewport_size({"width": 1366, "height": 900})
    page.click("#figure-waiting a")
    page.wait_for_selector("#result_list")
    assert deposit.title in page.inner_text("#result_list")

    # The deposit: an invalid date is refused next to its field, a valid edit is saved.
    page.goto(f"{live_system.url}/admin/deposits/deposit/{deposit.pk}/change/")
    assert page.locator('textarea[name="metadata"]').count() == 0
    page.fill("#id_creators-0-ror", "Analytical Engines")
    page.fill("#id_title", "Soil moisture, checked by Grace")
    page.click("#deposit_form input[name=_save] >> nth=0")
    error = page.wait_for_selector(".field-creators-0-ror.errors .errorlist")
    assert "That is not a ROR id" in error.inner_text()
    assert "Not saved: fix the 1 field marked below." in page.inner_text(".errornote ~ .errorlist")
    deposit.refresh_from_db()
    assert deposit.title != "Soil moisture, checked by Grace"

    page.fill("#id_creators-0-ror", "")
    page.click("#deposit_form input[name=_save] >> nth=1")  # the bottom Save
    page.wait_for_selector(".messagelist .success")
    deposit.refresh_from_db()
    assert deposit.title == "Soil moisture, checked by Grace"
    edit = Event.objects.get(deposit=deposit, kind="metadata_edited")
    assert edit.actor == grace and edit.message == "Edited title"
    assert sticks_out(page) == []

    # The failed target: found by the filter, retried by the action, with its message.
    page.goto(f"{live_system.url}/admin/deposits/target/?attention=failed")
    assert "Zenodo refused the upload" in page.inner_text("#result_list")
    page.check(f'#result_list input[name="_selected_action"][value="{target.pk}"]')
    page.select_option('select[name="action"]', "retry_targets")
    page.click('button[name="index"]')
    page.wait_for_selector(f'.messagelist >> text="{target}: queued again."')
    assert Event.objects.filter(target=target, to_state="queued", actor=grace).exists()
    assert sticks_out(page) == []
