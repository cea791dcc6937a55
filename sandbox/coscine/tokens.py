"""API tokens for ``manage.py sandbox_token coscine`` and the tests.

Real Coscine tokens are JWTs with an expiry date; the sandbox's are random strings
with the same property (the expiry is stored, and checked on each request).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.utils import timezone

from .models import ApiToken, Project, hash_token
from .seed import SANDBOX_USER, ensure_seeded, user

DEFAULT_DAYS = 30


def issue_token(user_name: str, *, days: float = DEFAULT_DAYS, name: str = "sandbox_token") -> str:
    """A new token for ``user_name`` that expires after ``days`` (zero: already expired).

    The seeded projects move to the first user asked for under another name than
    ``sandbox-user``, so the demo's ``--user demo-lab`` sees them; later users start
    with none."""
    ensure_seeded()
    owner = user(user_name)
    if user_name != SANDBOX_USER:
        Project.objects.filter(owner__name=SANDBOX_USER).update(owner=owner)
    token = secrets.token_urlsafe(48)
    ApiToken.objects.create(
        user=owner,
        name=name,
        token_hash=hash_token(token),
        expires=timezone.now() + timedelta(days=days),
    )
    return token
