"""In a real browser: a DataMeta account whose key DataMeta refuses is paused on its card,
Check now tries the stored token exactly once per press, and a new token lifts the pause
(issue 9 item 6). Against the DataMeta sandbox with a real worker."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_datameta_submissions import sign_in
from tests.browser.test_layout import look
from tests.e2e.test_datameta_lockout import USER, key, sandbox_user, verified_account
from tests.e2e.test_datameta_submit import control
from tests.livesystem import LiveSystem, wait_until

pytestmark = [pytest.mark.browser]


def test_check_now_on_a_refused_key_tries_once_and_a_relink_lifts_the_pause(
    live_system: LiveSystem, page: Any, team: Any, owner: Any
) -> None:
    control(live_system, {"action": "reset", "keys": True})  # the fixture's worker runs
    account = verified_account(live_system, team)
    control(live_system, {"action": "expire_keys", "user": USER})
    card = f"#account-{account.pk}"
    check = f"{card} [data-action=verify-account]"

    sign_in(page, live_system, owner)
    page.goto(f"{live_system.url}/accounts/")
    page.click(check)  # the first refusal: the account is paused
    page.wait_for_selector(f"#account-held-{account.pk}")
    assert sandbox_user(live_system)["failed_logins_last_hour"] == 1
    paused = page.inner_text(f"#account-held-{account.pk}")
    assert "refused this token, so nothing more is sent with it" in paused
    assert "Each try of a refused token may count as a failed login" in paused
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        assert look(page, "account-paused") == []

    # Check now again: one more try of the stored token, no more.
    page.click(check)
    page.wait_for_selector(f"{check}:not([disabled])", timeout=60_000)
    wait_until(
        lambda: sandbox_user(live_system)["failed_logins_last_hour"] == 2, 30, "the second try"
    )
    page.reload()
    assert page.locator(f"#account-held-{account.pk}").count() == 1
    assert sandbox_user(live_system)["failed_logins_last_hour"] == 2

    # Relink with a new key: the pause is lifted.
    page.click(f"{card} [data-action=edit-account]")
    page.fill("#id_token", key(live_system))
    page.click("#save-account")
    page.goto(f"{live_system.url}/accounts/")

    def lifted() -> bool:
        page.reload()
        return page.locator(f"#account-held-{account.pk}").count() == 0

    wait_until(lifted, 60, "the pause to be lifted")
    assert sandbox_user(live_system)["failed_logins_last_hour"] == 2
    assert sandbox_user(live_system)["enabled"] is True
