"""API keys for ``manage.py sandbox_token datameta`` (and the ``_control`` endpoint)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from .models import MAX_KEY_DAYS, ApiKey
from .seed import sandbox_user


def issue_token(user: str, *, days: float = MAX_KEY_DAYS) -> str:
    """A new 64-character key for ``user`` (found by email or name, else created).

    Like keys made through ``POST /keys``, it expires: after ``days`` (at most 30, the
    real server's ``max_expiration_period``; zero or less gives an already expired key).
    """
    days = min(days, MAX_KEY_DAYS)
    _, token = ApiKey.issue(
        sandbox_user(user), "sandbox_token", timezone.now() + timedelta(days=days)
    )
    return token
