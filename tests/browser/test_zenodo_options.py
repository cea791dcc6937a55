"""In a real browser, as ada: the Zenodo panel of a deposit (Zenodo's web part) saves the
communities, shows Zenodo's complaint next to the field, and clears it once fixed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from deposits.models import Target
from tests.factories import AccountFactory, DepositFactory, TargetFactory, record
from tests.livesystem import LiveSystem, wait_until

pytestmark = [pytest.mark.browser]


def test_ada_sets_the_zenodo_communities_in_the_zenodo_panel(
    live_system: LiveSystem, page: Any, team: Any, member: Any, tmp_path: Path
) -> None:
    account = AccountFactory(team=team, label="Zenodo sandbox", status="ok")
    deposit = DepositFactory(team=team, metadata=record(title="Soil moisture"))
    target = TargetFactory(deposit=deposit, account=account)

    page.goto(f"{live_system.url}/login/")
    page.fill("#id_username", member.username)
    page.fill("#id_password", "secret-pass-1")
    page.click("#login-submit")
    page.goto(f"{live_system.url}/deposits/{deposit.pk}/")
    field = f"#communities-{target.pk}"
    problems = f"#error-options-communities-{target.pk}"

    page.fill(field, "Not A Community!")
    page.click(f"#save-options-{target.pk}")
    page.wait_for_function(
        f"() => document.querySelector('{problems}').innerText.includes('is not a Zenodo community id')"
    )
    assert "Zenodo" in page.locator(problems).inner_text()
    # the deposit's readiness list links to the panel where the problem is shown
    page.wait_for_selector(f'#target-{target.pk} a[href="#target-panel-{target.pk}"]')
    shots = os.environ.get("BROWSER_SCREENSHOTS")
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        if shots:
            page.screenshot(path=str(Path(shots) / f"zenodo-options-{width}.png"), full_page=True)

    page.fill(field, "ecfunded\nzenodo")
    page.click(f"#save-options-{target.pk}")
    page.wait_for_function(f"() => document.querySelector('{problems}').innerText.trim() === ''")
    wait_until(
        lambda: (
            Target.objects.get(pk=target.pk).options.get("communities") == ["ecfunded", "zenodo"]
        ),
        10,
        "the communities to be saved",
    )
