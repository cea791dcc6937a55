"""Fixtures for the portal's views: signed-in clients for the fixed cast, and deposits."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import DepositFactory, TargetFactory


@pytest.fixture(autouse=True)
def media_and_staging(settings: Any, tmp_path: Any) -> None:
    """Uploaded bytes go to a per-test directory, never the demo's var/."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.UPLOAD_STAGING_DIR = str(tmp_path / "staging")


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner: Any) -> Client:
    return signed_in(owner)


@pytest.fixture
def member_client(member: Any) -> Client:
    return signed_in(member)


@pytest.fixture
def stranger_client(stranger: Any) -> Client:
    return signed_in(stranger)


@pytest.fixture
def htmx() -> dict[str, str]:
    """Headers of a request htmx makes."""
    return {"HX-Request": "true"}


@pytest.fixture
def deposit(team: Any, owner: Any) -> Any:
    return DepositFactory(team=team, created_by=owner)


@pytest.fixture
def target(deposit: Any, zenodo_account: Any) -> Any:
    return TargetFactory(deposit=deposit, account=zenodo_account)
