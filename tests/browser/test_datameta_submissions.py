"""In a real browser, against the DataMeta sandbox through a worker: a README beside the
sample files is left out with a note and the samples are submitted; the panel says that
a new submission needs new sample ids before anything is pressed; the refused attempt's
"Delete staged items" returns the target to its published submission."""

from __future__ import annotations

import re
from typing import Any

import pytest

from deposits.models import State, Target
from deposits.repositories.datameta import sheets as datameta_sheets
from tests.e2e.test_datameta_submit import control, linked_account, wait_for_state
from tests.factories import DepositFactory, TargetFactory, add_file, record
from tests.livesystem import LiveSystem

pytestmark = [pytest.mark.browser]

SAMPLES = {
    "AB12_R1.fastq.gz": b"@r1\nACGT\n+\nIIII\n" * 100,
    "CD34_R1.fastq.gz": b"@r2\nTTGA\n+\nIIII\n" * 100,
}
ROWS = [
    {"SampleID": "AB12", "ZIPCode": "149", "FileR1": "AB12_R1.fastq.gz"},
    {"SampleID": "CD34", "ZIPCode": "150", "FileR1": "CD34_R1.fastq.gz"},
]


def sign_in(page: Any, system: LiveSystem, user: Any) -> None:
    page.goto(f"{system.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "secret-pass-1")
    page.click("#login-submit")


def confirm(page: Any, button: str, expected: str) -> None:
    """Press an action's button, read its confirmation, confirm."""
    page.click(button)
    page.wait_for_selector("#confirm-action")
    assert expected in page.inner_text("main")
    page.click("#confirm-action")


def settled(target: Target) -> Target:
    return wait_for_state(target, {State.PUBLISHED, State.FAILED, State.READY}, timeout=90)


def test_a_readme_stays_here_and_a_new_submission_asks_for_new_ids(
    live_system: LiveSystem, page: Any, team: Any, member: Any
) -> None:
    from sandbox.datameta.models import File, MetaDataSet

    control(live_system, {"action": "reset"})
    account = linked_account(live_system, team)
    deposit = DepositFactory(team=team, metadata=record(title="Soil samples, spring 2024"))
    add_file(deposit, "README.md", b"# Soil samples\n\nTwo samples, one FASTQ file each.\n")
    for name, content in SAMPLES.items():
        add_file(deposit, name, content)
    target = TargetFactory(deposit=deposit, account=account)
    target = datameta_sheets.save_rows(target, ROWS, user=member)
    assert target.state == State.READY, target.problems

    sign_in(page, live_system, member)
    url = f"{live_system.url}/deposits/{deposit.pk}/"
    page.goto(url)
    note = page.inner_text(f"#datameta-left-out-{target.pk}")
    assert "Not sent to DataMeta: README.md" in note
    assert "name it in a sample's FileR1 cell" in note

    # Submitting sends the samples and their files, not the README.
    confirm(page, f"#publish-{target.pk}", "submitted together")
    submission = page.locator('[data-identifier="datameta-submission"]')
    submission.wait_for(timeout=90_000)
    first = submission.inner_text().strip()
    assert re.fullmatch(r"DMS-\d{8}", first)
    assert sorted(File.objects.values_list("name", flat=True)) == sorted(SAMPLES)

    # Before anything is pressed, the panel says what a new submission needs.
    page.goto(url)
    guidance = page.inner_text(f"#datameta-new-ids-{target.pk}")
    assert "AB12, CD34" in guidance and "new SampleID values" in guidance

    # Pressed anyway: refused before anything is staged, saying the same.
    confirm(page, f"#new_version-{target.pk}", "need new ids first")
    target = settled(target)
    assert target.state == State.FAILED
    page.goto(url)
    card = page.inner_text(f"#target-{target.pk}")
    assert "give these samples new SampleID values" in card
    assert MetaDataSet.objects.filter(submission=None).count() == 0

    # "Delete staged items" gives the new submission up: the published one is shown.
    confirm(page, f"#discard_version-{target.pk}", "The earlier submission stays as it is")
    target = settled(target)
    assert target.state == State.PUBLISHED, target.last_error
    page.goto(url)
    assert page.inner_text('[data-identifier="datameta-submission"]').strip() == first
    assert page.locator(f"#new_version-{target.pk}").count() == 1
    assert page.locator(f"#discard_version-{target.pk}").count() == 0
