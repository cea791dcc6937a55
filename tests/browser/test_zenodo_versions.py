"""In a real browser, as ada, on a deposit published to the Zenodo sandbox: open a new
version (a draft), change its version and files, see what differs, publish it under the
same concept DOI; open another and discard it; edit the published record; discard local
edits; and delete a deposit no repository holds anything of."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deposits import lifecycle
from deposits.models import Deposit, Target
from tests.browser.test_layout import look
from tests.factories import AccountFactory, DepositFactory, TargetFactory, add_file
from tests.livesystem import LiveSystem

pytestmark = [pytest.mark.browser]


def sign_in(page: Any, system: LiveSystem, user: Any) -> None:
    page.goto(f"{system.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "secret-pass-1")
    page.click("#login-submit")


def published_deposit(system: LiveSystem, team: Any) -> Target:
    token = system.manage("sandbox_token", "zenodo")
    account = AccountFactory(
        team=team, label="Zenodo sandbox", base_url=f"{system.zenodo_url}/api", token=token
    )
    deposit = DepositFactory(team=team)
    deposit.metadata = {**deposit.metadata, "version": "v1.0"}
    deposit.save()
    add_file(deposit, "data.csv", b"site,moisture\nlindenberg,0.31\n")
    add_file(deposit, "README.txt", b"Soil moisture, hourly.\n")
    target = TargetFactory(deposit=deposit, account=account)
    lifecycle.revalidate(deposit)
    return target


def confirm(page: Any, action: str, pk: int, *, expect: str) -> None:
    """Press an action's button, read its confirmation page, confirm."""
    page.click(f"#{action}-{pk}")
    page.wait_for_selector("#confirm-action")
    assert expect in page.inner_text("#confirm-title") + page.inner_text(".confirm")
    page.click("#confirm-action")
    page.wait_for_selector(f"#target-{pk}")


def text(page: Any, selector: str) -> str:
    return str(page.inner_text(selector)).strip()


def _publish_first(page: Any, system: LiveSystem, target: Target, member: Any) -> None:
    pk = target.pk
    sign_in(page, system, member)
    page.goto(f"{system.url}/deposits/{target.deposit_id}/")
    confirm(page, "publish", pk, expect="Publish")
    page.wait_for_selector('[data-identifier="doi-version"]', timeout=60_000)
    assert "Up to date" in text(page, f"#unsent-{pk}")
    assert page.locator("#delete-deposit").count() == 0  # published: its history stays


def _open_new_version(page: Any, pk: int) -> None:
    """Asked first, then only a draft is opened (files carried over)."""
    confirm(page, "new_version", pk, expect="Nothing is published yet")
    page.wait_for_selector(f"#version-draft-{pk}", timeout=60_000)
    assert "No changes yet" in text(page, f"#unsent-{pk}")
    assert page.locator(f"#publish_version-{pk}").is_visible()
    draft_link = page.get_attribute(f'#target-{pk} a[data-link="draft"]', "href")
    assert draft_link and page.request.get(draft_link).status < 400


def _change_and_compare(page: Any, pk: int, tmp_path: Path) -> None:
    """Change the version, replace a file and delete another: the comparison shows each."""
    page.fill("#id_version", "v2.0")
    row = f'#changes-{pk} tr[data-change="version"]'
    page.wait_for_selector(row, timeout=15_000)
    assert text(page, f"{row} .before") == "v1.0" and text(page, f"{row} .after") == "v2.0"
    newer = tmp_path / "data.csv"
    newer.write_bytes(b"site,moisture\nlindenberg,0.29\n")
    page.check("#replace-files")
    page.set_input_files("#file-input", str(newer))
    page.wait_for_selector(
        f'#changes-{pk} tr[data-file-change="data.csv"][data-change-kind="replaced"]'
    )
    page.click('tr[data-file="README.txt"] [data-action="delete-file"]')
    page.click("#confirm-action")
    page.wait_for_selector(
        f'#changes-{pk} tr[data-file-change="README.txt"][data-change-kind="removed"]'
    )
    assert "2 files" in text(page, f"#unsent-{pk}") and "1 field" in text(page, f"#unsent-{pk}")
    # the comparison, the draft's notice and its buttons fit a phone and a laptop
    problems = []
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        problems += look(page, "deposit-new-version-draft")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert not problems, problems


def _publish_new_version(page: Any, system: LiveSystem, pk: int, v1_doi: str) -> None:
    """The confirmation lists the changes; a new DOI, the same concept DOI, no reload."""
    concept = text(page, '[data-identifier="doi-concept"]')
    page.click(f"#publish_version-{pk}")
    assert "Version: “v1.0” → “v2.0”" in text(page, "#confirm-changes")
    assert "File README.txt: removed" in text(page, "#confirm-changes")
    page.click("#confirm-action")
    page.wait_for_selector(f"#target-{pk}")
    page.evaluate("window.__notReloaded = true")
    page.wait_for_function(
        f"() => document.querySelector('[data-identifier=\"doi-version\"]')?.innerText.trim() "
        f"!== '{v1_doi}' && !document.querySelector('#version-draft-{pk}')",
        timeout=60_000,
    )
    assert page.evaluate("window.__notReloaded === true")
    assert text(page, '[data-identifier="doi-concept"]') == concept
    assert v1_doi in text(page, f"#target-{pk} .earlier")
    assert "Up to date" in text(page, f"#unsent-{pk}")
    assert "v2.0" in text(page, f"#citation-{pk}")
    local = (system.url, system.zenodo_url)
    hrefs = page.eval_on_selector_all(f"#target-{pk} a[href]", "els => els.map(e => e.href)")
    for href in (h for h in hrefs if h.startswith(local)):
        assert page.request.get(href).status < 400, href


def _edit_shown_then_discarded(page: Any, pk: int) -> None:
    """An edit not sent yet shows on the card and in the comparison, with the citation
    still that of the published version; "Edit published metadata" lists it first;
    discarding it puts the description back as published."""
    page.fill("#id_title", "Soil moisture at Lindenberg, corrected")
    page.wait_for_selector(f'#changes-{pk} tr[data-change="title"]', timeout=15_000)
    assert "Not sent to Zenodo yet" in text(page, f"#unsent-{pk}")
    assert "corrected" not in text(page, f"#citation-{pk}")
    assert "Published version v2.0" in text(page, f"#published-label-{pk}")
    page.click(f"#edit-{pk}")
    assert "corrected" in text(page, "#confirm-changes")
    page.click("#confirm-cancel")
    page.click(f"#discard-local-{pk}")
    page.click("#confirm-action")
    page.wait_for_selector(f"#unsent-{pk}")
    assert "Up to date" in text(page, f"#unsent-{pk}")
    assert "corrected" not in page.input_value("#id_title")


def test_ada_drafts_compares_publishes_and_discards_new_versions(
    live_system: LiveSystem, page: Any, team: Any, member: Any, tmp_path: Path
) -> None:
    target = published_deposit(live_system, team)
    pk = target.pk
    _publish_first(page, live_system, target, member)
    v1_doi = text(page, '[data-identifier="doi-version"]')

    _open_new_version(page, pk)
    assert text(page, '[data-identifier="doi-version"]') == v1_doi
    _change_and_compare(page, pk, tmp_path)
    _publish_new_version(page, live_system, pk, v1_doi)
    v2_doi = text(page, '[data-identifier="doi-version"]')

    # Another new version, discarded: its draft goes, nothing else changes.
    _open_new_version(page, pk)
    confirm(page, "discard_version", pk, expect="Discard new version")
    page.wait_for_function(f"() => !document.querySelector('#version-draft-{pk}')", timeout=60_000)
    page.wait_for_selector(f"#new_version-{pk}")
    assert text(page, '[data-identifier="doi-version"]') == v2_doi
    target.refresh_from_db()
    assert target.state == "published" and target.published_version["version"] == "v2.0"

    _edit_shown_then_discarded(page, pk)
    assert Deposit.objects.get(pk=target.deposit_id).metadata["version"] == "v2.0"


def test_ada_deletes_a_deposit_no_repository_holds(
    live_system: LiveSystem, page: Any, team: Any, member: Any
) -> None:
    deposit = DepositFactory(team=team)
    add_file(deposit, "notes.txt", b"draft notes\n")
    sign_in(page, live_system, member)
    page.goto(f"{live_system.url}/deposits/{deposit.pk}/")
    page.click("#delete-deposit")
    assert "No repository holds anything of it" in text(page, ".confirm")
    page.click("#confirm-cancel")
    page.click("#delete-deposit")
    page.click("#confirm-action")
    page.wait_for_selector("#messages .message-success")
    assert "Deleted the deposit" in text(page, "#messages")
    assert not Deposit.objects.filter(pk=deposit.pk).exists()
    assert str(deposit) not in page.inner_text("main")
