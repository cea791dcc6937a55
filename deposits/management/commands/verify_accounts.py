"""Queue a verification of every linked account (or the ones named)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deposits import lifecycle
from deposits.models import LinkedAccount


class Command(BaseCommand):
    help = "Queue a token check for linked accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = LinkedAccount.objects.all()
        if options["ids"]:
            accounts = accounts.filter(pk__in=options["ids"])
        for account in accounts:
            lifecycle.verify_account(account, user=None)
        self.stdout.write(f"queued {accounts.count()} verification(s)")
