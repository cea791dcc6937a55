"""In a real browser, as ada, the deposit page's remaining controls: Choose repositories
(add one, then remove it), Save, Copy (a DOI) and Copy citation, and Compare."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_zenodo_versions import confirm, published_deposit, sign_in, text
from tests.factories import AccountFactory
from tests.livesystem import LiveSystem

pytestmark = [pytest.mark.browser]


def test_ada_chooses_repositories_saves_copies_and_compares(
    live_system: LiveSystem, page: Any, team: Any, member: Any
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    target = published_deposit(live_system, team)
    second = AccountFactory(team=team, label="Zenodo (second lab account)")
    pk = target.pk
    sign_in(page, live_system, member)
    page.goto(f"{live_system.url}/deposits/{target.deposit_id}/")

    # Choose repositories: add the second account, then take it away again.
    page.click("#targets .choose-targets summary")
    page.check(f'#targets-form input[name="accounts"][value="{second.pk}"]')
    page.click("#targets-form button[type=submit]")
    page.wait_for_selector(f'article[data-target-kind="zenodo"] >> text="{second.label}"')
    assert "Zenodo (second lab account) added." in text(page, "#messages")
    page.click("#targets .choose-targets summary")
    page.uncheck(f'#targets-form input[name="accounts"][value="{second.pk}"]')
    page.click("#targets-form button[type=submit]")
    page.wait_for_selector("#messages >> text=removed.")
    assert page.locator(f'article >> text="{second.label}"').count() == 0

    # Save: the button saves what the fields hold.
    page.fill("#id_version", "1.0.1")
    page.click("#save-metadata")
    page.wait_for_function(
        "() => document.querySelector('#save-status').innerText.includes('Saved')"
    )

    # Publish, then copy the DOI and the citation.
    confirm(page, "publish", pk, expect="Publish")
    doi = page.wait_for_selector('[data-identifier="doi-version"]', timeout=60_000).inner_text()
    copy = page.locator(f"#published-{pk} [data-copy]").first
    copy.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-copy]')].some(b => b.innerText === 'Copied')"
    )
    assert page.evaluate("() => navigator.clipboard.readText()") == doi
    page.click(f'[data-copy-from="#citation-{pk}"]')
    page.wait_for_function(
        f"() => document.querySelector('[data-copy-from=\"#citation-{pk}\"]').innerText === 'Copied'"
    )
    assert page.evaluate("() => navigator.clipboard.readText()") == text(page, f"#citation-{pk}")

    # Compare: an edit not sent yet, and the link to what differs.
    page.fill("#id_version", "1.0.2")
    page.wait_for_selector(f'#unsent-{pk} a[data-link="compare"]', timeout=15_000)
    page.click(f'#unsent-{pk} a[data-link="compare"]')
    assert page.url.endswith(f"#changes-{pk}")
    assert page.locator(f'#changes-{pk} tr[data-change="version"]').is_visible()
