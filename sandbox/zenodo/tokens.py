"""Tokens for ``python manage.py sandbox_token zenodo``."""

import secrets

from .models import Account, ApiToken


def issue_token(user: str) -> str:
    """Create a personal access token for the sandbox user ``user`` (created if new)."""
    account, _ = Account.objects.get_or_create(name=user)
    return ApiToken.objects.create(account=account, key=secrets.token_urlsafe(45)).key
