"""In a real browser: the linked-accounts page warns of a DataMeta key that expires in
three minutes (read from the DataMeta sandbox by a worker), and says what to do."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from deposits.models import LinkedAccount
from tests.browser.test_datameta_submissions import sign_in
from tests.e2e.test_datameta_keys import issue, verified
from tests.livesystem import LiveSystem

pytestmark = [pytest.mark.browser]


def test_a_key_about_to_expire_is_warned_of_on_its_card(
    live_system: LiveSystem, page: Any, team: Any, member: Any
) -> None:
    account = verified(live_system, team, issue(live_system, "kim", 3 / (24 * 60)))
    later = verified(live_system, team, issue(live_system, "lee", 30))

    sign_in(page, live_system, member)
    page.goto(f"{live_system.url}/accounts/")
    warning = page.inner_text(f"#account-{account.pk} #key-expiring-{account.pk}")
    assert re.search(r"The API key expires in [123]\s?minutes?", warning), warning
    assert "create a new API key on DataMeta, then press Edit and paste it here" in warning
    assert page.locator(f"#account-{later.pk} [data-key-expiry]").count() == 0

    # Once past, the card says so and what to do.
    LinkedAccount.objects.filter(pk=account.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    page.reload()
    error = page.inner_text(f"#key-expired-{account.pk}")
    assert "The API key expired" in error
    assert "Create a new API key on DataMeta, then press Edit and paste it here" in error
