"""The demo seed: the team, its people, the sandbox accounts and an example deposit ready
to publish; running it again changes nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from deposits import metadata as md
from deposits.management.demo_deposit import TITLE, VIEW
from deposits.models import Deposit, LinkedAccount, Team

pytestmark = pytest.mark.django_db


def seed() -> None:
    call_command("seed_demo", "--account", "zenodo=z-token", "--account", "datameta=d-token")


def test_it_seeds_the_team_accounts_and_an_example_deposit(settings, tmp_path) -> None:
    settings.SANDBOX_ENABLED = True
    settings.MEDIA_ROOT = tmp_path
    seed()
    team = Team.objects.get(slug="demo-lab")
    assert sorted(m.user.username for m in team.memberships.all()) == ["ada", "grace"]
    zenodo = LinkedAccount.objects.get(team=team, kind="zenodo")
    assert zenodo.base_url == settings.SANDBOX_URLS["zenodo"] + "/api"

    deposit = Deposit.objects.get(team=team, title=TITLE)
    assert [f.name for f in deposit.files.all()] == ["soil-moisture-2024.csv"]
    assert [t.account for t in deposit.targets.all()] == [zenodo]
    assert md.to_view(deposit.metadata) == VIEW
    assert md.datacite_json(deposit.metadata, publisher="Zenodo")["titles"] == [{"title": TITLE}]
    # nothing a Zenodo rule would refuse: Publish works at once
    assert deposit.targets.get().problems == []

    seed()
    assert Deposit.objects.filter(team=team).count() == 1
    assert LinkedAccount.objects.filter(team=team).count() == 2
