"""In a real browser, as ada: the Coscine panel of a deposit. She picks a project, creates
a resource (fills its form), fills the application profile's form and sees a violation
appear next to its field and clear once fixed, gives one file metadata of its own and
lets it follow all files again; after publishing she sees the Handle, retries a list
Coscine failed to send, and requests publication. Nothing overflows at 390 or 1366 px.

The lookups are filled in the test database (tests/views/test_coscine_panel.py, in the
shapes of interfaces.md, the profile's Turtle from sandbox/coscine/profiles/): the account
points at a port where nothing answers, so nothing is fetched from a Coscine."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from deposits.models import Lookup, Target
from deposits.repositories.coscine import profiles
from tests.browser.test_layout import overflow
from tests.factories import AccountFactory, DepositFactory, TargetFactory, add_file, record
from tests.livesystem import LiveSystem, free_port, wait_until
from tests.views.test_coscine_panel import (
    MEASUREMENT,
    PROJECT,
    ROR,
    SPECIMEN,
    fill_lookups,
    lookup_data,
    published,
)

pytestmark = [pytest.mark.browser]


def sign_in(page: Any, system: LiveSystem, user: Any) -> None:
    page.goto(f"{system.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "secret-pass-1")
    page.click("#login-submit")


def settled(page: Any) -> None:
    """htmx has answered and swapped (the panel is drawn again after each change)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    page.wait_for_timeout(50)


def change(page: Any, selector: str, value: str | list[str]) -> None:
    """Set a field as a person does (type or choose, then leave it) and wait for the save."""
    field = page.locator(selector)
    with page.expect_response(lambda r: r.request.method == "POST"):
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(str(value))
            field.evaluate("e => e.blur()")
    settled(page)


PANEL_OVERFLOW_JS = """
(selector) => {
  const root = document.querySelector(selector);
  const edge = Math.min(root.getBoundingClientRect().right, window.innerWidth);
  const found = [];
  for (const el of root.querySelectorAll('*')) {
    const rect = el.getBoundingClientRect();
    if (rect.width <= 1 || rect.height <= 1) continue;
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
    if (rect.right > edge + 1) found.push(`${name} reaches ${Math.round(rect.right)} px`);
    const clips = getComputedStyle(el).overflowX !== 'visible';
    if (clips && !el.matches('input, select, textarea') && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${name} hides ${el.scrollWidth - el.clientWidth} px sideways`);
    }
  }
  return found;
}
"""


def no_overflow(page: Any, name: str, pk: int, *, whole_page: bool = True) -> None:
    """Nothing of the panel sticks out or is cut off (and, unless told, nothing of the
    page: the layout test's own check)."""
    shots = os.environ.get("BROWSER_SCREENSHOTS")
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        if shots:
            page.screenshot(path=str(Path(shots) / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate(PANEL_OVERFLOW_JS, f"#coscine-{pk}") == [], f"{name} at {width}"
        if whole_page:
            assert overflow(page) == [], f"{name} at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def coscine_target(team: Any) -> Target:
    account = AccountFactory(
        team=team,
        kind="coscine",
        label="Coscine RWTH",
        base_url=f"http://127.0.0.1:{free_port()}/coscine",
    )
    fill_lookups(account)
    deposit = DepositFactory(team=team, metadata=record(title="Tensile tests of S355"))
    add_file(deposit, "run1.csv", b"force,strain\n1,2\n")
    add_file(deposit, "run2.csv", b"force,strain\n3,4\n")
    return TargetFactory(deposit=deposit, account=account)


def specimen_index() -> int:
    form = profiles.form_for(lookup_data()["profile:" + MEASUREMENT])
    return next(i for i, f in enumerate(form.fields) if f.key == SPECIMEN)


def create_resource(page: Any, pk: int) -> None:
    """Pick the project, "Create a new resource", and fill its form (a display name too
    long first: its problem appears next to it, and clears once shortened)."""
    change(page, f"#coscine-project-{pk}", PROJECT)
    change(page, f"#coscine-resource-{pk}", "new")
    page.wait_for_selector(f"#coscine-new-resource-{pk}")
    types = page.locator(f"#coscine-nr-{pk}-resource_type option").all_inner_texts()
    assert "rdss3rwth (80 GiB of 100 GiB left)" in types
    assert not any("gitlab" in t or "linked" in t for t in types)
    nr = f"#coscine-nr-{pk}"
    problems = f"#error-coscine-nr-{pk}-display_name"
    change(page, f"{nr}-name", "Tensile tests S355")
    change(page, f"{nr}-display_name", "Tensile tests of S355 steel, 2026")
    page.wait_for_function(f"() => document.querySelector('{problems}').innerText.includes('25')")
    change(page, f"{nr}-display_name", "Tensile S355")
    page.wait_for_function(f"() => document.querySelector('{problems}').innerText.trim() === ''")
    change(page, f"{nr}-description", "Raw force and strain of each tensile test.")
    change(page, f"{nr}-visibility", "8ab7b9f5-1c3e-4d2a-9e4f-3b5c7d9e1f02")
    change(
        page,
        f"{nr}-disciplines",
        ["1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c01", "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d05"],
    )
    change(page, f"{nr}-license", "3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e07")
    change(page, f"{nr}-keywords", "tensile, steel")
    change(page, f"{nr}-resource_type", "c8e3a4f1-2b6d-4e0a-9f3c-7d1e5b2a6c40")
    change(page, f"{nr}-quota_gib", "5")
    change(page, f"{nr}-application_profile", MEASUREMENT)
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.click(f"#coscine-save-resource-{pk}")
    settled(page)


def fill_profile_form(page: Any, pk: int, index: int) -> None:
    """The form for all files: a specimen id against the profile's pattern, refused next
    to its field, then fixed."""
    specimen = f"#coscine-{pk}-all-{index}"
    problems = f"#error-coscine-{pk}-all-{index}"
    page.wait_for_selector(specimen)
    assert "Prefilled from the deposit's description." in page.inner_text(f"#coscine-{pk}")
    change(page, specimen, "not an id")
    page.wait_for_function(
        f"() => document.querySelector('{problems}').innerText.includes('Specimen ID')"
    )
    assert page.get_attribute(specimen, "aria-invalid") == "true"
    no_overflow(page, "coscine-panel-violation", pk)
    change(page, specimen, "AB-1234")
    page.wait_for_function(f"() => document.querySelector('{problems}').innerText.trim() === ''")
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.click(f"#coscine-save-metadata-{pk}-all")
    settled(page)


def override_one_file(page: Any, pk: int, index: int) -> None:
    """run2.csv gets a specimen id of its own, then follows all files again."""
    with page.expect_response(lambda r: "scope=run2.csv" in r.url):
        page.select_option(f"#coscine-scope-{pk}", "run2.csv")
    settled(page)
    own = f"#coscine-{pk}-file-{index}"
    assert page.input_value(own) == "AB-1234"
    change(page, own, "CD-5678")
    wait_until(
        lambda: (
            Target.objects.get(pk=pk).options["file_metadata"].get("run2.csv")
            == {SPECIMEN: ["CD-5678"]}
        ),
        10,
        "run2.csv's own specimen id to be saved",
    )
    assert "run2.csv (has its own metadata)" in page.inner_text(f"#coscine-scope-{pk}")
    no_overflow(page, "coscine-panel-per-file", pk)
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.click(f"#coscine-reset-metadata-{pk}")
    settled(page)


def test_ada_chooses_a_project_creates_a_resource_and_fills_the_profile_form(
    live_system: LiveSystem, page: Any, member: Any, coscine_target: Target
) -> None:
    pk = coscine_target.pk
    sign_in(page, live_system, member)
    page.goto(f"{live_system.url}/deposits/{coscine_target.deposit_id}/")

    create_resource(page, pk)
    saved = Target.objects.get(pk=pk).options
    assert saved["new_resource"]["disciplines"] == [
        "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c01",
        "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d05",
    ]
    assert saved["new_resource"]["resource_type"] == "c8e3a4f1-2b6d-4e0a-9f3c-7d1e5b2a6c40"
    assert saved["new_resource"]["display_name"] == "Tensile S355"
    assert saved["application_profile"] == MEASUREMENT

    index = specimen_index()
    fill_profile_form(page, pk, index)
    assert Target.objects.get(pk=pk).options["file_metadata"]["*"][SPECIMEN] == ["AB-1234"]

    override_one_file(page, pk, index)
    assert "run2.csv" not in Target.objects.get(pk=pk).options["file_metadata"]


def test_ada_sees_the_handle_retries_a_list_and_requests_publication(
    live_system: LiveSystem, page: Any, member: Any, coscine_target: Target
) -> None:
    pk = coscine_target.pk
    account = coscine_target.account
    Target.objects.filter(pk=pk).update(
        options={
            "project": {"id": PROJECT, "name": "MatTest26", "slug": "mattest26"},
            "resource": {"id": "c1d2", "name": "Tensile raw", "type": "rdss3"},
            "application_profile": MEASUREMENT,
        }
    )
    coscine_target.refresh_from_db()
    target = published(coscine_target)
    Lookup.objects.filter(account=account, key="publication_services").update(
        data=None, error="Coscine answered 503 Service Unavailable (trace 0HN7ABC)."
    )
    sign_in(page, live_system, member)
    page.goto(f"{live_system.url}/deposits/{target.deposit_id}/")
    handle = page.locator(f"#coscine-handle-{pk}")
    assert handle.get_attribute("href", timeout=5000).startswith("https://hdl.handle.net/21.11102/")
    assert "persistent identifier (Handle)" in page.text_content(f"#coscine-published-{pk}")
    assert "0HN7ABC" in page.inner_text(f"#coscine-{pk}")

    with page.expect_response(lambda r: r.request.method == "POST"):
        page.click(f'#coscine-{pk} [data-action="retry-lookup"]')
    settled(page)
    wait_until(
        lambda: (
            Lookup.objects.get(account=account, key="publication_services").requested_at
            or Lookup.objects.get(account=account, key="publication_services").error
        ),
        10,
        "a worker to be asked for the publication services",
    )
    fill_lookups(account, only=("publication_services",))
    Lookup.objects.filter(account=account, key="publication_services").update(requested_at=None)
    page.reload()
    page.select_option(f"#coscine-service-{pk}", ROR)
    page.fill(f"#coscine-message-{pk}", "Please publish it with a DOI from the library.")
    # (the target card's identifier badge is the deposit page's, not the panel's: a
    # Handle's badge is wider than a phone, reported to the lead)
    no_overflow(page, "coscine-panel-published", pk, whole_page=False)
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.click(f"#coscine-request-publication-{pk}")
    settled(page)
    saved = Target.objects.get(pk=pk)
    assert saved.options["publication"] == {
        "service": ROR,
        "message": "Please publish it with a DOI from the library.",
    }
    assert saved.action == "request_publication"


# What a person types is not lost when the panel is drawn again: it polls every 2 s while
# a list is still on its way from Coscine, and ada types the new resource's name meanwhile
# without leaving the field; each redraw puts back what she typed, with the cursor
# (static/js/portal.js), and leaving the field saves it.
def test_typing_survives_the_panel_being_drawn_again_while_a_list_loads(
    live_system: LiveSystem, page: Any, member: Any, coscine_target: Target
) -> None:
    pk = coscine_target.pk
    # the licences are still on their way from Coscine: the panel polls until they come
    Lookup.objects.filter(account=coscine_target.account, key="licenses").update(
        data=None, fetched_at=None, requested_at=timezone.now()
    )
    sign_in(page, live_system, member)
    page.goto(f"{live_system.url}/deposits/{coscine_target.deposit_id}/")
    change(page, f"#coscine-project-{pk}", PROJECT)
    change(page, f"#coscine-resource-{pk}", "new")
    name = f"#coscine-nr-{pk}-name"
    page.wait_for_selector(name)

    page.click(name)
    page.keyboard.type("Tensile tests")
    with page.expect_response(lambda r: r.request.method == "GET" and "coscine" in r.url):
        pass  # a poll comes and redraws the panel
    page.wait_for_timeout(300)
    page.keyboard.type(" of S355")
    with page.expect_response(lambda r: r.request.method == "GET" and "coscine" in r.url):
        pass
    page.wait_for_timeout(300)

    # (" of S355" went on at the end: the cursor stayed where it was)
    assert page.input_value(name) == "Tensile tests of S355"
    assert page.evaluate("() => document.activeElement.id") == name[1:]
    # leaving the field saves it, though the text last came back by script, not typing
    page.keyboard.press("Tab")
    wait_until(
        lambda: (
            (Target.objects.get(pk=pk).options.get("new_resource") or {}).get("name")
            == "Tensile tests of S355"
        ),
        10,
        "the name to be saved when ada leaves the field",
    )
