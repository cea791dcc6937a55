"""In a real browser at a phone's width (390 px) and a laptop's (1366 px): no page is wider
than the window and nothing sticks out of it; wide tables scroll inside their own box, so
every column and button stays reachable. Full-page screenshots of every page at both
widths go to var/screenshots/ for a person to look at."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from deposits import lifecycle
from deposits.models import Action, Deposit, LinkedAccount, Membership, State, Target, Team
from deposits.repositories.datameta.fields import Definition
from tests.factories import AccountFactory, DepositFactory, TargetFactory, add_file, record
from tests.livesystem import ROOT, LiveSystem, wait_until

pytestmark = [pytest.mark.browser]

PHONE, LAPTOP = 390, 1366
SCREENSHOTS = ROOT / "var" / "screenshots"
# The boxes a wide table may scroll sideways in; nothing else may.
SCROLL_BOXES = ".table-scroll, .sheet-wrap"

# A DataMeta site with twelve columns to fill (and one a service fills), as real sites have.
SITE_FIELDS = [
    Definition(
        name="SampleID",
        mandatory=True,
        order=100,
        site_unique=True,
        regexp="^[A-Z]{2}[0-9]{2}$",
        regex_description="Two uppercase letters followed by two digits, e.g. AB12",
        long_description="Site-wide unique sample identifier",
        example="AB12",
    ),
    Definition(
        name="ZIPCode",
        mandatory=True,
        order=200,
        regexp="^[0-9]{3}$",
        regex_description="ZIP code: exactly three digits",
        example="149",
    ),
    Definition(
        name="Date",
        order=300,
        long_description="Sampling date",
        datetime_fmt="%Y-%m-%d",
        example="2021-03-29",
    ),
    Definition(name="Lane", order=350, regexp="^L[0-9]$", example="L1"),
    Definition(
        name="Organism", order=360, long_description="NCBI taxonomy name", example="Homo sapiens"
    ),
    Definition(name="Tissue", order=370, example="whole blood"),
    Definition(
        name="Instrument",
        order=380,
        long_description="Sequencer model",
        example="Illumina NovaSeq 6000",
    ),
    Definition(name="LibraryStrategy", order=390, example="WGS"),
    Definition(name="ReadLength", order=395, regexp="^[0-9]+$", example="150"),
    Definition(
        name="FileR1",
        mandatory=True,
        order=400,
        is_file=True,
        long_description="Read 1 FASTQ",
        example="AB12_R1.fastq.gz",
    ),
    Definition(
        name="FileR2",
        order=410,
        is_file=True,
        long_description="Read 2 FASTQ",
        example="AB12_R2.fastq.gz",
    ),
    Definition(name="Comment", order=450, long_description="Anything a curator should know"),
    Definition(
        name="AccessionNumber",
        mandatory=True,
        order=500,
        service="accession-service",
        long_description="Filled in by the accession service after submission",
    ),
]
SAMPLES = ["AB12", "CD34", "EF56"]


@dataclass
class Site:
    """What the pages show: a deposit with a DataMeta sample table and a Zenodo target,
    and one published on Zenodo (DOIs, badge, citation)."""

    deposit: Deposit
    published: Deposit
    datameta: Target
    zenodo: Target


def sample_row(sample: str, number: int) -> dict[str, str]:
    return {
        "SampleID": sample,
        "ZIPCode": f"{148 + number}",
        "Date": f"2021-03-{10 + number}",
        "Lane": f"L{number}",
        "Organism": "Homo sapiens",
        "Tissue": "whole blood",
        "Instrument": "Illumina NovaSeq 6000",
        "LibraryStrategy": "WGS",
        "ReadLength": "150",
        "FileR1": f"{sample}_R1.fastq.gz",
        "FileR2": f"{sample}_R2.fastq.gz",
        "Comment": "Collected at the Lindenberg field station, morning round",
    }


def make_site(system: LiveSystem, team: Team, member: Any) -> Site:
    member.first_name, member.last_name = "Ada Augusta", "King-Noel, Countess of Lovelace"
    member.save()
    # the account form is an admin's page: this member manages the team's accounts
    Membership.objects.filter(user=member, team=team).update(role="admin")
    zenodo = AccountFactory(
        team=team,
        label="Zenodo sandbox",
        base_url=f"{system.zenodo_url}/api",
        token=system.manage("sandbox_token", "zenodo"),
    )
    datameta = AccountFactory(
        team=team,
        kind="datameta",
        label="DataMeta sandbox",
        base_url=system.datameta_url,
        schema={"definitions": [d.as_json() for d in SITE_FIELDS]},
    )
    # Its key runs out in three days: the pages warn about it.
    LinkedAccount.objects.filter(pk=datameta.pk).update(
        schema_fetched_at=timezone.now(), expires_at=timezone.now() + timedelta(days=3)
    )

    # Published to Zenodo, so the dashboard shows its DOI.
    published = DepositFactory(team=team)
    add_file(published, "lindenberg-soil-moisture-hourly-2024.csv", b"site,moisture\n" * 500)
    first = TargetFactory(deposit=published, account=zenodo)
    lifecycle.revalidate(published)
    lifecycle.request(Target.objects.get(pk=first.pk), Action.PUBLISH, user=member)

    deposit = DepositFactory(team=team)
    for sample in SAMPLES:
        for read in ("R1", "R2"):
            add_file(deposit, f"{sample}_{read}.fastq.gz", f"@{sample}\nACGT\n+\nIIII\n".encode())
    to_zenodo = TargetFactory(deposit=deposit, account=zenodo)
    target = TargetFactory(deposit=deposit, account=datameta)
    target.options = {"metadatasets": [sample_row(s, n) for n, s in enumerate(SAMPLES, 1)]}
    target.save()
    lifecycle.revalidate(deposit)
    DepositFactory(
        team=team,
        metadata=record(
            title="Groundwater nitrate at forty wells of the Havel catchment, 2019-2024"
        ),
    )
    # More than a page of them, so the dashboard shows its page links.
    for week in range(1, 25):
        DepositFactory(team=team, metadata=record(title=f"Weekly soil cores, week {week}"))

    def is_published() -> bool:
        return Target.objects.get(pk=first.pk).state == State.PUBLISHED

    wait_until(is_published, 90, "the first deposit to be published on Zenodo")
    return Site(deposit=deposit, published=published, datameta=target, zenodo=to_zenodo)


def sign_in(page: Any, system: LiveSystem, user: Any) -> None:
    page.goto(f"{system.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "secret-pass-1")
    page.click("#login-submit")
    page.wait_for_selector("#sign-out")


# Everything outside the designated scroll boxes that reaches past the window's right edge,
# and every other box that hides content sideways (a clipped column nobody can reach).
OVERFLOW_JS = """
(boxes) => {
  const width = document.documentElement.clientWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const found = [];
  for (const box of document.querySelectorAll(boxes)) {
    if (!['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) {
      found.push(`${name(box)} is a scroll box that does not scroll`);
    }
  }
  const outside = new Set();  // only the outermost element that sticks out is named
  for (const el of document.body.querySelectorAll('*')) {
    if (el.parentElement.closest(boxes)) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width <= 1 || rect.height <= 1) continue;  // not shown, or visually hidden
    if (rect.right > width + 1) {
      outside.add(el);
      if (!outside.has(el.parentElement)) found.push(`${name(el)} reaches ${Math.round(rect.right)} px`);
      continue;
    }
    const style = getComputedStyle(el);
    const clips = style.overflowX !== 'visible' && style.textOverflow !== 'ellipsis';
    if (clips && !el.matches(`${boxes}, input, select, textarea`)
        && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${name(el)} hides ${el.scrollWidth - el.clientWidth} px of its content sideways`);
    }
  }
  const page = document.documentElement.scrollWidth;
  if (page > window.innerWidth) found.unshift(`the page is ${page} px wide`);
  return found;
}
"""


def overflow(page: Any) -> list[str]:
    return list(page.evaluate(OVERFLOW_JS, SCROLL_BOXES))


def header_problems(page: Any, where: str) -> list[str]:
    """Who is signed in, and the way out, are on screen and not covered."""
    problems: list[str] = []
    if page.locator(".topbar .nav").count() == 0:  # signed out: nobody to show
        return problems
    width = page.viewport_size["width"]
    for selector in ("#user-name", "#sign-out"):
        box = page.locator(selector).bounding_box()
        if box is None or box["width"] < 20:
            problems.append(f"{where}: {selector} is not shown")
        elif box["x"] < 0 or box["x"] + box["width"] > width:
            problems.append(f"{where}: {selector} is off screen ({box})")
    return problems


def look(page: Any, name: str) -> list[str]:
    """Save the page's screenshot, and say what sticks out of it."""
    width = page.viewport_size["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    where = f"{name} at {width} px"
    return [f"{where}: {problem}" for problem in overflow(page)] + header_problems(page, where)


def preview_sheet(page: Any, site: Site, sheet: Path) -> None:
    """On the deposit page: choose a sample sheet and open its preview."""
    page.set_input_files(f"#datameta-sheet-{site.datameta.pk}", str(sheet))
    page.click(f"#datameta-preview-{site.datameta.pk}")
    page.wait_for_selector("#preview-table")


def test_every_page_fits_a_phone_and_a_laptop(
    live_system: LiveSystem, page: Any, team: Any, member: Any, tmp_path: Path
) -> None:
    site = make_site(live_system, team, member)
    rows = [sample_row(s, n) for n, s in enumerate(SAMPLES, 1)]
    rows[1]["ZIPCode"] = "15a"  # a problem to show on its cell
    sheet = tmp_path / "samples-spring-2021.csv"
    with sheet.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for width in (PHONE, LAPTOP):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_system.url}/login/")
        problems += look(page, "login")
    sign_in(page, live_system, member)
    pages = {
        "dashboard": "/",
        "dashboard-page-2": "/?page=2",
        "deposit": f"/deposits/{site.deposit.pk}/",
        "deposit-published": f"/deposits/{site.published.pk}/",
        "accounts": "/accounts/",
        "deposit-new": "/deposits/new/",
        "account-new": "/accounts/new/",
        "account-edit": f"/accounts/{site.zenodo.account_id}/edit/",
        "confirm-publish": f"/targets/{site.zenodo.pk}/publish/",
        "not-found": "/deposits/999999/",
    }
    for width in (PHONE, LAPTOP):
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in pages.items():
            page.goto(live_system.url + path)
            problems += look(page, name)
            if name == "deposit":
                columns = page.locator(f"#datameta-table-{site.datameta.pk} thead th")
                assert columns.count() == 1 + 12 + 1 + 1  # #, the fields, the service's, Remove
                preview_sheet(page, site, sheet)
                problems += look(page, "sheet-preview")
                # Its last columns, as a person sees them after scrolling the table.
                page.locator("#preview-table").evaluate("t => t.parentElement.scrollLeft = 1e6")
                page.locator("#sheet-preview").screenshot(
                    path=str(SCREENSHOTS / f"sheet-preview-scrolled-{width}.png")
                )
    assert not problems, "\n".join(problems)


def on_top(locator: Any) -> bool:
    """A click at the element's centre lands on it, not on whatever covers or clips it."""
    box = locator.bounding_box()
    if box is None:
        return False
    centre = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
    return bool(
        locator.evaluate(
            """(el, [x, y]) => { const hit = document.elementFromPoint(x, y);
                                 return hit !== null && (hit === el || el.contains(hit)); }""",
            centre,
        )
    )


def test_every_column_of_the_sample_table_is_reachable_on_a_laptop(
    live_system: LiveSystem, page: Any, team: Any, member: Any
) -> None:
    site = make_site(live_system, team, member)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, live_system, member)
    page.set_viewport_size({"width": LAPTOP, "height": 900})
    page.goto(f"{live_system.url}/deposits/{site.deposit.pk}/")
    pk = site.datameta.pk
    table = f"#datameta-table-{pk}"
    page.locator(f"#datameta-{pk}-cell-2-SampleID").scroll_into_view_if_needed()
    wider = page.locator(table).evaluate("t => t.scrollWidth > t.parentElement.clientWidth")
    assert wider, "the table fits its box: it does not test scrolling"

    # Each row's Remove is at hand next to the first columns, without scrolling sideways.
    for row in range(len(SAMPLES)):
        assert on_top(page.locator(f'{table} tr[data-row="{row}"] [data-action="remove-row"]'))
    # Every column scrolls into view, uncovered.
    for field in (d for d in SITE_FIELDS if not d.service):
        cell = page.locator(f"#datameta-{pk}-cell-0-{field.name}")
        cell.scroll_into_view_if_needed()
        assert on_top(cell), f"the {field.name} column cannot be reached"
    panel = page.locator(f"#datameta-{pk}")
    panel.screenshot(path=str(SCREENSHOTS / f"deposit-samples-scrolled-{LAPTOP}.png"))

    remove = page.locator(f'{table} tr[data-row="2"] [data-action="remove-row"]')
    remove.scroll_into_view_if_needed()
    assert on_top(remove)
    remove.click()
    page.wait_for_function(
        f"() => document.querySelectorAll('{table} tbody tr[data-row]').length === 2"
    )
    ids = page.locator(f"{table} tbody tr[data-row] td:first-of-type input")
    assert [ids.nth(i).input_value() for i in range(2)] == SAMPLES[:2]

    def stored() -> list[str]:
        target = Target.objects.get(pk=pk)
        return [row["SampleID"] for row in target.options.get("metadatasets") or []]

    wait_until(lambda: stored() == SAMPLES[:2], 10, "the row to be removed on the server")
