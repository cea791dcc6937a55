"""Release sources in the portal: an admin links a repository (its secret shown once, on
that page only), changes, rotates, lists, checks, replays and deletes; a member sees
everything but the secret and is told who to ask; another team's sources are not found."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deposits.models import Event, Release, ReleaseSource, Team
from deposits.releases import jobs
from tests.factories import DepositFactory, ReleaseSourceFactory
from tests.views.conftest import signed_in

pytestmark = pytest.mark.django_db

NEW = {
    "forge": "github",
    "repository": "octo-lab/analysis-scripts",
    "api_url": "",
    "token": "",
    "missed": "import",
}


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """What was handed to the workers (jobs.* are the boundary: the tasks have tests)."""
    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(jobs, "_send", lambda task, arg, priority: sent.append((task, arg)))
    return sent


@pytest.fixture
def source(deposit: Any) -> ReleaseSource:
    return ReleaseSourceFactory(deposit=deposit, repository="lab/scripts")


def field_error(body: str, name: str) -> str:
    """The text shown in the error slot next to form field ``name``."""
    match = re.search(rf'<div class="field-error" id="error-{name}"[^>]*>(.*?)</div>', body, re.S)
    assert match, f"no error slot for {name}"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))


def link(client: Client, team: Team, **data: Any) -> Any:
    return client.post(reverse("release-source-new", args=[team.pk]), {**NEW, **data})


def test_an_admin_links_a_source_and_sees_the_secret_once(
    owner_client: Client, team: Team, deposit: Any, asked: list[tuple[str, int]]
) -> None:
    page = owner_client.get(reverse("release-source-new", args=[team.pk]))
    assert page.status_code == 200 and 'type="password"' in page.content.decode()
    response = link(owner_client, team, deposit=deposit.pk, token="ghp_private-token-1234")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    source = ReleaseSource.objects.get()
    secret = source.secret
    body = response.content.decode()
    assert len(secret) >= 40 and secret in body
    assert source.api_url == "https://api.github.com" and source.deposit == deposit
    assert source.token == "ghp_private-token-1234" and source.token_status == "unverified"
    assert "/hooks/releases/" + source.key + "/" in body
    assert "Let me select individual events" in body and "application/json" in body
    assert ("list_source_releases", source.pk) in asked
    assert ("check_forge_token", source.pk) in asked
    # never again: not on its page, the team's list, the deposit page or the audit trail
    for url in [
        reverse("release-source", args=[source.pk]),
        reverse("release-sources", args=[team.pk]),
        reverse("release-sources", args=[team.pk]) + f"?deposit={deposit.pk}",
        reverse("deposit", args=[deposit.pk]),
        reverse("release-source-edit", args=[source.pk]),
    ]:
        later = owner_client.get(url).content.decode()
        assert secret not in later and "ghp_private-token-1234" not in later
    events = Event.objects.filter(deposit=deposit, kind="release_source")
    assert [e.message for e in events] == [
        "Linked GitHub octo-lab/analysis-scripts as a release source (with a forge token)"
    ]
    assert all(secret not in str(e.data) + e.message for e in Event.objects.all())


def test_gitlab_steps_and_a_subgroup_path(owner_client: Client, team: Team, deposit: Any) -> None:
    response = link(
        owner_client, team, deposit=deposit.pk, forge="gitlab", repository="lab/tools/scripts"
    )
    body = response.content.decode()
    assert "Secret token" in body and "Releases events" in body
    assert ReleaseSource.objects.get().api_url == "https://gitlab.com/api/v4"


@pytest.mark.parametrize(
    "case",
    [
        ({"repository": "just-a-name"}, "repository", "is not a GitHub repository name"),
        ({"repository": "owner/na me"}, "repository", "is not a GitHub repository name"),
        ({"forge": "gitlab", "repository": "project"}, "repository", "not a GitLab project"),
        ({"api_url": "https://forge.evil.example/api"}, "api_url", "not an allowed code forge"),
        ({"api_url": "ftp://api.github.com"}, "api_url", "must be an http(s) address"),
    ],
)
def test_settings_it_cannot_take_are_refused_next_to_their_field(
    owner_client: Client, team: Team, deposit: Any, case: tuple[dict[str, str], str, str]
) -> None:
    data, field, words = case
    response = link(owner_client, team, deposit=deposit.pk, **data)
    assert response.status_code == 200
    assert words in field_error(response.content.decode(), field)
    assert not ReleaseSource.objects.exists()


def test_a_deposit_of_another_team_cannot_be_linked(
    owner_client: Client, team: Team, stranger: Any
) -> None:
    theirs = DepositFactory(team=Team.objects.get(slug="lab-b"))
    response = link(owner_client, team, deposit=theirs.pk)
    assert "not one of Lab A's" in field_error(response.content.decode(), "deposit")
    assert not ReleaseSource.objects.exists()


def test_the_same_repository_twice_is_refused(
    owner_client: Client, team: Team, deposit: Any, source: ReleaseSource
) -> None:
    response = link(owner_client, team, deposit=deposit.pk, repository="lab/scripts")
    assert "already a release source" in field_error(response.content.decode(), "repository")
    assert ReleaseSource.objects.count() == 1


def changing_requests(source: ReleaseSource, team: Team) -> list[tuple[str, str, dict[str, Any]]]:
    release = Release.objects.create(source=source, release_id="99", tag="v0.99", status="known")
    return [
        ("get", reverse("release-source-new", args=[team.pk]), {}),
        ("post", reverse("release-source-new", args=[team.pk]), NEW),
        ("get", reverse("release-source-edit", args=[source.pk]), {}),
        ("post", reverse("release-source-edit", args=[source.pk]), {**NEW, "enabled": "on"}),
        ("get", reverse("release-source-secret", args=[source.pk]), {}),
        ("post", reverse("release-source-secret", args=[source.pk]), {"confirmed": "1"}),
        ("get", reverse("release-source-delete", args=[source.pk]), {}),
        ("post", reverse("release-source-delete", args=[source.pk]), {"confirmed": "1"}),
        ("post", reverse("release-source-list", args=[source.pk]), {}),
        ("post", reverse("release-source-check", args=[source.pk]), {}),
        ("post", reverse("release-replay", args=[release.pk]), {}),
    ]


def test_a_member_may_change_nothing_and_is_told_who_to_ask(
    member_client: Client, owner: Any, team: Team, source: ReleaseSource, asked: list[Any]
) -> None:
    source.set_token("a-forge-token")
    source.save()
    before = (source.secret, source.repository, source.token)
    for method, url, data in changing_requests(source, team):
        response = getattr(member_client, method)(url, data)
        assert response.status_code == 403, url
        body = response.content.decode()
        assert "Only an admin of Lab A can" in body and "Ask an admin (olivia)" in body, url
    source.refresh_from_db()
    assert (source.secret, source.repository, source.token) == before
    assert set(Release.objects.values_list("status", flat=True)) == {"known"}
    assert asked == []
    assert not Event.objects.filter(kind="release_source").exists()


def test_a_member_sees_the_source_without_the_admins_buttons(
    member_client: Client, team: Team, source: ReleaseSource
) -> None:
    Release.objects.create(source=source, release_id="9", tag="v0.9", status="flagged")
    page = member_client.get(reverse("release-source", args=[source.pk])).content.decode()
    assert "lab/scripts" in page and "v0.9" in page and "/hooks/releases/" in page
    for control in ["list-now", "rotate-secret", "edit-source", "delete-source", "replay-"]:
        assert f'id="{control}' not in page
    assert "Only an admin of Lab A can change this source" in page
    listing = member_client.get(reverse("release-sources", args=[team.pk])).content.decode()
    assert "lab/scripts" in listing and 'id="new-source"' not in listing


def test_another_teams_sources_are_not_found(
    stranger_client: Client, team: Team, source: ReleaseSource
) -> None:
    release = Release.objects.create(source=source, release_id="9", tag="v0.9", status="known")
    urls = [
        ("get", reverse("release-sources", args=[team.pk])),
        ("get", reverse("release-source", args=[source.pk])),
        ("get", reverse("release", args=[release.pk])),
    ] + [(m, u) for m, u, _ in changing_requests(source, team)]
    for method, url in urls:
        assert getattr(stranger_client, method)(url, {}).status_code == 404, url
    assert ReleaseSource.objects.filter(pk=source.pk).exists()


def edit(client: Client, source: ReleaseSource, **data: Any) -> Any:
    form = {
        "deposit": source.deposit_id,
        "forge": source.forge,
        "repository": source.repository,
        "api_url": source.api_url,
        "token": "",
        "missed": source.missed,
        "enabled": "on",
    }
    return client.post(reverse("release-source-edit", args=[source.pk]), {**form, **data})


def test_a_new_api_url_needs_the_token_again(
    owner_client: Client, source: ReleaseSource, settings: Any, asked: list[Any]
) -> None:
    settings.ALLOWED_FORGE_HOSTS = [*settings.ALLOWED_FORGE_HOSTS, "github.example.org"]
    source.set_token("the-old-token")
    source.save()
    moved = edit(owner_client, source, api_url="https://github.example.org/api/v3")
    assert "needs the token again" in field_error(moved.content.decode(), "token")
    source.refresh_from_db()
    assert source.api_url == "https://api.github.com" and source.token == "the-old-token"

    done = edit(
        owner_client, source, api_url="https://github.example.org/api/v3", token="the-new-token"
    )
    assert done.status_code == 302
    source.refresh_from_db()
    assert source.api_url == "https://github.example.org/api/v3"
    assert source.token == "the-new-token" and source.token_status == "unverified"
    assert ("check_forge_token", source.pk) in asked
    event = Event.objects.get(kind="release_source")
    assert "API URL" in event.message and "the-new-token" not in str(event.data) + event.message


def test_pointing_at_another_repository_takes_its_releases_as_they_are(
    owner_client: Client, source: ReleaseSource, asked: list[Any]
) -> None:
    from django.utils import timezone

    ReleaseSource.objects.filter(pk=source.pk).update(baseline_at=timezone.now())
    assert edit(owner_client, source, repository="lab/other-scripts").status_code == 302
    source.refresh_from_db()
    # the first listing of the new repository records its releases as known, imports none
    assert source.repository == "lab/other-scripts" and source.baseline_at is None
    assert ("list_source_releases", source.pk) in asked


def test_rotating_the_secret_shows_the_new_one_once(
    owner_client: Client, source: ReleaseSource
) -> None:
    old = source.secret
    ask = owner_client.get(reverse("release-source-secret", args=[source.pk])).content.decode()
    assert "stops working at once" in ask
    source.refresh_from_db()
    assert source.secret == old  # asking changes nothing
    response = owner_client.post(
        reverse("release-source-secret", args=[source.pk]), {"confirmed": "1"}
    )
    source.refresh_from_db()
    assert source.secret != old and source.secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    later = owner_client.get(reverse("release-source", args=[source.pk])).content.decode()
    assert source.secret not in later and old not in later
    assert Event.objects.get(kind="release_source").message.endswith("new webhook secret")


def test_list_now_and_check_token(
    owner_client: Client, source: ReleaseSource, asked: list[Any]
) -> None:
    response = owner_client.post(reverse("release-source-check", args=[source.pk]), follow=True)
    assert "has no forge token to check" in response.content.decode()
    assert asked == []
    owner_client.post(reverse("release-source-list", args=[source.pk]))
    assert asked == [("list_source_releases", source.pk)]
    source.set_token("a-forge-token")
    source.save()
    owner_client.post(reverse("release-source-check", args=[source.pk]))
    assert asked[-1] == ("check_forge_token", source.pk)


def test_deleting_a_source_asks_first(
    owner_client: Client, team: Team, source: ReleaseSource
) -> None:
    ask = owner_client.get(reverse("release-source-delete", args=[source.pk]))
    assert "answers 404 from now on" in ask.content.decode()
    assert ReleaseSource.objects.exists()
    done = owner_client.post(reverse("release-source-delete", args=[source.pk]), {"confirmed": "1"})
    assert done.status_code == 302 and done["Location"] == reverse(
        "release-sources", args=[team.pk]
    )
    assert not ReleaseSource.objects.exists()
    assert Event.objects.get(kind="release_source").message.startswith(
        "Unlinked GitHub lab/scripts"
    )


@pytest.mark.parametrize(
    "status",
    ["received", "importing", "waiting", "prepared", "publishing", "in_review", "published"],
)
def test_replay_is_refused_while_under_way_or_once_a_version(
    owner_client: Client, source: ReleaseSource, status: str, asked: list[Any]
) -> None:
    release = Release.objects.create(source=source, release_id="7", tag="v0.7", status=status)
    page = owner_client.get(reverse("release-source", args=[source.pk])).content.decode()
    assert f'id="replay-{release.pk}"' not in page
    response = owner_client.post(reverse("release-replay", args=[release.pk]), follow=True)
    assert "only a known, flagged, ignored or failed release can be imported" in (
        response.content.decode()
    )
    release.refresh_from_db()
    assert release.status == status and asked == []


@pytest.mark.parametrize("status", ["known", "flagged", "ignored", "failed"])
def test_replay_imports_a_release_that_was_not(
    owner_client: Client, owner: Any, source: ReleaseSource, status: str, asked: list[Any]
) -> None:
    release = Release.objects.create(source=source, release_id="7", tag="v0.7", status=status)
    page = owner_client.get(reverse("release-source", args=[source.pk])).content.decode()
    assert f'id="replay-{release.pk}"' in page
    response = owner_client.post(reverse("release-replay", args=[release.pk]), follow=True)
    assert "Importing v0.7 now" in response.content.decode()
    release.refresh_from_db()
    assert (release.status, release.found_by, release.requested_by) == ("received", "replay", owner)
    assert ("import_release", release.pk) in asked


def test_the_release_page_shows_the_preview_problems_and_archive(
    member_client: Client, source: ReleaseSource
) -> None:
    release = Release.objects.create(
        source=source,
        release_id="12",
        tag="v1.2",
        status="prepared",
        message="Version v1.2 prepared: publish it from the deposit's page.",
        html_url="javascript:alert(1)",
        problems=[{"field": "license", "message": "“MIT-ish” is not a license id."}],
        archive_name="lab-scripts-v1.2.zip",
        archive_size=2048,
        archive_sha256="ab" * 32,
        changes={
            "fields": [{"path": "version", "label": "Version", "before": "1.1", "after": "v1.2"}],
            "files": [{"name": "lab-scripts-v1.2.zip", "change": "added"}],
            "version_before": "1.1",
            "version_after": "v1.2",
        },
    )
    page = member_client.get(reverse("release", args=[release.pk])).content.decode()
    assert "Version v1.2 prepared" in page and "“MIT-ish” is not a license id." in page
    assert 'data-change="version"' in page and "1.1" in page
    assert 'data-file-change="lab-scripts-v1.2.zip"' in page and "ab" * 32 in page
    assert "javascript:" not in page  # a forge's link that is not http(s) is not a link
    assert reverse("deposit", args=[source.deposit_id]) in page


def test_the_deposit_page_says_where_its_releases_come_from(
    owner_client: Client, member_client: Client, team: Team, deposit: Any, source: ReleaseSource
) -> None:
    Release.objects.create(source=source, release_id="12", tag="v1.2", status="published")
    url = reverse("release-sources", args=[team.pk]) + f"?deposit={deposit.pk}"
    page = owner_client.get(reverse("deposit", args=[deposit.pk])).content.decode()
    assert f'hx-get="{url}"' in page
    section = owner_client.get(url).content.decode()
    assert re.search(r"Releases from\s*<a[^>]*>GitHub lab/scripts</a>: last release", section)
    assert "v1.2</a> published" in section and 'id="link-release-source"' in section
    member = member_client.get(url).content.decode()
    assert "GitHub lab/scripts" in member and 'id="link-release-source"' not in member


def test_the_accounts_page_links_each_teams_release_sources(
    member_client: Client, team: Team
) -> None:
    page = member_client.get(reverse("accounts")).content.decode()
    assert f'href="{reverse("release-sources", args=[team.pk])}"' in page


def test_the_team_policy_says_what_a_release_becomes(
    owner_client: Client, member: Any, team: Team
) -> None:
    url = reverse("team-policy", args=[team.pk])
    assert "Releases from linked code forges" in owner_client.get(url).content.decode()
    owner_client.post(url, {"release_publish": "prepare"})
    team.refresh_from_db()
    assert team.release_publish == "prepare"
    event = Event.objects.get(kind="policy")
    assert "releases from linked code forges: Prepare the new version" in event.message
    refused = owner_client.post(url, {"release_publish": "whenever"})
    assert "Select a valid choice" in refused.content.decode()
    assert signed_in(member).post(url, {"release_publish": "publish"}).status_code == 403
    team.refresh_from_db()
    assert team.release_publish == "prepare"
