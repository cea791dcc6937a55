"""Print a token a sandbox accepts: ``python manage.py sandbox_token zenodo``."""

from importlib import import_module
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

KINDS = ("zenodo", "datameta", "coscine")


class Command(BaseCommand):
    help = "Print an API token the named sandbox accepts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("--user", default="sandbox-user", help="the sandbox user it belongs to")

    def handle(self, *args: Any, **options: Any) -> None:
        tokens = import_module(f"sandbox.{options['kind']}.tokens")
        self.stdout.write(tokens.issue_token(options["user"]))
