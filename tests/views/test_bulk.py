"""The bulk actions page: curators only, their teams' deposits only, preview then run."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deposits import metadata as md
from deposits.models import Deposit, Event
from tests.factories import DepositFactory, UserFactory, record
from tests.views.conftest import signed_in

pytestmark = pytest.mark.django_db

URL = reverse("bulk")


@pytest.fixture
def curator_client(curator: Any) -> Client:
    return signed_in(curator)


@pytest.fixture
def theirs(stranger: Any) -> Deposit:
    team = stranger.memberships.get().team
    return DepositFactory(team=team, created_by=stranger, metadata=record(title="Secret plans"))


@pytest.fixture
def ours(team: Any, member: Any) -> Deposit:
    return DepositFactory(team=team, created_by=member, metadata=record(title="Soil moisture"))


def seen(page: str) -> list[str]:
    return re.findall(r'name="seen" value="([^"]+)"', page)


def test_a_member_who_cannot_review_is_refused(member_client: Client, ours: Deposit) -> None:
    response = member_client.get(URL)
    assert response.status_code == 403
    assert "Only curators" in response.content.decode()
    assert member_client.post(URL, {"ids": [ours.pk], "action": "approve"}).status_code == 403


def test_a_curator_sees_their_teams_deposits_to_choose(
    curator_client: Client, ours: Deposit, theirs: Deposit
) -> None:
    response = curator_client.get(URL + f"?ids={ours.pk},{theirs.pk}")
    page = response.content.decode()
    assert response.status_code == 200
    assert f'id="pick-{ours.pk}"' in page
    assert re.search(rf'value="{ours.pk}" id="pick-{ours.pk}" checked', page)
    assert "Secret plans" not in page and f'id="pick-{theirs.pk}"' not in page


def test_a_superuser_sees_every_teams_deposits(ours: Deposit, theirs: Deposit) -> None:
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    page = signed_in(admin).get(URL).content.decode()
    assert f'id="pick-{ours.pk}"' in page and f'id="pick-{theirs.pk}"' in page


def test_another_teams_ids_are_not_found_in_the_preview_and_untouched(
    curator_client: Client, ours: Deposit, theirs: Deposit
) -> None:
    response = curator_client.post(
        URL, {"ids": [ours.pk, theirs.pk], "action": "keyword", "keyword": "drought"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Not found" in page and "Secret plans" not in page
    run = curator_client.post(
        URL,
        {
            "ids": [ours.pk, theirs.pk],
            "action": "keyword",
            "keyword": "drought",
            "confirmed": "1",
            "seen": seen(page),
        },
    )
    assert "Secret plans" not in run.content.decode()
    theirs.refresh_from_db()
    assert "drought" not in md.keywords(theirs.metadata)


def test_preview_changes_nothing_then_run_does_it(
    curator: Any, curator_client: Client, ours: Deposit
) -> None:
    events = Event.objects.count()
    preview = curator_client.post(
        URL, {"ids": [ours.pk], "action": "keyword", "keyword": "drought"}
    )
    page = preview.content.decode()
    assert 'id="bulk-preview"' in page and "Will add the keyword" in page
    assert 'id="bulk-run"' in page
    ours.refresh_from_db()
    assert "drought" not in md.keywords(ours.metadata)
    assert Event.objects.count() == events

    run = curator_client.post(
        URL,
        {
            "ids": [ours.pk],
            "action": "keyword",
            "keyword": "drought",
            "confirmed": "1",
            "seen": seen(page),
        },
    )
    done = run.content.decode()
    assert 'id="bulk-results"' in done and 'data-status="done"' in done
    assert "1 done · 0 skipped · 0 failed" in done
    ours.refresh_from_db()
    assert "drought" in md.keywords(ours.metadata)
    assert ours.events.filter(kind="metadata_edited", actor=curator).exists()


def test_a_run_without_its_preview_does_nothing(curator_client: Client, ours: Deposit) -> None:
    run = curator_client.post(
        URL, {"ids": [ours.pk], "action": "keyword", "keyword": "drought", "confirmed": "1"}
    )
    page = run.content.decode()
    assert 'data-status="skipped"' in page and "Changed since the preview" in page
    ours.refresh_from_db()
    assert "drought" not in md.keywords(ours.metadata)


def test_it_says_what_to_fix_before_a_preview(curator_client: Client, ours: Deposit) -> None:
    nothing = curator_client.post(URL, {"action": "approve"})
    assert nothing.status_code == 400
    assert "Choose at least one deposit" in nothing.content.decode()
    no_reason = curator_client.post(URL, {"ids": [ours.pk], "action": "return", "reason": ""})
    assert no_reason.status_code == 400
    assert "need the reason" in no_reason.content.decode()
    # what was chosen stays chosen
    assert re.search(rf'value="{ours.pk}" id="pick-{ours.pk}" checked', no_reason.content.decode())


def test_the_filters_list_what_they_say(
    curator_client: Client, ours: Deposit, zenodo_account: Any
) -> None:
    from deposits.models import Target

    failed = DepositFactory(team=ours.team, metadata=record(title="Broken"))
    Target.objects.create(deposit=failed, account=zenodo_account, state="failed")
    page = curator_client.get(URL + "?show=failed").content.decode()
    assert f'id="pick-{failed.pk}"' in page and f'id="pick-{ours.pk}"' not in page
    page = curator_client.get(URL + "?show=awaiting").content.decode()
    assert f'id="pick-{failed.pk}"' not in page


def test_an_admin_of_another_team_finds_none_of_ours(
    stranger_client: Client, ours: Deposit, theirs: Deposit
) -> None:
    page = stranger_client.get(URL + f"?ids={ours.pk}").content.decode()
    assert f'id="pick-{theirs.pk}"' in page
    assert f'id="pick-{ours.pk}"' not in page and "Soil moisture" not in page
    preview = stranger_client.post(URL, {"ids": [ours.pk], "action": "keyword", "keyword": "x"})
    shown = preview.content.decode()
    assert "Not found" in shown and "Soil moisture" not in shown
