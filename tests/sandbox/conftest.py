"""Fixtures for the sandbox tests: Zenodo ones are named ``zenodo_*``.

Each module serves its sandbox at the root (``pytestmark = pytest.mark.urls(...)`` with
``sandbox.<kind>.root_urls``), as the sandbox's own process does (portal/processes.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

ZENODO_API = "/api"
ZENODO_METADATA = {
    "title": "Soil samples 2024",
    "upload_type": "dataset",
    "description": "Raw measurements.",
    "creators": [{"name": "Doe, Jane", "affiliation": "Lab A"}],
}


class ZenodoClient(Client):
    """A test client that sends a sandbox token, and JSON bodies by default."""

    def __init__(self, token: str, **defaults: Any) -> None:
        super().__init__(HTTP_AUTHORIZATION=f"Bearer {token}", **defaults)

    def post_json(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self.post(
            path, data if data is not None else {}, content_type="application/json", **extra
        )

    def put_json(self, path: str, data: Any, **extra: Any) -> Any:
        return self.put(path, data, content_type="application/json", **extra)

    def create(self, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        """A new draft with valid metadata (or the ``metadata`` given)."""
        body = {"metadata": ZENODO_METADATA if metadata is None else metadata}
        response = self.post_json(f"{ZENODO_API}/deposit/depositions", body)
        assert response.status_code == 201, response.content
        return response.json()

    def upload(self, deposition: dict[str, Any], key: str, data: bytes, **extra: Any) -> Any:
        """A bucket PUT of ``data`` under ``key``."""
        url = f"{deposition['links']['bucket']}/{key}"
        return self.put(url, data, content_type="application/octet-stream", **extra)

    def action(self, deposition: dict[str, Any], name: str) -> Any:
        return self.post(f"{ZENODO_API}/deposit/depositions/{deposition['id']}/actions/{name}")

    def published(self, files: dict[str, bytes] | None = None) -> dict[str, Any]:
        """A published deposition with ``files`` (one small file by default)."""
        deposition = self.create()
        for key, data in (files or {"data.csv": b"a,b\n1,2\n"}).items():
            assert self.upload(deposition, key, data).status_code == 201
        response = self.action(deposition, "publish")
        assert response.status_code == 202, response.content
        return response.json()


@pytest.fixture
def zenodo_storage(settings: Any, tmp_path: Path) -> Path:
    """File bytes of the Zenodo sandbox go to a temporary directory."""
    settings.SANDBOX_ZENODO_ROOT = tmp_path / "sandbox-zenodo"
    return settings.SANDBOX_ZENODO_ROOT


@pytest.fixture
def zenodo_token(db: None, zenodo_storage: Path) -> str:
    from sandbox.zenodo.tokens import issue_token

    return issue_token("alice")


@pytest.fixture
def zenodo_client(zenodo_token: str) -> ZenodoClient:
    return ZenodoClient(zenodo_token)


@pytest.fixture
def zenodo_stranger(db: None, zenodo_storage: Path) -> ZenodoClient:
    """Another sandbox user, with a valid token of their own."""
    from sandbox.zenodo.tokens import issue_token

    return ZenodoClient(issue_token("mallory"))
