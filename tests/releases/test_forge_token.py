"""A source's forge token: checked against the forge ("whose is it?"), marked "Relink
needed" when the forge refuses it, and the team's admins told once, not at every run."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import responses

from deposits.models import Notification, ReleaseSource
from deposits.releases import listing
from tests.factories import MembershipFactory, ReleaseSourceFactory, UserFactory

TOKEN = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
USER = "https://api.github.com/user"
RELEASES = "https://api.github.com/repos/lab/analysis/releases"
BAD = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}


@pytest.fixture
def source(team: Any, owner: Any, member: Any) -> ReleaseSource:
    source = ReleaseSourceFactory(deposit__team=team, repository="lab/analysis")
    source.set_token(TOKEN)
    source.save()
    return source


def notifications() -> list[tuple[str, str]]:
    return list(
        Notification.objects.filter(kind="forge_token").values_list("user__username", "message")
    )


@responses.activate
def test_a_working_token_is_ok_with_its_login(source: ReleaseSource) -> None:
    responses.get(USER, json={"login": "octocat", "id": 1})
    listing.check_token(source.pk)
    source.refresh_from_db()
    assert (source.token_status, source.token_identity) == ("ok", "octocat")
    assert source.token_checked_at is not None
    assert source.token_error == ""
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


@responses.activate
def test_gitlab_a_token_is_checked_with_private_token(db: Any) -> None:
    source = ReleaseSourceFactory(forge="gitlab", api_url="https://gitlab.com/api/v4")
    source.set_token("glpat-abcdef")
    source.save()
    responses.get("https://gitlab.com/api/v4/user", json={"username": "ada", "id": 5})
    listing.check_token(source.pk)
    source.refresh_from_db()
    assert (source.token_status, source.token_identity) == ("ok", "ada")
    assert responses.calls[0].request.headers["PRIVATE-TOKEN"] == "glpat-abcdef"


@responses.activate
def test_a_refused_token_needs_relinking_and_the_admins_are_told_once(
    source: ReleaseSource, team: Any, caplog: pytest.LogCaptureFixture
) -> None:
    second_admin = MembershipFactory(
        team=team, role="admin", user=UserFactory(username="ines")
    ).user
    responses.get(USER, status=401, json=BAD)
    caplog.set_level(logging.DEBUG)
    listing.check_token(source.pk)
    source.refresh_from_db()
    assert source.token_status == "failing"
    assert source.needs_relink
    assert source.get_token_status_display() == "Relink needed"
    assert source.token_error == (
        "401 Bad credentials: the forge no longer accepts this token; "
        "paste a new one on the release source."
    )
    told = notifications()
    assert sorted(name for name, _ in told) == sorted(["olivia", second_admin.username])
    assert "Bad credentials" in told[0][1]
    # still failing: nobody is told again
    listing.check_token(source.pk)
    assert len(notifications()) == 2
    for text in [source.token_error, caplog.text, *(m for _, m in told)]:
        assert TOKEN not in text


@responses.activate
def test_a_token_refused_at_the_listing_needs_relinking_too(source: ReleaseSource) -> None:
    source.baseline_at = source.created
    source.save()
    responses.get(RELEASES, status=401, json=BAD)
    listing.list_source(source.pk)
    source.refresh_from_db()
    assert source.token_status == "failing"
    assert "Bad credentials" in source.list_error
    assert [name for name, _ in notifications()] == ["olivia"]  # the admin, not ada
    # after one refusal the token is not sent again until a person acts
    assert listing.list_source(source.pk) == 0
    assert len(responses.calls) == 1
    source.refresh_from_db()
    assert "new token" in source.list_error
    assert len(notifications()) == 1


@responses.activate
def test_a_token_that_works_again_clears_the_relink(source: ReleaseSource) -> None:
    responses.get(USER, status=401, json=BAD)
    listing.check_token(source.pk)
    responses.replace(responses.GET, USER, json={"login": "octocat"})
    listing.check_token(source.pk)
    source.refresh_from_db()
    assert (source.token_status, source.token_error) == ("ok", "")


@responses.activate
def test_a_forge_that_is_down_does_not_fail_the_token(source: ReleaseSource) -> None:
    responses.get(USER, status=503, json={"message": "Unavailable"})
    listing.check_token(source.pk)
    source.refresh_from_db()
    assert source.token_status == "unverified"
    assert "could not be checked" in source.token_error
    assert notifications() == []


def test_a_source_without_token_is_not_checked(db: Any) -> None:
    source = ReleaseSourceFactory()
    with responses.RequestsMock() as mocked:
        listing.check_token(source.pk)
        assert len(mocked.calls) == 0
    source.refresh_from_db()
    assert source.token_status == ""
