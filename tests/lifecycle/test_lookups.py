"""The lookups cache (``lifecycle.lookups`` on the page side, ``lifecycle.fetching`` on
the worker side) with the Coscine connector answering through ``responses``: a page
never calls Coscine, a missing or stale key asks a worker once, a held token asks
nothing, and a profile that changed on Coscine re-validates the deposits using it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
import responses
from django.utils import timezone

from deposits import lifecycle
from deposits.models import ApiCall, LinkedAccount, Lookup, State, Target
from deposits.repositories import registry
from deposits.repositories.base import FileJob, Problem
from deposits.repositories.coscine.connector import CoscineConnector
from tests.factories import AccountFactory, DepositFactory, TargetFactory

pytestmark = pytest.mark.django_db

SITE = "https://coscine.example.org/coscine"
API = f"{SITE}/api/v2"
PROFILE = "https://purl.org/coscine/ap/base/"
OTHER = "https://purl.org/coscine/ap/other/"
KEY = f"profile:{PROFILE}"
STRICT = "# strict"  # a profile whose text says this gets the test connector's problem


def envelope(data: Any, trace: str = "trace-1", *, paged: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"data": data, "isSuccess": True, "statusCode": 200, "traceId": trace}
    if paged:
        body["pagination"] = {"currentPage": 1, "totalPages": 1, "hasNext": False}
    return body


class ProfileChecking(CoscineConnector):
    """Coscine's lookups as they are; its validation reduced to what these tests need:
    a problem while the profile is not cached, another when its text says STRICT."""

    def validate(  # type: ignore[override]
        self, metadata: Any, options: dict[str, Any], files: list[FileJob], schema: Any
    ) -> list[Problem]:
        profile = (schema.get("lookups") or {}).get(f"profile:{options['application_profile']}")
        if profile is None:
            return [Problem("options.application_profile", "The profile is being fetched.")]
        if STRICT in profile["turtle"]:
            return [Problem("options.file_metadata.*.title", "Title is required.")]
        return []


@pytest.fixture
def coscine(monkeypatch: pytest.MonkeyPatch, settings: Any) -> ProfileChecking:
    settings.ALLOWED_REPOSITORY_HOSTS = ["coscine.example.org"]
    connector = ProfileChecking()
    monkeypatch.setattr(registry, "get", lambda kind: connector)
    return connector


@pytest.fixture
def account(team: Any, coscine: ProfileChecking) -> LinkedAccount:
    linked: Any = AccountFactory(team=team, kind="coscine", label="RWTH Coscine", base_url=SITE)
    return linked


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[Any]]]:
    """The tasks handed to the broker, instead of a broker."""
    calls: list[tuple[str, list[Any]]] = []
    from celery import current_app

    monkeypatch.setattr(
        current_app,
        "send_task",
        lambda name, args=None, kwargs=None, **options: calls.append((name, list(args or []))),
    )
    return calls


def page_reads(account: LinkedAccount, key: str, capture: Any) -> lifecycle.Cached:
    """What a page reading ``key`` sees (its request's transaction committed)."""
    with capture(execute=True):
        return lifecycle.cached(account, key)


def serve_licenses(trace: str = "trace-lic") -> None:
    licences = [
        {"id": "l1", "displayName": "CC BY 4.0", "url": "https://spdx.org/licenses/CC-BY-4.0"}
    ]
    responses.get(f"{API}/licenses", json=envelope(licences, trace, paged=True))


def serve_profile(turtle: str) -> None:
    dto = {
        "uri": PROFILE,
        "displayName": "Base",
        "definition": {"content": turtle, "type": "text/turtle"},
    }
    responses.get(
        f"{API}/application-profiles/profiles/{quote(PROFILE, safe='')}", json=envelope(dto)
    )


# --------------------------------------------------------------------------- page side


@responses.activate
def test_a_missing_lookup_asks_a_worker_once(
    account: LinkedAccount, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    first = page_reads(account, "licenses", django_capture_on_commit_callbacks)
    again = page_reads(account, "licenses", django_capture_on_commit_callbacks)
    assert (first.ready, first.pending) == (False, True)
    assert (again.ready, again.pending) == (False, True)
    assert sent == [("deposits.tasks.fetch_lookup", [account.pk, "licenses"])]
    assert len(responses.calls) == 0  # pages never call Coscine themselves


@responses.activate
def test_the_worker_fetches_it_through_the_account_and_the_page_then_has_it(
    account: LinkedAccount, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    page_reads(account, "licenses", django_capture_on_commit_callbacks)
    serve_licenses()
    lifecycle.fetch_lookup_now(account.pk, "licenses")
    shown = page_reads(account, "licenses", django_capture_on_commit_callbacks)
    assert shown.ready and not shown.pending and shown.error == ""
    assert shown.data == [
        {"id": "l1", "name": "CC BY 4.0", "url": "https://spdx.org/licenses/CC-BY-4.0"}
    ]
    assert len(sent) == 1  # fresh: not asked again
    call = ApiCall.objects.get(account=account)
    assert (call.status, call.trace_id) == (200, "trace-lic")


@responses.activate
def test_a_stale_lookup_is_shown_and_asked_for_again(
    account: LinkedAccount, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    serve_licenses()
    lifecycle.fetch_lookup_now(account.pk, "licenses")
    Lookup.objects.filter(account=account, key="licenses").update(
        fetched_at=timezone.now() - timedelta(hours=25)
    )
    shown = page_reads(account, "licenses", django_capture_on_commit_callbacks)
    assert shown.ready and shown.pending  # the old copy meanwhile
    assert sent == [("deposits.tasks.fetch_lookup", [account.pk, "licenses"])]


@responses.activate
def test_projects_go_stale_after_five_minutes_but_licences_do_not(
    account: LinkedAccount, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    for key in ("projects", "licenses"):
        Lookup.objects.create(
            account=account, key=key, data=[], fetched_at=timezone.now() - timedelta(minutes=6)
        )
        page_reads(account, key, django_capture_on_commit_callbacks)
    assert sent == [("deposits.tasks.fetch_lookup", [account.pk, "projects"])]


@responses.activate
def test_a_held_token_asks_nothing_and_says_why(
    account: LinkedAccount, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    LinkedAccount.objects.filter(pk=account.pk).update(held_since=timezone.now())
    page_reads(account, "licenses", django_capture_on_commit_callbacks)
    polled = page_reads(account, "licenses", django_capture_on_commit_callbacks)
    assert sent == [] and not polled.pending
    assert "Coscine refused this token" in polled.error
    assert lifecycle.fetch_lookup_now(account.pk, "licenses") is False
    assert len(responses.calls) == 0


def test_the_first_read_of_a_held_token_s_lookup_says_why(
    account: LinkedAccount, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    LinkedAccount.objects.filter(pk=account.pk).update(held_since=timezone.now())
    shown = page_reads(account, "licenses", django_capture_on_commit_callbacks)
    assert "Coscine refused this token" in shown.error


@responses.activate
def test_a_refused_token_during_a_fetch_holds_the_account(
    account: LinkedAccount, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    responses.get(f"{API}/licenses", status=401, json={"title": "Unauthorized", "traceId": "t-401"})
    lifecycle.fetch_lookup_now(account.pk, "licenses")
    account.refresh_from_db()
    assert account.held_since is not None
    row = Lookup.objects.get(account=account, key="licenses")
    assert "refused the API token" in row.error and row.error.endswith("Coscine trace id: t-401")
    page_reads(account, "profiles", django_capture_on_commit_callbacks)
    assert sent == []


@responses.activate
def test_a_failed_fetch_keeps_the_old_copy_and_says_why(
    account: LinkedAccount, django_capture_on_commit_callbacks: Any, sent: list[Any]
) -> None:
    serve_licenses()
    lifecycle.fetch_lookup_now(account.pk, "licenses")
    responses.replace(
        responses.GET,
        f"{API}/licenses",
        status=503,
        json={"title": "Unavailable", "traceId": "t-503"},
    )
    lifecycle.fetch_lookup_now(account.pk, "licenses")
    shown = page_reads(account, "licenses", django_capture_on_commit_callbacks)
    assert shown.data and shown.data[0]["id"] == "l1"
    assert "unavailable (503" in shown.error and shown.error.endswith("Coscine trace id: t-503")


# --------------------------------------------------------------------------- validation


def coscine_target(account: LinkedAccount, profile: str) -> Target:
    deposit: Any = DepositFactory(team=account.team)
    target: Any = TargetFactory(
        deposit=deposit, account=account, options={"application_profile": profile}
    )
    return target


@responses.activate
def test_the_profile_reaches_validation_and_a_change_revalidates_its_users(
    account: LinkedAccount, sent: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    using = coscine_target(account, PROFILE)
    other = coscine_target(account, OTHER)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.revalidate(using.deposit)
        lifecycle.revalidate(other.deposit)
    using.refresh_from_db()
    assert using.state == State.DRAFT
    assert [p["message"] for p in using.problems] == ["The profile is being fetched."]
    assert ("deposits.tasks.fetch_lookup", [account.pk, KEY]) in sent

    serve_profile(f"<{PROFILE}> a <http://www.w3.org/ns/shacl#NodeShape> .\n")
    lifecycle.fetch_lookup_now(account.pk, KEY)  # first fetch: its users are validated
    using.refresh_from_db()
    assert (using.state, using.problems) == (State.READY, [])

    # the same profile again changes nothing
    assert lifecycle.fetch_lookup_now(account.pk, KEY) is False

    # edited on Coscine: the deposit using it is validated again, the other one is not
    other_problems = Target.objects.get(pk=other.pk).problems
    responses.replace(
        responses.GET,
        f"{API}/application-profiles/profiles/{quote(PROFILE, safe='')}",
        json=envelope(
            {
                "uri": PROFILE,
                "definition": {
                    "content": f"{STRICT}\n<{PROFILE}> a <http://www.w3.org/ns/shacl#NodeShape> .\n"
                },
            }
        ),
    )
    assert lifecycle.fetch_lookup_now(account.pk, KEY) is True
    using.refresh_from_db()
    assert using.state == State.DRAFT
    assert [p["message"] for p in using.problems] == ["Title is required."]
    assert Target.objects.get(pk=other.pk).problems == other_problems


@responses.activate
def test_schema_for_hands_the_cached_profile_to_validation(account: LinkedAccount) -> None:
    target = coscine_target(account, PROFILE)
    serve_profile(f"<{PROFILE}> a <http://www.w3.org/ns/shacl#NodeShape> .\n")
    lifecycle.fetch_lookup_now(account.pk, KEY)
    schema = lifecycle.schema_for(target)
    assert schema["lookups"][KEY]["uri"] == PROFILE
    assert set(schema["lookups"][KEY]) == {"uri", "turtle", "vocabularies", "imports"}


@responses.activate
def test_a_rate_limited_fetch_is_asked_again_later_and_stays_pending(
    account: LinkedAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Coscine's 429 is no error to show: the worker asks again once the budget allows
    (its Retry-After), and the page keeps saying the list is on its way meanwhile."""
    from celery import current_app

    later: list[dict[str, Any]] = []
    monkeypatch.setattr(
        current_app,
        "send_task",
        lambda name, args=None, kwargs=None, **options: later.append(
            {"name": name, "args": list(args or []), **options}
        ),
    )
    responses.get(
        f"{API}/licenses",
        status=429,
        headers={"Retry-After": "7"},
        json={"title": "Too Many Requests", "traceId": "t-429"},
    )
    assert lifecycle.fetch_lookup_now(account.pk, "licenses") is False
    (again,) = later
    assert again["name"] == "deposits.tasks.fetch_lookup"
    assert again["args"] == [account.pk, "licenses"]
    assert again["countdown"] == pytest.approx(7, abs=1)
    shown = lifecycle.cached(account, "licenses", fetch=False)
    assert shown.pending and not shown.error and shown.data is None
