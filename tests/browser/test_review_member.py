"""In a real browser, the member's side of review (issue 10): ada submits a deposit whose
repository needs a curator's approval, writes in its thread, sees a curator's return and
approval arrive without reloading (the curator acts through the lifecycle here: their own
pages have their own test), withdraws and resubmits; olivia, an admin, sets the team's
review policy and an account's rule. Every control at 390 and 1366 px."""

from __future__ import annotations

from typing import Any

import pytest

from deposits.lifecycle import review
from deposits.models import Event, LinkedAccount, Team
from tests.browser.test_layout import look
from tests.browser.test_zenodo_versions import published_deposit, sign_in, text
from tests.factories import MembershipFactory, UserFactory
from tests.livesystem import LiveSystem, wait_until

pytestmark = [pytest.mark.browser]

WIDTHS = (390, 1366)


def looks_right(page: Any, name: str) -> None:
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        problems += look(page, name)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert problems == []


def status(page: Any, value: str) -> None:
    page.wait_for_selector(f'#review-panel[data-review-status="{value}"]', timeout=30_000)


def send_a_message(page: Any) -> None:
    """Send message: shown as text, never run."""
    page.fill("#thread-body", "<script>window.__ran = 1</script> Is CC-BY fine?")
    page.click("#send-message")
    page.wait_for_function(
        "() => document.querySelector('#thread-entries').innerText.includes('Is CC-BY fine?')"
    )
    assert "<script>window.__ran = 1</script>" in text(page, "#thread-entries")
    assert page.evaluate("window.__ran === undefined")
    assert page.input_value("#thread-body") == ""


def test_ada_submits_talks_withdraws_and_sees_the_answers_live(
    live_system: LiveSystem, page: Any, team: Team, member: Any, owner: Any
) -> None:
    Team.objects.filter(pk=team.pk).update(review_required=True)
    grace = MembershipFactory(team=team, role="curator", user=UserFactory(username="grace")).user
    target = published_deposit(live_system, team)  # ready, not published yet
    deposit, pk = target.deposit, target.pk

    sign_in(page, live_system, member)
    page.goto(f"{live_system.url}/deposits/{deposit.pk}/")
    assert "Not submitted for review yet" in text(page, "#review-state")
    assert "Needs a curator's approval" in text(page, f"#needs-approval-{pk}")
    assert page.locator(f"#publish-{pk}").count() == 0
    looks_right(page, "review-not-submitted")

    # Submit for review, with a message: the card waits, the description is locked.
    page.fill("#review-message", "Please check the licence.")
    page.click("#review-submit")
    status(page, "open")
    page.wait_for_selector(f'#target-{pk}[data-state="awaiting_review"]')
    page.wait_for_selector("#metadata-locked")
    assert "To change anything while it waits, withdraw the request; submit again when done." in (
        text(page, "#review-state")
    )
    assert "Please check the licence." in text(page, "#thread-entries")

    send_a_message(page)
    looks_right(page, "review-awaiting")

    # A curator writes, then returns it elsewhere: both arrive without a reload, and what
    # ada is typing stays.
    page.evaluate("window.__notReloaded = true")
    page.fill("#thread-body", "half-written")
    review.add_comment(deposit, user=grace, body="Looking at it now.")
    page.wait_for_function(
        "() => document.querySelector('#thread-entries').innerText.includes('Looking at it now.')"
    )
    assert page.input_value("#thread-body") == "half-written"
    review.return_to_author(deposit, user=grace, reason="Add the funder (DFG), please.")
    status(page, "returned")
    assert "Add the funder (DFG), please." in text(page, "#review-returned")
    page.wait_for_selector(f'#target-{pk}[data-state="ready"]')
    assert page.locator("#metadata-locked").count() == 0
    assert page.evaluate("window.__notReloaded === true"), "the page reloaded"
    looks_right(page, "review-returned")

    # Submit again, then Withdraw request: editable again, submit again when done.
    page.click("#review-submit")
    status(page, "open")
    page.click("#review-withdraw")
    status(page, "withdrawn")
    page.wait_for_selector(f'#target-{pk}[data-state="ready"]')
    assert page.locator("#metadata-locked").count() == 0
    assert "Submit for review again" in text(page, "#review-submit")

    # Submitted once more and approved elsewhere: the DOI appears without a reload.
    page.click("#review-submit")
    status(page, "open")
    review.approve(deposit, user=grace, message="Thanks, all good.")
    status(page, "approved")
    doi = page.wait_for_selector('[data-identifier="doi-version"]', timeout=90_000)
    assert doi.inner_text().startswith("10.5072/")
    assert page.evaluate("window.__notReloaded === true"), "the page reloaded"
    assert "Thanks, all good." in text(page, "#review-approved")
    looks_right(page, "review-approved")


def test_olivia_sets_the_review_policy_and_an_accounts_rule(
    live_system: LiveSystem, page: Any, team: Team, owner: Any, zenodo_account: Any
) -> None:
    sign_in(page, live_system, owner)
    page.goto(f"{live_system.url}/accounts/")
    assert "As the team's policy says" in text(page, f"#account-{zenodo_account.pk}")
    page.click(f"#team-policy-{team.pk}")
    page.wait_for_selector("#policy-form")
    looks_right(page, "team-policy")

    page.check("#id_review_required")
    page.check("#id_members_review")
    page.click("#save-policy")
    page.wait_for_selector("#messages .message-success")
    assert "Saved the review policy of Lab A." in text(page, "#messages")
    assert page.is_checked("#id_review_required") and not page.is_checked("#id_self_approval")
    assert "members may review: yes" in text(page, "#policy-history")
    team.refresh_from_db()
    assert team.review_required and team.members_review and not team.self_approval
    assert Event.objects.filter(team=team, kind="policy").count() == 1

    # The account's own rule, on its form.
    page.goto(f"{live_system.url}/accounts/")
    page.click(f"#account-{zenodo_account.pk} [data-action=edit-account]")
    page.wait_for_selector("#account-form")
    page.select_option("#id_review", "not_required")
    looks_right(page, "account-review-rule")
    page.click("#save-account")
    page.wait_for_selector(f"#account-{zenodo_account.pk}")
    assert "Never needs approval" in text(page, f"#account-{zenodo_account.pk}")
    wait_until(
        lambda: LinkedAccount.objects.get(pk=zenodo_account.pk).review == "not_required",
        10,
        "the rule saved",
    )
    looks_right(page, "accounts-with-review-rule")
