"""In a real browser, as ada: one deposit sent to both repositories of the demo at once
(Zenodo and DataMeta sandboxes, one worker), both identifiers appear without a reload."""

from __future__ import annotations

import re
from typing import Any

import pytest

from deposits import lifecycle
from deposits.models import State
from deposits.repositories.datameta import sheets as datameta_sheets
from tests.browser.test_datameta_submissions import ROWS, SAMPLES
from tests.browser.test_zenodo_versions import sign_in, text
from tests.e2e import test_datameta_submit as datameta
from tests.e2e import zenodo_helpers as zenodo
from tests.factories import DepositFactory, TargetFactory, add_file
from tests.livesystem import LiveSystem

pytestmark = [pytest.mark.browser]


def press(page: Any, button: str) -> None:
    page.click(button)
    page.click("#confirm-action")
    page.wait_for_selector("#targets")


def test_ada_publishes_to_zenodo_and_datameta_at_once(
    live_system: LiveSystem, page: Any, team: Any, member: Any
) -> None:
    datameta.control(live_system, {"action": "reset"})
    zenodo.control(live_system, {"wipe": True})
    zenodo_account, _ = zenodo.sandbox_account(live_system, team)
    datameta_account = datameta.linked_account(live_system, team)
    deposit = DepositFactory(team=team)
    for name, content in SAMPLES.items():
        add_file(deposit, name, content)
    to_zenodo = TargetFactory(deposit=deposit, account=zenodo_account)
    to_datameta = datameta_sheets.save_rows(
        TargetFactory(deposit=deposit, account=datameta_account), ROWS, user=member
    )
    lifecycle.revalidate(deposit)
    to_zenodo.refresh_from_db()
    assert to_zenodo.state == State.READY and to_datameta.state == State.READY

    sign_in(page, live_system, member)
    page.goto(f"{live_system.url}/deposits/{deposit.pk}/")
    press(page, f"#publish-{to_zenodo.pk}")
    press(page, f"#publish-{to_datameta.pk}")  # while Zenodo's worker is still on it
    page.evaluate("window.__notReloaded = true")

    doi = page.locator(f'#target-{to_zenodo.pk} [data-identifier="doi-version"]')
    submission = page.locator(
        f'#target-{to_datameta.pk} [data-identifier="datameta-submission-version"]'
    )
    doi.wait_for(timeout=90_000)
    submission.wait_for(timeout=90_000)
    assert page.evaluate("window.__notReloaded === true"), "the page reloaded"
    assert doi.inner_text().startswith("10.5072/")
    assert re.fullmatch(r"DMS-\d{8}", submission.inner_text().strip())
    assert "Published" in text(page, f"#target-{to_zenodo.pk} .chip")
    assert "Published" in text(page, f"#target-{to_datameta.pk} .chip")
    # The cards and the deposit's own sections refresh in separate swaps: the edit locks
    # go with the second, a moment after the identifiers show, still without a reload.
    page.wait_for_function(
        "() => !document.querySelector('#files-locked, #metadata-locked')", timeout=30_000
    )
    assert page.evaluate("window.__notReloaded === true"), "the page reloaded"
