"""In a real browser: import a sample sheet with errors, see them on their cells, fix them
in the table, submit to the DataMeta sandbox through a worker, see the submission id."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from deposits import lifecycle
from tests.e2e.test_datameta_submit import linked_account
from tests.factories import DepositFactory, TargetFactory, add_file, record
from tests.livesystem import LiveSystem

pytestmark = [pytest.mark.browser]

SHEET = (
    "SampleID,ZIPCode,Date,FileR1,Comment\n"
    "AB12,12a4,29.03.2021,AB12_R1.fastq.gz,first\n"
    "CD34,150,2021-04-01,CD34_R1.fastq.gz,second\n"
)


def test_a_sheet_with_errors_is_fixed_and_submitted(
    live_system: LiveSystem, page: Any, team: Any, member: Any, tmp_path: Path
) -> None:
    account = linked_account(live_system, team)  # verified, its fields fetched
    deposit = DepositFactory(team=team, metadata=record(title="Soil samples, spring 2024"))
    add_file(deposit, "AB12_R1.fastq.gz", b"@r1\nACGT\n+\nIIII\n" * 100)
    add_file(deposit, "CD34_R1.fastq.gz", b"@r2\nTTGA\n+\nIIII\n" * 100)
    target = TargetFactory(deposit=deposit, account=account)
    lifecycle.revalidate(deposit)
    sheet = tmp_path / "samples.csv"
    sheet.write_text(SHEET)

    page.goto(f"{live_system.url}/login/")
    page.fill("#id_username", member.username)
    page.fill("#id_password", "secret-pass-1")
    page.click("#login-submit")
    page.goto(f"{live_system.url}/deposits/{deposit.pk}/")
    panel = page.locator(f"#datameta-{target.pk}")
    if panel.count() == 0:
        pytest.skip(
            "the deposit page does not include templates/deposits/datameta/target-panel.html yet"
        )

    # Import: the preview shows each cell's problem before anything is saved.
    page.set_input_files(f"#datameta-sheet-{target.pk}", str(sheet))
    page.click(f"#datameta-preview-{target.pk}")
    assert "2 problems" in page.inner_text("#preview-summary")
    assert "exactly three digits" in page.inner_text('#preview-table td[data-cell="0-ZIPCode"]')
    assert "YYYY-MM-DD" in page.inner_text('#preview-table td[data-cell="0-Date"]')
    assert "Comment" in page.inner_text("#preview-ignored")
    page.click("#import-replace")

    # The table shows the same problems on their cells; fixing a cell clears its problem.
    zip_cell = page.locator(f'#datameta-table-{target.pk} td[data-cell="0-ZIPCode"]')
    assert "exactly three digits" in zip_cell.inner_text()
    page.fill(f"#datameta-{target.pk}-cell-0-ZIPCode", "149")
    page.press(f"#datameta-{target.pk}-cell-0-ZIPCode", "Tab")
    page.wait_for_function(
        f"""() => !document.querySelector('#datameta-table-{target.pk} td[data-cell="0-ZIPCode"]')
                  .classList.contains('has-problem')"""
    )
    page.fill(f"#datameta-{target.pk}-cell-0-Date", "2021-03-29")
    page.press(f"#datameta-{target.pk}-cell-0-Date", "Tab")
    page.wait_for_function(
        f"() => !document.querySelector('#datameta-table-{target.pk} .has-problem')"
    )

    # The target's card follows the table without a reload: no problems, a Publish button.
    page.wait_for_selector(f"#readiness-{target.pk} .ok", timeout=15_000)
    assert page.get_attribute(f"#readiness-{target.pk}", "data-problems") == "0"

    # Publish: confirm, and the worker submits; the panel shows the submission's id.
    page.click(f"#publish-{target.pk}")
    page.click("#confirm-action")
    submission = page.locator('[data-identifier="datameta-submission"]')
    submission.wait_for(timeout=90_000)
    assert re.fullmatch(r"DMS-\d{8}", submission.inner_text().strip())
    assert page.locator('[data-identifier="datameta-metadataset"]').count() == 2
