"""In a real browser, as grace (a curator): from the review queue to Bulk actions; tick
deposits, choose an action, Preview (nothing changes), Run, read each item's result.
Approve, add a keyword and retry, and every action's parameter previewed; at a phone's
and a laptop's width nothing sticks out."""

from __future__ import annotations

from typing import Any

import pytest

from deposits import metadata as md
from deposits.lifecycle import revalidate, review
from deposits.models import Deposit, ReviewState, State, Target
from tests.browser.test_layout import look, sign_in
from tests.factories import (
    AccountFactory,
    DepositFactory,
    MembershipFactory,
    TargetFactory,
    UserFactory,
    add_file,
)
from tests.livesystem import LiveSystem

pytestmark = [pytest.mark.browser]


def deposit_with(team: Any, account: Any, author: Any, title: str) -> Deposit:
    deposit = DepositFactory(team=team, created_by=author)
    deposit.metadata = md.to_record({**md.to_view(deposit.metadata), "title": title})
    deposit.save()
    add_file(deposit, "data.csv", b"site,moisture\nlindenberg,0.31\n")
    TargetFactory(deposit=deposit, account=account)
    revalidate(deposit)
    return deposit


def fits(page: Any, name: str) -> None:
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        assert look(page, name) == []
    page.set_viewport_size({"width": 1280, "height": 900})


def tick(page: Any, *deposits: Deposit) -> None:
    ticked = page.locator("#bulk-form input[name=ids]:checked")
    while ticked.count():
        ticked.first.uncheck()
    for deposit in deposits:
        page.check(f"#pick-{deposit.pk}")


def preview(page: Any, action: str, **fields: str) -> None:
    page.select_option("#bulk-action-select", action)
    for selector, value in fields.items():
        page.fill(f"#{selector}", value)
    page.click("#bulk-preview-button")
    page.wait_for_selector("#bulk-preview")


def run(page: Any) -> None:
    page.click("#bulk-run")
    page.wait_for_selector("#bulk-results")


def status(page: Any, key: str) -> str:
    return str(page.get_attribute(f"#bulk-results tr[data-item='{key}']", "data-status"))


def cast(team: Any, member: Any, system: LiveSystem) -> tuple[Any, list[Deposit]]:
    """grace; two of ada's deposits awaiting review, one plain, one whose target failed."""
    grace = MembershipFactory(team=team, role="curator", user=UserFactory(username="grace")).user
    token = system.manage("sandbox_token", "zenodo")
    account = AccountFactory(
        team=team, label="Zenodo sandbox", base_url=f"{system.zenodo_url}/api", token=token
    )
    team.review_required = True
    team.save()
    titles = ("Soil moisture at Lindenberg", "Soil moisture at Falkenberg", "River temperature")
    deposits = [deposit_with(team, account, member, title) for title in titles]
    for deposit in deposits[:2]:
        review.submit(deposit, user=member)
    broken = deposit_with(team, account, member, "Air pressure")
    Target.objects.filter(deposit=broken).update(
        state=State.FAILED, last_error="Zenodo answered 503"
    )
    return grace, [*deposits, broken]


def preview_the_others(page: Any, deposit: Deposit) -> None:
    """Every other action's parameter, previewed only: nothing changes."""
    tick(page, deposit)
    preview(page, "return", **{"bulk-reason": "Add the site's coordinates."})
    assert "Not awaiting review" in page.inner_text("#bulk-preview")
    preview(page, "community", **{"bulk-community": "ecfunded"})
    preview(
        page,
        "grant",
        **{"bulk-funder-doi": "10.13039/501100000780", "bulk-funder-name": "", "bulk-award": "1"},
    )
    assert "European Commission 1" in page.inner_text("#bulk-preview")
    preview(page, "discard", **{"bulk-days": "30"})
    preview(page, "reverify")
    assert "Only an admin of" in page.inner_text("#bulk-preview")
    fits(page, "bulk-reverify")
    deposit.refresh_from_db()
    assert md.to_view(deposit.metadata).get("funding") is None
    assert deposit.targets.get().options == {}


def test_grace_approves_adds_a_keyword_and_retries_in_bulk(
    live_system: LiveSystem, page: Any, team: Any, member: Any
) -> None:
    grace, (first, second, plain, broken) = cast(team, member, live_system)
    sign_in(page, live_system, grace)
    page.goto(f"{live_system.url}/review/")
    page.click("#bulk-actions-link")
    page.wait_for_selector("#bulk-form")
    assert page.locator("#bulk-show").input_value() == "awaiting"
    assert page.locator(f"#pick-{plain.pk}").count() == 0
    fits(page, "bulk-choose")

    # Approve both: the preview changes nothing, Run approves each.
    tick(page, first, second)
    preview(page, "approve")
    assert page.locator("#bulk-preview tr[data-will='1']").count() == 2
    assert all(d.reviews.get().state == ReviewState.OPEN for d in (first, second))
    fits(page, "bulk-preview")
    run(page)
    assert status(page, f"deposit:{first.pk}") == "done"
    assert status(page, f"deposit:{second.pk}") == "done"
    assert "2 done · 0 skipped · 0 failed" in page.inner_text("#bulk-counts")
    assert all(d.reviews.get().state == ReviewState.APPROVED for d in (first, second))
    fits(page, "bulk-results")

    # A keyword to two others (all deposits listed now).
    page.select_option("#bulk-show", "")
    page.click("#bulk-filter")
    page.wait_for_selector(f"#pick-{plain.pk}")
    tick(page, plain, broken)
    preview(page, "keyword", **{"bulk-keyword": "lindenberg-2024"})
    assert page.locator("#bulk-preview tr[data-will='1']").count() == 2
    plain.refresh_from_db()
    assert "lindenberg-2024" not in md.keywords(plain.metadata)
    run(page)
    assert status(page, f"deposit:{plain.pk}") == "done"
    for deposit in (plain, broken):
        deposit.refresh_from_db()
        assert "lindenberg-2024" in md.keywords(deposit.metadata)

    # Retry the failed target, found with the filter.
    page.select_option("#bulk-show", "failed")
    page.click("#bulk-filter")
    page.wait_for_selector(f"#pick-{broken.pk}")
    assert page.locator(f"#pick-{first.pk}").count() == 0  # chosen ones stay listed
    tick(page, broken)
    preview(page, "retry")
    target = broken.targets.get()
    row = f"#bulk-preview tr[data-item='target:{target.pk}']"
    assert "Zenodo answered 503" in page.inner_text(row)
    target.refresh_from_db()
    assert target.state == State.FAILED
    run(page)
    assert status(page, f"target:{target.pk}") == "done"
    assert target.events.filter(kind="state", from_state=State.FAILED, actor=grace).exists()
    fits(page, "bulk-retry")

    preview_the_others(page, broken)
