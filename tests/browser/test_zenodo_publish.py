"""In a real browser, as ada: create a deposit, upload a file, watch the validation errors
clear, publish to the Zenodo sandbox through a worker, and see the DOIs appear live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deposits.models import Target
from tests.factories import AccountFactory
from tests.livesystem import LiveSystem

pytestmark = [pytest.mark.browser]


def error_text(page: Any, selector: str) -> str:
    return str(page.locator(selector).inner_text()).strip()


def test_ada_publishes_a_deposit_and_sees_its_doi_without_reloading(
    live_system: LiveSystem, page: Any, team: Any, member: Any, tmp_path: Path
) -> None:
    token = live_system.manage("sandbox_token", "zenodo")
    AccountFactory(
        team=team,
        label="Zenodo sandbox",
        base_url=f"{live_system.zenodo_url}/api",
        token=token,
        status="ok",
    )
    data = tmp_path / "moisture.csv"
    data.write_bytes(b"site,moisture\nlindenberg,0.31\n" * 1000)

    page.goto(f"{live_system.url}/login/")
    page.fill("#id_username", member.username)
    page.fill("#id_password", "secret-pass-1")
    page.click("#login-submit")
    page.click("#new-deposit")
    page.fill("#id_title", "Soil moisture at Lindenberg")
    page.check("input[name=accounts]")
    page.click("#create-deposit")
    page.wait_for_selector("#metadata-form")
    target = Target.objects.get(deposit__title="Soil moisture at Lindenberg")

    # Zenodo's rules, shown next to the fields they concern, naming the repository.
    creators_error = '.group-problems[data-field="creators"] .field-error'
    files_error = '[data-field="files"] .field-error'
    assert "creator" in error_text(page, creators_error).lower()
    assert "Zenodo" in error_text(page, creators_error)
    assert "file" in error_text(page, files_error).lower()
    assert page.locator(f"#publish-{target.pk}").count() == 0

    page.select_option("#id_resource_type", "dataset")
    page.fill("#id_creators-0-name", "Lovelace, Ada")
    page.fill("#id_creators-0-affiliation", "Analytical Engines Ltd")
    page.wait_for_function(
        f"() => document.querySelector('{creators_error}').innerText.trim() === ''", timeout=15_000
    )
    page.set_input_files("#file-input", str(data))
    page.wait_for_selector('tr[data-file="moisture.csv"]')
    page.wait_for_function(
        f"() => document.querySelector('{files_error}').innerText.trim() === ''", timeout=15_000
    )
    page.wait_for_selector(f"#readiness-{target.pk} .ok")

    page.click(f"#publish-{target.pk}")
    page.click("#confirm-action")
    page.wait_for_selector(f"#target-{target.pk}")
    page.evaluate("window.__notReloaded = true")

    doi = page.wait_for_selector('[data-identifier="doi-version"]', timeout=90_000)
    assert doi.inner_text().startswith("10.5072/")
    assert page.locator('[data-identifier="doi-concept"]').inner_text().startswith("10.5072/")
    assert page.evaluate("window.__notReloaded === true"), "the page reloaded to show the DOI"
    target.refresh_from_db()
    assert target.state == "published"
    assert target.identifiers.get(scope="version").value == doi.inner_text()

    # every link the published target shows answers, the sandbox's record pages included
    local = (live_system.url, live_system.zenodo_url)
    hrefs = page.eval_on_selector_all(f"#target-{target.pk} a[href]", "els => els.map(e => e.href)")
    followed = [href for href in hrefs if href.startswith(local)]
    assert any(href.startswith(live_system.zenodo_url) for href in followed), hrefs
    for href in followed:
        assert page.request.get(href).status < 400, href
