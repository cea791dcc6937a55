"""In a real browser, as ada: the deposit page's DataCite links download a JSON and an XML
record the ``datacite`` package's schema accepts, holding what ada typed in the editor;
an incomplete description gets a page that says what to fill in."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from datacite import schema45
from lxml import etree

from deposits.models import Deposit
from tests.factories import DepositFactory, record
from tests.livesystem import LiveSystem, wait_until

pytestmark = [pytest.mark.browser]
NS = {"d": "http://datacite.org/schema/kernel-4"}


def screenshots(page: Any, name: str) -> None:
    """The page at a phone's and a laptop's width, when BROWSER_SCREENSHOTS names a folder."""
    shots = os.environ.get("BROWSER_SCREENSHOTS")
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        if shots:
            page.screenshot(path=str(Path(shots) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def sign_in(page: Any, live_system: LiveSystem, member: Any) -> None:
    page.goto(f"{live_system.url}/login/")
    page.fill("#id_username", member.username)
    page.fill("#id_password", "secret-pass-1")
    page.click("#login-submit")


def test_ada_downloads_the_description_as_datacite_json_and_xml(
    live_system: LiveSystem, page: Any, team: Any, member: Any, tmp_path: Path
) -> None:
    deposit = DepositFactory(team=team)
    sign_in(page, live_system, member)
    page.goto(f"{live_system.url}/deposits/{deposit.pk}/")
    # edits typed in the editor are in the export: a version, an affiliation's ROR id
    page.fill("#id_version", "2.1")
    page.fill("#id_creators-0-ror", "00g30e956")
    page.wait_for_function(
        "() => document.querySelector('#save-status').innerText.includes('Saved')"
    )
    wait_until(
        lambda: "ror.org" in str(Deposit.objects.get(pk=deposit.pk).metadata["creators"][0]),
        10,
        "the ROR id to be saved",
    )
    screenshots(page, "datacite-export")

    with page.expect_download() as download:
        page.click("#export-datacite-json")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == f"deposit-{deposit.pk}-datacite.json"
    data = json.loads(path.read_text())
    assert schema45.validate(data)
    assert data["version"] == "2.1"
    assert data["creators"][0]["affiliation"] == [
        {
            "name": "Analytical Engines Ltd",
            "affiliationIdentifier": "https://ror.org/00g30e956",
            "affiliationIdentifierScheme": "ROR",
            "schemeUri": "https://ror.org",
        }
    ]
    assert data["types"]["resourceTypeGeneral"] == "Dataset"

    with page.expect_download() as download:
        page.click("#export-datacite-xml")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    xml = etree.fromstring(path.read_bytes())
    assert xml.find("d:version", NS).text == "2.1"
    assert [c.text for c in xml.findall("d:creators/d:creator/d:creatorName", NS)] == [
        "Lovelace, Ada",
        "Hopper, Grace",
    ]


def test_an_incomplete_description_says_what_datacite_still_needs(
    live_system: LiveSystem, page: Any, team: Any, member: Any
) -> None:
    deposit = DepositFactory(team=team, metadata=record(title="Only a title"))
    sign_in(page, live_system, member)
    page.goto(f"{live_system.url}/deposits/{deposit.pk}/")
    page.click("#export-datacite-json")
    page.wait_for_selector("#export-problems")
    screenshots(page, "datacite-export-problems")
    text = page.locator("#export-problems").inner_text()
    assert "Add at least one creator with a name." in text
    assert "Choose a resource type." in text
    page.click("#export-problems a")
    page.wait_for_selector("#metadata-form")
