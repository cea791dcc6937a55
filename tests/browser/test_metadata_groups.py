"""In a real browser, as ada: every repeating group of the editor (creators, contributors,
related identifiers, subjects, grants, dates, locations, thesis supervisors) adds and
removes rows in place, and the rest of the description stays on the page."""

from __future__ import annotations

from typing import Any

import pytest

from deposits.forms.metadata import GROUPS
from deposits.metadata import to_view
from deposits.models import Deposit
from tests.factories import DepositFactory
from tests.livesystem import LiveSystem, wait_until

pytestmark = [pytest.mark.browser]


def rows(page: Any, key: str) -> int:
    return int(page.locator(f"#group-{key} > .row").count())


def test_ada_adds_and_removes_a_row_of_every_repeating_group(
    live_system: LiveSystem, page: Any, team: Any, member: Any
) -> None:
    deposit = DepositFactory(team=team)
    page.goto(f"{live_system.url}/login/")
    page.fill("#id_username", member.username)
    page.fill("#id_password", "secret-pass-1")
    page.click("#login-submit")
    page.goto(f"{live_system.url}/deposits/{deposit.pk}/")
    page.click("summary:has-text('Journal, conference, book and thesis details')")

    for key in GROUPS:
        before = rows(page, key)
        page.click(f"#add-{key}")
        page.wait_for_function(
            f"() => document.querySelectorAll('#group-{key} > .row').length === {before + 1}"
        )
        assert page.locator("#metadata-form").is_visible(), key
        assert page.locator(f'[name="{key}-{before}-{next(iter(GROUPS[key].form.base_fields))}"]')
        page.click(f'#group-{key} button[value="remove:{key}:{before}"]')
        page.wait_for_function(
            f"() => document.querySelectorAll('#group-{key} > .row').length === {before}"
        )
        assert page.locator("#metadata-form").is_visible(), key
        assert page.locator("#id_title").input_value() == deposit.title, key

    # a second author, typed into the row the button added, is saved
    page.click("#add-creators")
    page.fill('[name="creators-2-name"]', "Curie, Marie")
    page.wait_for_function(
        "() => document.querySelector('#save-status').innerText.includes('Saved')"
    )
    wait_until(
        lambda: len(to_view(Deposit.objects.get(pk=deposit.pk).metadata)["creators"]) == 3,
        10,
        "the third creator to be saved",
    )
    names = [c["name"] for c in to_view(Deposit.objects.get(pk=deposit.pk).metadata)["creators"]]
    assert names == ["Lovelace, Ada", "Hopper, Grace", "Curie, Marie"]
