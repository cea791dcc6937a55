"""In a real browser against the live system (the forge sandbox, real workers): olivia, an
admin, links a GitHub repository of the forge sandbox to a deposit, pastes nothing (the
demo's own ``link_forge`` sets the webhook up there, as the demo does), and sees the ping,
the deliveries of a published release and the release itself appear; she checks the
token, lists now, replays a release that existed before linking, rotates the secret,
edits, sets the team's release policy and deletes. Ada, a member, sees no management
buttons. Every page at 390 and 1366 px."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from deposits.models import Event, Release, ReleaseSource, Team
from portal.demo import FORGE_FILES, link_forge
from tests.browser.test_layout import look
from tests.browser.test_zenodo_versions import sign_in, text
from tests.factories import DepositFactory, ReleaseSourceFactory
from tests.livesystem import LiveSystem, purge_queues, wait_until

pytestmark = [pytest.mark.browser]

WIDTHS = (390, 1366)
REPO = "lab/soil-scripts"
TOKEN = "ghp_sandbox-token-olivia"


@pytest.fixture
def live_system(transactional_db: None, tmp_path: Path) -> Iterator[LiveSystem]:
    """The live system, its portal knowing its own address (the endpoint URL it shows)."""
    purge_queues()
    system = LiveSystem(tmp_path)
    system.env["PORTAL_BASE_URL"] = system.url
    try:
        system.start_web()
        wait_until(lambda: system._answers(f"{forge(system)}/"), 60, "the forge sandbox")
        system.start_worker()
        yield system
    finally:
        system.stop()
        purge_queues()


def forge(system: LiveSystem) -> str:
    return system.sandbox_urls["forge"]


def control(system: LiveSystem, what: str, data: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(f"{forge(system)}/_control/{what}", json=data, timeout=30)
    assert response.status_code < 300, response.text
    reply: dict[str, Any] = response.json()
    return reply


def looks_right(page: Any, name: str) -> None:
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        problems += look(page, name)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert problems == []


def until_row(page: Any, selector: str, timeout: float = 30_000) -> None:
    """The source page's activity refreshes itself: wait for a row to arrive."""
    page.wait_for_selector(selector, timeout=timeout)


def link_in_the_browser(page: Any, system: LiveSystem, team: Team, deposit: Any) -> tuple[str, str]:
    page.goto(f"{system.url}/accounts/")
    page.click(f"#release-sources-{team.pk}")
    page.wait_for_selector("#sources")
    looks_right(page, "release-sources-empty")
    page.click("#new-source")
    page.select_option("#id_deposit", str(deposit.pk))
    page.select_option("#id_forge", "github")
    page.fill("#id_repository", "lab/not a name")
    page.fill("#id_api_url", forge(system))
    page.fill("#id_token", TOKEN)
    page.click("#save-source")
    assert "is not a GitHub repository name" in text(page, "#error-repository")
    looks_right(page, "release-source-form-error")
    page.fill("#id_repository", REPO)
    page.fill("#id_token", TOKEN)  # a password field is never filled in again
    page.check("#id_missed_1")  # a missed release is flagged, for Replay
    page.click("#save-source")
    page.wait_for_selector("#webhook-secret")
    assert "Let me select individual events" in text(page, "#hook-steps")
    looks_right(page, "release-source-secret")
    endpoint, secret = text(page, "#endpoint-url"), text(page, "#webhook-secret")
    assert copied(page, "#copy-endpoint") == endpoint
    assert copied(page, "#copy-secret") == secret
    return endpoint, secret


def copied(page: Any, button: str) -> str:
    """Press a Copy button: what the clipboard holds then."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("() => navigator.clipboard.writeText('')")
    page.click(button)
    page.wait_for_function("() => navigator.clipboard.readText().then(t => t !== '')")
    return str(page.evaluate("() => navigator.clipboard.readText()"))


def test_olivia_links_a_repository_and_sees_its_releases_arrive(
    live_system: LiveSystem, page: Any, team: Team, owner: Any, member: Any
) -> None:
    system = live_system
    deposit = DepositFactory(team=team)
    # On the forge: the repository, with a release from before the link, and a token.
    control(system, "repos", {"forge": "github", "path": REPO, "files": FORGE_FILES})
    control(system, "releases", {"forge": "github", "path": REPO, "tag": "v1.0", "deliver": False})
    control(system, "tokens", {"forge": "github", "token": TOKEN, "login": "olivia"})

    sign_in(page, system, owner)
    endpoint, secret = link_in_the_browser(page, system, team, deposit)
    source = ReleaseSource.objects.get()
    assert endpoint == f"{system.url}/hooks/releases/{source.key}/" and source.secret == secret
    page.click("#done-secret")
    page.wait_for_selector("#source-settings")
    assert secret not in page.content()
    assert copied(page, "#copy-endpoint") == endpoint

    # The first listing records v1.0 as known (not imported).
    until_row(page, '[data-release="v1.0"][data-release-status="known"]')
    # The webhook on the forge (as the demo sets it up): GitHub pings it at once.
    link_forge(forge(system), REPO, endpoint, secret)
    until_row(page, '[data-outcome="ping"]')
    # A release published on the forge: its three events, one release.
    control(system, "releases", {"forge": "github", "path": REPO, "tag": "v1.1", "deliver": True})
    until_row(page, '[data-release="v1.1"]')
    wait_until(lambda: page.locator('[data-outcome="duplicate"]').count() >= 1, 30, "duplicates")
    assert Release.objects.filter(tag="v1.1").count() == 1
    looks_right(page, "release-source")

    check_list_and_replay(page)
    follow_the_links(page, system, source, deposit)
    rotate_and_edit(page, secret)
    set_the_policy_and_delete(page, system, team, endpoint)


def check_list_and_replay(page: Any) -> None:
    page.click("#check-token")
    assert "Checking the token" in text(page, "#messages")
    wait_until(
        lambda: ReleaseSource.objects.get().token_status == "ok", 30, "the token to be checked"
    )
    page.reload()
    page.wait_for_selector('#source-settings [data-token-status="ok"]')
    page.click("#list-now")
    assert "Listing the releases" in text(page, "#messages")

    # Replay the release that existed before the link.
    known = Release.objects.get(tag="v1.0")
    page.click(f"#replay-{known.pk}")
    page.wait_for_selector("#release-outcome")
    assert "Importing v1.0 now" in text(page, "#messages")
    assert Release.objects.get(pk=known.pk).found_by == "replay"
    looks_right(page, "release-page")


def follow_the_links(page: Any, system: LiveSystem, source: ReleaseSource, deposit: Any) -> None:
    # The release that came by webhook: its page, from its tag.
    page.goto(f"{system.url}/releases/{source.pk}/")
    page.click('[data-release="v1.1"] [data-link="release"]')
    page.wait_for_selector("#release-preview")
    assert "v1.1" in text(page, "#release-title")
    page.click('[data-link="deposit"]')
    page.wait_for_selector("#release-sources")
    assert f"GitHub {REPO}" in text(page, "#release-sources")
    looks_right(page, "deposit-release-section")
    page.click("#link-release-source")
    page.wait_for_selector("#source-form")
    assert page.input_value("#id_deposit") == str(deposit.pk)
    page.click("#cancel-source")
    page.wait_for_selector("#sources")
    page.goto(f"{system.url}/deposits/{deposit.pk}/")
    page.click('#release-sources [data-link="release-source"]')
    page.wait_for_selector("#source-settings")


def rotate_and_edit(page: Any, secret: str) -> None:
    # Rotate the secret: asked first, then the new one once.
    page.click("#rotate-secret")
    page.click("#confirm-action")
    page.wait_for_selector("#webhook-secret")
    assert text(page, "#webhook-secret") not in (secret, "")
    assert ReleaseSource.objects.get().secret == text(page, "#webhook-secret")
    page.click("#done-secret")

    # Edit: import pre-releases too.
    page.click("#edit-source")
    page.check("#id_include_prereleases")
    page.click("#save-source")
    page.wait_for_selector("#source-settings")
    assert "Saved GitHub" in text(page, "#messages")
    assert ReleaseSource.objects.get().include_prereleases
    assert not Event.objects.filter(message__contains=secret).exists()


def set_the_policy_and_delete(page: Any, system: LiveSystem, team: Team, endpoint: str) -> None:
    # The team's release policy.
    page.goto(f"{system.url}/teams/{team.pk}/policy/")
    page.check("#id_release_publish_1")
    page.click("#save-policy")
    page.wait_for_selector("#policy-history")
    assert "releases from linked code forges" in text(page, "#policy-history")
    looks_right(page, "team-policy-releases")
    page.click("#policy-release-sources")
    page.wait_for_selector("#sources")
    looks_right(page, "release-sources")

    # Delete, asked first.
    page.click('[data-link="source"]')
    page.click("#delete-source")
    page.click("#confirm-action")
    page.wait_for_selector("#sources")
    assert "Deleted the release source" in text(page, "#messages")
    assert not ReleaseSource.objects.exists()
    assert requests.post(endpoint, data=b"{}", timeout=10).status_code == 404


def test_ada_sees_the_sources_without_the_admins_buttons(
    live_system: LiveSystem, page: Any, team: Team, owner: Any, member: Any
) -> None:
    deposit = DepositFactory(team=team)
    source = ReleaseSourceFactory(deposit=deposit, repository=REPO, api_url=forge(live_system))
    Release.objects.create(source=source, release_id="1", tag="v0.1", status="flagged")
    sign_in(page, live_system, member)
    page.goto(f"{live_system.url}/accounts/")
    looks_right(page, "accounts-webhook-links")
    page.click(f"#subscriptions-{team.pk}")
    page.wait_for_url(f"**/teams/{team.pk}/webhooks/")
    page.go_back()
    page.click(f"#release-sources-{team.pk}")
    page.wait_for_selector("#sources")
    assert page.locator("#new-source").count() == 0
    page.click('[data-link="source"]')
    page.wait_for_selector("#source-settings")
    for control_id in ("check-token", "list-now", "rotate-secret", "edit-source", "delete-source"):
        assert page.locator(f"#{control_id}").count() == 0
    assert page.locator('[data-action="replay"]').count() == 0
    assert "Only an admin of Lab A" in text(page, "[data-role-note]")
    looks_right(page, "release-source-member")
    page.goto(f"{live_system.url}/deposits/{deposit.pk}/")
    page.wait_for_selector("#release-sources")
    assert page.locator("#link-release-source").count() == 0
