"""Fixtures shared by the whole suite: the embedded Redis, and the fixed cast of users."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings

from tests.factories import AccountFactory, MembershipFactory, TeamFactory, UserFactory


def pytest_sessionstart(session: pytest.Session) -> None:
    if settings.EMBEDDED_REDIS:
        from portal import embedded_redis

        proc = embedded_redis.ensure_running(settings.EMBEDDED_REDIS_SOCKET)
        if proc is not None:
            session.config._embedded_redis = proc  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session) -> None:
    proc = getattr(session.config, "_embedded_redis", None)
    if proc is not None:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def redis_client() -> Iterator[object]:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def team(db):  # type: ignore[no-untyped-def]
    return TeamFactory(name="Lab A", slug="lab-a")


@pytest.fixture
def owner(team):  # type: ignore[no-untyped-def]
    """A team admin."""
    return MembershipFactory(team=team, role="admin", user=UserFactory(username="olivia")).user


@pytest.fixture
def member(team):  # type: ignore[no-untyped-def]
    return MembershipFactory(team=team, role="member", user=UserFactory(username="ada")).user


@pytest.fixture
def curator(team):  # type: ignore[no-untyped-def]
    """Grace, a curator of the team (not staff: the admin's tests make their own)."""
    user = UserFactory(username="grace", first_name="Grace", last_name="Hopper")
    return MembershipFactory(team=team, role="curator", user=user).user


@pytest.fixture
def stranger(db):  # type: ignore[no-untyped-def]
    """Member of another team only."""
    other = TeamFactory(name="Lab B", slug="lab-b")
    return MembershipFactory(team=other, role="admin", user=UserFactory(username="eve")).user


@pytest.fixture
def zenodo_account(team):  # type: ignore[no-untyped-def]
    return AccountFactory(team=team)


# A real S3-compatible server (moto's) for the tests that need one: tests/s3.py; and
# one headless Chromium for the whole session: tests/browsing.py.
from tests.browsing import browser, page  # noqa: E402, F401
from tests.s3 import s3_endpoint, s3_server  # noqa: E402, F401
