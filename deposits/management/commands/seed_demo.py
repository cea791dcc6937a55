"""Seed the demo team: ada (member), grace (curator) and alan (admin), password "demo"; its
review policy asks for a curator's approval before publishing (set when the team is made:
alan can change it); linked accounts pointing at the sandboxes (each at the root of its own
port); and a GitHub release source of the example deposit on the forge sandbox, its secret
``demo-webhook-secret`` and its endpoint ``/hooks/releases/demo/``. Safe to run again.

Tokens come in as arguments (``--account zenodo=TOKEN``, printed by ``sandbox_token``):
the product never imports the sandboxes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from deposits.management.demo_deposit import seed_deposit
from deposits.models import (
    AccountStatus,
    Deposit,
    Forge,
    LinkedAccount,
    Membership,
    ReleaseSource,
    Role,
    Team,
)
from portal.sandboxes import REPOSITORIES

# The demo's release source (the issue names its secret; its key keeps the endpoint at
# PORTAL_BASE_URL/hooks/releases/demo/ however often the demo is seeded).
DEMO_REPOSITORY = "demo-lab/soil-moisture-scripts"
DEMO_SECRET = "demo-webhook-secret"
DEMO_KEY = "demo"


def seed_release_source(team: Team, deposit: Deposit, user: Any) -> ReleaseSource:
    """The demo deposit's GitHub release source on the forge sandbox (made once; its
    secret, key and address set again on a re-run, so the banner's words stay true)."""
    source = ReleaseSource.objects.filter(key=DEMO_KEY).first()
    if source is None:
        source = ReleaseSource(key=DEMO_KEY, created_by=user)
    source.team, source.deposit = team, deposit
    source.forge, source.repository = Forge.GITHUB, DEMO_REPOSITORY
    source.api_url = settings.SANDBOX_URLS["forge"]
    source.enabled = True
    source.set_secret(DEMO_SECRET)
    source.save()
    return source


class Command(BaseCommand):
    help = "Create the demo team, its users and sandbox-linked accounts."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--password", default="demo")
        parser.add_argument(
            "--account",
            action="append",
            default=[],
            metavar="KIND=TOKEN",
            help="link a sandbox account of KIND with TOKEN (repeatable)",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SANDBOX_ENABLED:
            raise CommandError("The demo needs the sandboxes: set SANDBOX_ENABLED=1.")
        User = get_user_model()
        team, _ = Team.objects.get_or_create(
            slug="demo-lab", defaults={"name": "Demo Lab", "review_required": True}
        )
        for username, role, full in [
            ("ada", Role.MEMBER, "Ada Lovelace"),
            ("grace", Role.CURATOR, "Grace Hopper"),
            ("alan", Role.ADMIN, "Alan Turing"),
        ]:
            user, created = User.objects.get_or_create(username=username)
            if created:
                first, last = full.split(" ", 1)
                user.first_name, user.last_name = first, last
                user.email = f"{username}@demo.invalid"
                user.set_password(options["password"])
            # Curators work in the admin, where they see their own teams only: staff, never
            # superuser (a superuser sees every team). Set again on a re-run, so a demo
            # seeded before this keeps no superuser.
            user.is_staff = role in (Role.CURATOR, Role.ADMIN)
            user.is_superuser = False
            user.save()
            Membership.objects.update_or_create(team=team, user=user, defaults={"role": role})

        given = dict(item.split("=", 1) for item in options["account"])
        for sandbox in REPOSITORIES:  # each at the root of its own port (settings.SANDBOX_URLS)
            kind, label = sandbox.kind, f"{sandbox.label} (sandbox)"
            if kind not in given:
                continue
            account = LinkedAccount.objects.filter(team=team, kind=kind, label=label).first()
            if account is None:
                account = LinkedAccount(team=team, kind=kind, label=label)
            account.base_url = settings.SANDBOX_URLS[kind] + sandbox.api_path
            account.set_token(given[kind])
            account.status = AccountStatus.UNVERIFIED
            account.save()
        ada = User.objects.get(username="ada")
        zenodo = LinkedAccount.objects.filter(team=team, kind="zenodo").first()
        demo = seed_deposit(team, ada, zenodo)
        seed_release_source(team, demo, User.objects.get(username="alan"))
        self.stdout.write(
            self.style.SUCCESS(f"Demo team 'Demo Lab' ready: ada / grace / alan, with '{demo}'")
        )
