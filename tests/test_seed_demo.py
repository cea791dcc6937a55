"""The demo seed: the team, its people, the sandbox accounts and an example deposit ready
to publish; running it again changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from deposits import metadata as md
from deposits.lifecycle import review
from deposits.management.demo_deposit import TITLE, VIEW
from deposits.models import Deposit, LinkedAccount, ReleaseSource, Team
from deposits.releases import sources
from tests.factories import DepositFactory, TeamFactory

pytestmark = pytest.mark.django_db


def seed() -> None:
    call_command("seed_demo", "--account", "zenodo=z-token", "--account", "datameta=d-token")


def test_it_seeds_the_team_accounts_and_an_example_deposit(settings, tmp_path) -> None:
    settings.SANDBOX_ENABLED = True
    settings.MEDIA_ROOT = tmp_path
    seed()
    team = Team.objects.get(slug="demo-lab")
    roles = {m.user.username: m.role for m in team.memberships.all()}
    assert roles == {"ada": "member", "grace": "curator", "alan": "admin"}
    assert team.review_required  # the demo shows curation: grace approves ada's publishing
    zenodo = LinkedAccount.objects.get(team=team, kind="zenodo")
    assert zenodo.base_url == settings.SANDBOX_URLS["zenodo"] + "/api"

    deposit = Deposit.objects.get(team=team, title=TITLE)
    assert [f.name for f in deposit.files.all()] == ["soil-moisture-2024.csv"]
    assert [t.account for t in deposit.targets.all()] == [zenodo]
    assert md.to_view(deposit.metadata) == VIEW
    assert md.datacite_json(deposit.metadata, publisher="Zenodo")["titles"] == [{"title": TITLE}]
    # nothing a Zenodo rule would refuse: it can be submitted for review at once
    assert deposit.targets.get().problems == []
    assert review.submission_blockers(deposit) == []

    seed()
    assert Deposit.objects.filter(team=team).count() == 1
    assert LinkedAccount.objects.filter(team=team).count() == 2


def test_the_demo_curator_works_in_the_admin_on_her_own_team_only(settings, tmp_path) -> None:
    settings.SANDBOX_ENABLED = True
    settings.MEDIA_ROOT = tmp_path
    User = get_user_model()
    # a demo seeded before curators were scoped: grace was a superuser then
    User.objects.create_user("grace", password="demo", is_staff=True, is_superuser=True)
    seed()
    grace = User.objects.get(username="grace")
    assert grace.is_staff and not grace.is_superuser
    assert grace.memberships.get().role == "curator"
    assert not User.objects.filter(is_superuser=True).exists()

    elsewhere = DepositFactory(team=TeamFactory(name="Elsewhere", slug="elsewhere"))
    client = Client()
    client.force_login(grace)
    listed = client.get(reverse("admin:deposits_deposit_changelist")).context["cl"].queryset
    assert [d.title for d in listed] == [TITLE]
    assert elsewhere not in listed


def test_it_seeds_a_github_release_source_for_the_example_deposit(settings, tmp_path) -> None:
    settings.SANDBOX_ENABLED = True
    settings.MEDIA_ROOT = tmp_path
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8100"
    seed()
    source = ReleaseSource.objects.get()
    assert source.deposit == Deposit.objects.get(title=TITLE)
    assert (source.forge, source.repository) == ("github", "demo-lab/soil-moisture-scripts")
    assert source.api_url == settings.SANDBOX_URLS["forge"]
    assert source.secret == "demo-webhook-secret" and source.key == "demo"
    assert sources.endpoint_url(source) == "http://127.0.0.1:8100/hooks/releases/demo/"
    assert source.team.slug == "demo-lab" and source.enabled

    seed()
    assert ReleaseSource.objects.get().pk == source.pk
