"""The periodic listing of a source's releases through the forge's API: the releases no
webhook brought are found (imported, or flagged by policy), the ones that existed at
linking are only recorded, and what goes wrong is said on the source.

The forge's API is stood in for by ``responses``, its replies shaped as GitHub's and
GitLab's (and as the forge sandbox serves them)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import responses
from django.utils import timezone

from deposits.models import Release, ReleaseFoundBy, ReleaseSource
from deposits.releases import listing
from deposits.releases.forges import ReleaseInfo
from deposits.releases.inbound import record_release
from tests.factories import ReleaseSourceFactory
from tests.releases import test_signatures as signed
from tests.releases.test_signatures import github_release

sent = signed.sent
API = "https://api.github.com/repos/lab/analysis/releases"


@pytest.fixture
def source(db: Any) -> ReleaseSource:
    return ReleaseSourceFactory(repository="lab/analysis")


@pytest.fixture
def listed(source: ReleaseSource) -> ReleaseSource:
    """A source whose first listing (the baseline) is done."""
    source.baseline_at = timezone.now()
    source.save()
    return source


def imports(sent: list[tuple[str, list[Any]]]) -> list[int]:
    return [args[0] for name, args in sent if name == "deposits.tasks.import_release"]


def run(source: ReleaseSource, capture: Any) -> int:
    with capture(execute=True):
        found = listing.list_source(source.pk)
    source.refresh_from_db()
    return found


@responses.activate
def test_the_first_listing_records_existing_releases_as_known(
    source: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    responses.get(API, json=[github_release(2, "v2.0"), github_release(1, "v1.0")])
    assert run(source, django_capture_on_commit_callbacks) == 0
    statuses = dict(Release.objects.filter(source=source).values_list("tag", "status"))
    assert statuses == {"v2.0": "known", "v1.0": "known"}
    assert set(Release.objects.values_list("found_by", flat=True)) == {"baseline"}
    assert source.baseline_at is not None
    assert source.listed_at is not None
    assert source.list_error == ""
    assert imports(sent) == []


@responses.activate
def test_a_release_published_after_linking_is_missed_at_the_first_listing(
    source: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    after = (source.created + timedelta(seconds=5)).isoformat()
    responses.get(
        API, json=[github_release(2, "v2.0", published_at=after), github_release(1, "v1.0")]
    )
    assert run(source, django_capture_on_commit_callbacks) == 1
    release = Release.objects.get(source=source, tag="v2.0")
    assert (release.status, release.found_by) == ("received", "listing")
    assert imports(sent) == [release.pk]


@responses.activate
def test_a_release_no_webhook_brought_is_found_and_imported(
    listed: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        record_release(listed, _info(1, "v1.0"), found_by=ReleaseFoundBy.WEBHOOK)
    sent.clear()
    responses.get(API, json=[github_release(2, "v2.0"), github_release(1, "v1.0")])
    assert run(listed, django_capture_on_commit_callbacks) == 1
    missed = Release.objects.get(source=listed, tag="v2.0")
    assert (missed.status, missed.found_by) == ("received", "listing")
    assert "periodic listing" in missed.message
    assert imports(sent) == [missed.pk]
    assert Release.objects.get(source=listed, tag="v1.0").found_by == "webhook"
    # the next listing finds nothing new
    assert run(listed, django_capture_on_commit_callbacks) == 0
    assert len(imports(sent)) == 1


@responses.activate
def test_a_missed_release_is_flagged_when_the_policy_says_so(
    listed: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    listed.missed = "flag"
    listed.save()
    responses.get(API, json=[github_release(2, "v2.0")])
    assert run(listed, django_capture_on_commit_callbacks) == 1
    release = Release.objects.get(source=listed)
    assert release.status == "flagged"
    assert "Replay" in release.message
    assert imports(sent) == []


@responses.activate
def test_a_missed_prerelease_is_recorded_ignored(
    listed: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    responses.get(API, json=[github_release(3, "v3.0-rc1", prerelease=True)])
    assert run(listed, django_capture_on_commit_callbacks) == 0
    assert Release.objects.get(source=listed).status == "ignored"
    assert imports(sent) == []


@responses.activate
def test_the_listing_follows_githubs_next_links(
    listed: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    page2 = f"{API}?per_page=100&page=2"
    responses.get(
        API,
        json=[github_release(3, "v3.0")],
        headers={"Link": f'<{page2}>; rel="next", <{page2}>; rel="last"'},
        match=[responses.matchers.query_param_matcher({"per_page": "100"})],
    )
    responses.get(
        API,
        json=[github_release(2, "v2.0")],
        match=[responses.matchers.query_param_matcher({"per_page": "100", "page": "2"})],
    )
    assert run(listed, django_capture_on_commit_callbacks) == 2
    assert set(Release.objects.values_list("tag", flat=True)) == {"v3.0", "v2.0"}


@responses.activate
def test_a_next_link_to_another_site_is_not_followed(
    listed: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    elsewhere = "https://codeload.github.com/steal?page=2"
    responses.get(
        API, json=[github_release(3, "v3.0")], headers={"Link": f'<{elsewhere}>; rel="next"'}
    )
    assert run(listed, django_capture_on_commit_callbacks) == 0
    assert "another site" in listed.list_error
    assert len(responses.calls) == 1
    assert not Release.objects.exists()


@responses.activate
def test_gitlab_listing_pages_by_x_next_page_with_the_private_token(
    db: Any, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    source = ReleaseSourceFactory(
        forge="gitlab",
        repository="group/sub/project",
        api_url="https://gitlab.com/api/v4",
        baseline_at=timezone.now(),
    )
    source.set_token("glpat-secret-token-1")
    source.save()
    url = "https://gitlab.com/api/v4/projects/group%2Fsub%2Fproject/releases"
    first = _gitlab_release("v2.0")
    responses.get(
        url,
        json=[first],
        headers={"X-Next-Page": "2", "X-Total-Pages": "2"},
        match=[responses.matchers.query_param_matcher({"per_page": "100"})],
    )
    responses.get(
        url,
        json=[_gitlab_release("v1.0")],
        headers={"X-Next-Page": ""},
        match=[responses.matchers.query_param_matcher({"per_page": "100", "page": "2"})],
    )
    assert run(source, django_capture_on_commit_callbacks) == 2
    release = Release.objects.get(source=source, tag="v2.0")
    assert release.release_id == "v2.0"
    assert release.archive_url == first["assets"]["sources"][0]["url"]
    assert release.html_url == first["_links"]["self"]
    assert all(
        c.request.headers["PRIVATE-TOKEN"] == "glpat-secret-token-1" for c in responses.calls
    )
    assert all("Authorization" not in c.request.headers for c in responses.calls)


@responses.activate
def test_without_a_token_the_listing_sends_no_credential(
    listed: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    responses.get(API, json=[])
    run(listed, django_capture_on_commit_callbacks)
    assert listed.list_error == ""
    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate
def test_with_a_token_the_listing_sends_it_as_bearer(
    listed: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    listed.set_token("ghp_listingtoken123")
    listed.save()
    responses.get(API, json=[])
    run(listed, django_capture_on_commit_callbacks)
    assert responses.calls[0].request.headers["Authorization"] == "Bearer ghp_listingtoken123"


@responses.activate
def test_a_forge_host_not_on_the_allowlist_is_never_contacted(
    db: Any, settings: Any, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    settings.ALLOWED_FORGE_HOSTS = ["api.github.com"]
    source = ReleaseSourceFactory(api_url="https://github.evil.example/api/v3", repository="lab/x")
    source.set_token("ghp_not_for_them")
    source.save()
    responses.get(re.compile(r"https://github\.evil\.example/.*"), json=[])
    assert run(source, django_capture_on_commit_callbacks) == 0
    assert "ALLOWED_FORGE_HOSTS" in source.list_error
    assert len(responses.calls) == 0


@responses.activate
def test_a_rate_limited_listing_says_so(
    listed: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    responses.get(
        API,
        status=403,
        json={
            "message": "API rate limit exceeded for 203.0.113.7.",
            "documentation_url": "https://docs.github.com/rest",
        },
    )
    assert run(listed, django_capture_on_commit_callbacks) == 0
    assert "rate limit" in listed.list_error
    assert "tries again" in listed.list_error
    assert listed.token_status == ""  # not a token problem


@responses.activate
def test_a_forge_that_is_down_is_said_and_changes_nothing(
    listed: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    responses.get(API, status=502, body="<html>Bad gateway</html>", content_type="text/html")
    assert run(listed, django_capture_on_commit_callbacks) == 0
    assert "502" in listed.list_error
    assert "next run" in listed.list_error
    assert listed.listed_at is not None
    assert not Release.objects.exists()


@responses.activate
def test_an_unknown_repository_says_what_to_check(
    listed: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    responses.get(API, status=404, json={"message": "Not Found"})
    run(listed, django_capture_on_commit_callbacks)
    assert listed.list_error.startswith("404 Not Found")
    assert "repository" in listed.list_error


@responses.activate
def test_a_listing_error_is_cleared_by_the_next_good_listing(
    listed: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    responses.get(API, status=503, json={"message": "Service unavailable"})
    run(listed, django_capture_on_commit_callbacks)
    assert listed.list_error
    responses.replace(responses.GET, API, json=[])
    run(listed, django_capture_on_commit_callbacks)
    assert listed.list_error == ""


def test_list_all_queues_each_enabled_source(
    db: Any, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    on = [ReleaseSourceFactory(), ReleaseSourceFactory()]
    ReleaseSourceFactory(enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert listing.list_all() == 2
    assert sorted(
        args[0] for name, args in sent if name == "deposits.tasks.list_source_releases"
    ) == sorted(s.pk for s in on)


def _info(number: int, tag: str) -> ReleaseInfo:
    return ReleaseInfo(
        release_id=str(number),
        tag=tag,
        name=tag,
        draft=False,
        prerelease=False,
        archive_url=f"https://api.github.com/repos/lab/analysis/zipball/{tag}",
        html_url=f"https://github.com/lab/analysis/releases/tag/{tag}",
        released_at=None,
    )


def _gitlab_release(tag: str) -> dict[str, Any]:
    base = "https://gitlab.com/group/sub/project"
    return {
        "tag_name": tag,
        "name": f"Release {tag}",
        "description": "Notes",
        "created_at": "2026-11-01T10:00:00.000Z",
        "released_at": "2026-11-01T10:00:00.000Z",
        "upcoming_release": False,
        "author": {"username": "ada"},
        "_links": {"self": f"{base}/-/releases/{tag}"},
        "assets": {
            "count": 2,
            "sources": [
                {"format": "zip", "url": f"{base}/-/archive/{tag}/project-{tag}.zip"},
                {"format": "tar.gz", "url": f"{base}/-/archive/{tag}/project-{tag}.tar.gz"},
            ],
            "links": [],
        },
    }


@responses.activate
def test_a_redirect_to_a_host_off_the_allowlist_is_refused_naming_the_forge_list(
    listed: ReleaseSource, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    responses.get(API, status=302, headers={"Location": "https://mirror.evil.example/releases"})
    assert run(listed, django_capture_on_commit_callbacks) == 0
    assert "not in ALLOWED_FORGE_HOSTS" in listed.list_error
    assert len(responses.calls) == 1  # the redirect was not followed
