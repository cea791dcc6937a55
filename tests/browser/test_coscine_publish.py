"""In a real browser, as ada, against the Coscine sandbox through real workers: the
panel loads the projects from Coscine, she picks a project, creates a resource, fills
the base profile's form (emptying the title shows the violation next to it, a new title
clears it), stores the deposit on Coscine and sees the resource's Handle appear."""

from __future__ import annotations

from typing import Any

import pytest
from rdflib import Graph, URIRef

from deposits.models import Lookup, State, Target
from deposits.repositories.coscine import profiles
from tests.browser.test_coscine_panel import change, settled, sign_in
from tests.browser.test_zenodo_versions import confirm
from tests.e2e.test_coscine import (
    BASE_PROFILE,
    DCT,
    DISCIPLINE,
    PROJECT,
    PUBLIC,
    RESOURCE_TYPES,
    control,
    coscine_account,
)
from tests.factories import DepositFactory, TargetFactory, add_file
from tests.livesystem import LiveSystem, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

TITLE = DCT + "title"


def create_resource(page: Any, pk: int) -> None:
    page.wait_for_selector(
        f"#coscine-project-{pk} option[value='{PROJECT}']", state="attached", timeout=30_000
    )
    change(page, f"#coscine-project-{pk}", PROJECT)
    page.wait_for_selector(
        f"#coscine-resource-{pk} option[value='new']", state="attached", timeout=30_000
    )
    change(page, f"#coscine-resource-{pk}", "new")
    nr = f"#coscine-nr-{pk}"
    rds = RESOURCE_TYPES["rds"]
    page.wait_for_selector(f"{nr}-resource_type option[value='{rds}']", state="attached")
    change(page, f"{nr}-name", "Moisture series from the browser")
    change(page, f"{nr}-display_name", "Moisture")
    change(page, f"{nr}-description", "Hourly soil moisture, 2026.")
    change(page, f"{nr}-visibility", PUBLIC)
    change(page, f"{nr}-disciplines", [DISCIPLINE])
    change(page, f"{nr}-resource_type", RESOURCE_TYPES["rds"])
    change(page, f"{nr}-quota_gib", "2")
    page.wait_for_selector(
        f"{nr}-application_profile option[value='{BASE_PROFILE}']", state="attached"
    )
    change(page, f"{nr}-application_profile", BASE_PROFILE)
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.click(f"#coscine-save-resource-{pk}")
    settled(page)


def title_index(target: Target) -> int:
    def fetched() -> Any:
        row = Lookup.objects.filter(account=target.account, key="profile:" + BASE_PROFILE).first()
        return row.data if row is not None else None

    data = wait_until(fetched, 30, "the base profile to be fetched by a worker")
    return next(i for i, f in enumerate(profiles.form_for(data).fields) if f.key == TITLE)


def test_ada_stores_a_deposit_on_coscine_from_the_panel_and_sees_its_handle(
    live_system: LiveSystem, page: Any, team: Any, member: Any
) -> None:
    account = coscine_account(live_system, team)
    deposit = DepositFactory(team=team)  # a full description: title, creators, dates...
    add_file(deposit, "moisture.csv", b"hour,moisture\n0,0.31\n1,0.30\n")
    add_file(deposit, "README.txt", b"Hourly soil moisture.\n")
    target = TargetFactory(deposit=deposit, account=account)
    pk = target.pk
    sign_in(page, live_system, member)
    page.goto(f"{live_system.url}/deposits/{deposit.pk}/")

    create_resource(page, pk)
    index = title_index(target)
    field, problems = f"#coscine-{pk}-all-{index}", f"#error-coscine-{pk}-all-{index}"
    page.wait_for_selector(field)
    # prefilled from the deposit's description
    assert page.input_value(field) == deposit.metadata["titles"][0]["title"]
    change(page, field, "")
    page.wait_for_function(
        f"() => document.querySelector('{problems}').innerText.includes('Title')"
    )
    change(page, field, "Soil moisture at Lindenberg, hourly")
    page.wait_for_function(f"() => document.querySelector('{problems}').innerText.trim() === ''")
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.click(f"#coscine-save-metadata-{pk}-all")
    settled(page)
    wait_until(
        lambda: Target.objects.get(pk=pk).state == State.READY,
        30,
        f"the target to be ready ({Target.objects.get(pk=pk).problems})",
    )

    page.reload()
    confirm(page, "publish", pk, expect="Store on Coscine")
    handle = page.locator(f"#coscine-handle-{pk}")
    handle.wait_for(timeout=120_000)
    target.refresh_from_db()
    assert target.state == State.PUBLISHED, target.last_error
    assert handle.get_attribute("href") == f"https://hdl.handle.net/21.11102/{target.remote_id}"
    assert "persistent identifier (Handle)" in page.text_content(f"#coscine-published-{pk}")
    # never called a DOI: not in the panel, not on the target's card or its badge
    pid = f"21.11102/{target.remote_id}"
    assert f"DOI {pid}" not in page.inner_text("main")
    badge = page.locator(f"#target-{pk} [data-badge] svg")
    assert badge.get_attribute("aria-label") == f"Handle: {pid}"
    stored = control(live_system, f"resources/{target.remote_id}/stored")
    assert sorted(stored["files"]) == ["README.txt", "moisture.csv"]
    graph = Graph().parse(data=stored["metadata"]["moisture.csv"]["turtle"], format="turtle")
    assert {str(o) for o in graph.objects(None, URIRef(TITLE))} == {
        "Soil moisture at Lindenberg, hourly"
    }
