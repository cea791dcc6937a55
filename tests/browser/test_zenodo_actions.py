"""In a real browser, as ada, every other action of a Zenodo target with its confirmation:
a publish the repository refuses, Delete remote draft (its errors go with it), Retry,
Edit published metadata, and Discard edit after an edit the repository refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_zenodo_versions import confirm, published_deposit, sign_in, text
from tests.e2e.zenodo_helpers import control
from tests.livesystem import LiveSystem

pytestmark = [pytest.mark.browser]

REFUSED = "creators.0.affiliation: Affiliation is not allowed here."
DESCRIBE = {"kind": "error", "status": 400, "method": "PUT", "message": REFUSED}


def refuse_next_metadata(system: LiveSystem) -> None:
    """Zenodo answers the next metadata PUT with a 400 naming a field."""
    control(system, {"faults": [{**DESCRIBE, "path": r"/deposit/depositions/\d+$"}]})


def wait_state(page: Any, pk: int, state: str) -> None:
    page.wait_for_selector(f'#target-{pk}[data-state="{state}"]', timeout=60_000)


def test_ada_deletes_a_refused_draft_retries_edits_and_discards_an_edit(
    live_system: LiveSystem, page: Any, team: Any, member: Any
) -> None:
    control(live_system, {"wipe": True})
    target = published_deposit(live_system, team)
    pk = target.pk
    sign_in(page, live_system, member)
    page.goto(f"{live_system.url}/deposits/{target.deposit_id}/")

    # Zenodo refuses the metadata: the target fails with Zenodo's words, a draft remains.
    refuse_next_metadata(live_system)
    confirm(page, "publish", pk, expect="Publish")
    wait_state(page, pk, "failed")
    assert "Affiliation is not allowed here" in text(page, f"#last-error-{pk}")
    assert page.locator(f"#delete-{pk}").is_visible() and page.locator(f"#retry-{pk}").count()
    assert page.locator("#delete-deposit").count() == 0  # Zenodo holds a draft of it

    # Delete remote draft: asked first; the draft and Zenodo's complaint both go.
    confirm(page, "delete", pk, expect="deleted, with the files uploaded to it")
    wait_state(page, pk, "ready")
    assert page.locator(f"#last-error-{pk}").count() == 0
    assert "Affiliation is not allowed" not in text(page, f"#target-{pk}")
    assert page.locator("#files-locked, #metadata-locked").count() == 0
    target.refresh_from_db()
    assert target.remote_id == "" and target.problems == []
    assert page.locator("#delete-deposit").is_visible()

    # Refused again, then Retry: the same draft is used and the record is published.
    refuse_next_metadata(live_system)
    confirm(page, "publish", pk, expect="Publish")
    wait_state(page, pk, "failed")
    page.click(f"#retry-{pk}")
    wait_state(page, pk, "published")
    doi = text(page, '[data-identifier="doi-version"]')
    # "Trying again" was right while it ran; once published the page no longer says it
    page.wait_for_selector("#messages .message-success", state="detached", timeout=10_000)

    # Edit published metadata: the confirmation lists the change; same DOI, new citation.
    page.fill("#id_title", "Soil moisture at Lindenberg, 2024 (corrected)")
    page.wait_for_selector(f'#changes-{pk} tr[data-change="title"]', timeout=15_000)
    confirm(page, "edit", pk, expect="(corrected)")
    page.wait_for_function(
        f"() => document.querySelector('#unsent-{pk}')?.innerText.includes('Up to date')",
        timeout=60_000,
    )
    assert text(page, '[data-identifier="doi-version"]') == doi
    assert "(corrected)" in text(page, f"#citation-{pk}")

    # An edit Zenodo refuses leaves the record open for editing: Discard edit closes it.
    page.fill("#id_title", "Soil moisture at Lindenberg, 2024 (second try)")
    page.wait_for_selector(f'#changes-{pk} tr[data-change="title"]', timeout=15_000)
    refuse_next_metadata(live_system)
    confirm(page, "edit", pk, expect="(second try)")
    wait_state(page, pk, "failed")
    confirm(page, "discard", pk, expect="stays as it was before the edit")
    wait_state(page, pk, "published")
    target.refresh_from_db()
    assert target.remote_state == "done" and target.problems == []
    assert "(corrected)" in text(page, f"#citation-{pk}")
    assert "Not sent to Zenodo yet" in text(page, f"#unsent-{pk}")  # the local edit stays
