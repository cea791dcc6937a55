"""In two real browsers, ada (a member) and grace (a curator) of a team whose policy needs
review: ada submits her deposit, grace returns it with a reason, ada reads the reason,
fixes it and submits again, grace approves, and a worker publishes it to the Zenodo
sandbox: the DOI appears on ada's page without a reload. Each of them sees their
notification count rise as the other acts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from deposits import lifecycle
from deposits.models import Deposit, ReviewRequest, Target
from tests.browser.test_layout import LAPTOP, PHONE, look
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

REASON = "Add the ORCID iD of the second creator, Grace Hopper."
ORCID = "0000-0002-1694-233X"


def sign_in(page: Any, system: LiveSystem, user: Any) -> None:
    page.goto(f"{system.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "secret-pass-1")
    page.click("#login-submit")
    page.wait_for_selector("#sign-out")


def unread(page: Any) -> int:
    return int(page.get_attribute("#notification-count", "data-unread") or 0)


def wait_for_more(page: Any, before: int, timeout: int = 45_000) -> int:
    """The bell's count rises past ``before`` (it refreshes itself; no reload here)."""
    page.wait_for_function(
        "(n) => Number(document.querySelector('#notification-count')?.dataset.unread) > n",
        arg=before,
        timeout=timeout,
    )
    return unread(page)


@pytest.fixture
def grace_page(browser: Any) -> Iterator[Any]:
    """A second person's browser: its own cookies, the same CSP watch as ``page``."""
    context = browser.new_context(viewport={"width": LAPTOP, "height": 900})
    context.set_default_timeout(20_000)
    pg = context.new_page()
    refused: list[str] = []
    pg.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    yield pg
    assert not refused, f"the Content-Security-Policy refused: {refused}"
    context.close()


def ada_deposit(system: LiveSystem, team: Any, ada: Any) -> Deposit:
    token = system.manage("sandbox_token", "zenodo")
    account = AccountFactory(
        team=team, label="Zenodo sandbox", base_url=f"{system.zenodo_url}/api", token=token
    )
    deposit = DepositFactory(team=team, created_by=ada)
    add_file(deposit, "moisture.csv", b"site,moisture\nlindenberg,0.31\n" * 100)
    TargetFactory(deposit=deposit, account=account)
    lifecycle.revalidate(deposit)
    assert deposit.targets.get().state == "ready"
    return deposit


@dataclass
class People:
    """The two browsers, and each one's unread count as last seen."""

    system: LiveSystem
    deposit: Deposit
    ada: Any
    grace: Any
    ada_count: int = 0
    grace_count: int = 0

    def review_url(self) -> str:
        return f"{self.system.url}/review/{self.deposit.pk}/"


def _layout(people: People, name: str) -> list[str]:
    """The queue and the review page on a phone and a laptop: what sticks out."""
    curator, problems = people.grace, []
    for width in (PHONE, LAPTOP):
        curator.set_viewport_size({"width": width, "height": 900})
        curator.goto(f"{people.system.url}/review/")
        problems += look(curator, f"review-queue{name}")
        curator.goto(people.review_url())
        problems += look(curator, f"review-page{name}")
    return problems


def _ada_submits(people: People) -> None:
    ada = people.ada
    ada.fill("#review-message", "Ready for a look.")
    ada.click("#review-submit")
    ada.wait_for_selector("#review-awaiting")
    people.grace_count = wait_for_more(people.grace, people.grace_count)


def _grace_returns_it(people: People) -> None:
    """From her queue to the review page: a message, a refused return, a return."""
    curator, deposit = people.grace, people.deposit
    curator.goto(f"{people.system.url}/")
    assert curator.inner_text("#review-queue-link") == "Review queue (1)"
    curator.click("#review-queue-link")
    row = curator.locator(f'tr[data-deposit="{deposit.pk}"]')
    assert "ada" in row.inner_text() and "Zenodo sandbox: Ready" in row.inner_text()
    row.locator('a[data-link="review"]').click()
    curator.wait_for_selector("#decision")
    assert "Ready for a look." in curator.inner_text("#thread")
    curator.fill("#comment-body", "Looking at it now.")
    curator.click("#send-comment")
    curator.wait_for_selector("#thread >> text=Looking at it now.")
    curator.click("#return")  # no reason yet: refused, nothing changes
    assert "Write why you return it" in curator.inner_text("#return-error")
    assert ReviewRequest.objects.get(deposit=deposit).state == "open"
    curator.fill("#return-reason", REASON)
    curator.click("#return")
    curator.wait_for_selector("#review-queue")
    assert "Returned" in curator.inner_text("#messages")


def _ada_fixes_and_submits_again(people: People) -> None:
    """She reads the reason (her page watches the request), adds the ORCID through the
    page's form and submits again."""
    ada = people.ada
    ada.wait_for_selector(f"#review-reason >> text={REASON}", timeout=45_000)
    people.ada_count = wait_for_more(ada, people.ada_count)
    ada.fill("#id_creators-1-orcid", ORCID)
    ada.wait_for_selector("#save-status.saved", timeout=15_000)
    # the editor's save refreshes the readiness part only: the panel keeps its form
    ada.wait_for_selector("#review-panel #review-submit-form #review-submit:not([disabled])")
    ada.click("#review-submit")
    ada.wait_for_selector("#review-awaiting")
    people.grace_count = wait_for_more(people.grace, people.grace_count)


def _grace_approves(people: People) -> None:
    curator = people.grace
    curator.goto(people.review_url())
    assert ORCID in curator.inner_text("#review-metadata")
    curator.click("#edit-metadata")  # the curator's way to the validated form
    curator.wait_for_selector("#metadata-form")
    curator.go_back()
    curator.fill("#approve-message", "Thank you, approved.")
    curator.click("#approve")
    curator.wait_for_selector("#review-queue")
    assert "Approved" in curator.inner_text("#messages")
    assert curator.inner_text("#review-queue-link") == "Review queue (0)"
    decided = curator.locator("#recently-decided tbody tr")
    assert [row.get_attribute("data-state") for row in decided.all()] == ["approved", "returned"]
    assert "Thank you, approved." in decided.first.inner_text()


def test_ada_and_grace_take_a_deposit_through_review_to_its_doi(
    live_system: LiveSystem, page: Any, grace_page: Any, team: Any, member: Any
) -> None:
    team.review_required = True
    team.save()
    grace = MembershipFactory(
        team=team,
        role="curator",
        user=UserFactory(username="grace", first_name="Grace", last_name="Hopper"),
    ).user
    deposit = ada_deposit(live_system, team, member)
    people = People(live_system, deposit, ada=page, grace=grace_page)

    sign_in(people.grace, live_system, grace)
    assert people.grace.inner_text("#review-queue-link") == "Review queue (0)"
    people.grace_count = unread(people.grace)
    sign_in(people.ada, live_system, member)
    assert people.ada.locator("#review-queue-link").count() == 0  # a member does not review
    people.ada.goto(f"{live_system.url}/deposits/{deposit.pk}/")
    people.ada_count = unread(people.ada)

    people.ada.evaluate("window.__notReloaded = true")  # ada's page is loaded once
    _ada_submits(people)
    problems = _layout(people, "")
    _grace_returns_it(people)
    _ada_fixes_and_submits_again(people)
    _grace_approves(people)

    # on ada's page, never reloaded since she opened it: the DOI, and her count rose again
    doi = people.ada.wait_for_selector('[data-identifier="doi-version"]', timeout=90_000)
    assert doi.inner_text().startswith("10.5072/")
    assert people.ada.evaluate("window.__notReloaded === true"), "the page reloaded"
    wait_for_more(people.ada, people.ada_count)
    target = Target.objects.get(deposit=deposit)
    assert target.state == "published"
    assert target.identifiers.get(scope="version").value == doi.inner_text()
    states = ReviewRequest.objects.filter(deposit=deposit).values_list("state", flat=True)
    assert list(states) == ["returned", "approved"]
    problems += _layout(people, "-decided")
    assert not problems, "\n".join(problems)
