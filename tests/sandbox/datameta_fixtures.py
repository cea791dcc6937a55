"""Fixtures for the DataMeta sandbox tests, all named ``datameta_*``.

Test modules star-import this module so that pytest sees the fixtures (the package's
``conftest.py`` belongs to the Zenodo sandbox tests).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

DATAMETA_API = "/api/v1"
DATAMETA_CONTROL = "/_control"
DATAMETA_RECORD = {
    "SampleID": "BN09",
    "ZIPCode": "149",
    "Date": "2021-03-29",
    "Lane": "L1",
    "FileR1": "BN09_R1.fastq.gz",
}
DATAMETA_READS = b"@read1\nACGT\n+\nIIII\n# BN09\n"  # the 26 bytes of exchange #37


class DataMetaClient(Client):
    """A test client that sends a DataMeta API key, and JSON bodies by default."""

    def __init__(self, token: str, **defaults: Any) -> None:
        super().__init__(HTTP_AUTHORIZATION=f"Bearer {token}", **defaults)

    def post_json(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self.post(
            f"{DATAMETA_API}{path}",
            data if data is not None else {},
            content_type="application/json",
            **extra,
        )

    def put_json(self, path: str, data: Any, **extra: Any) -> Any:
        return self.put(f"{DATAMETA_API}{path}", data, content_type="application/json", **extra)

    def api_get(self, path: str, query: dict[str, str] | None = None, **extra: Any) -> Any:
        return self.get(f"{DATAMETA_API}{path}", query, **extra)

    def api_delete(self, path: str, **extra: Any) -> Any:
        return self.delete(f"{DATAMETA_API}{path}", **extra)

    def stage(self, record: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
        """A staged metadataset: the exchange #23 record with ``changes``."""
        response = self.post_json(
            "/metadatasets", {"record": {**(record or DATAMETA_RECORD), **changes}}
        )
        assert response.status_code == 200, response.content
        return response.json()

    def announce(self, name: str, data: bytes, checksum: str | None = None) -> dict[str, Any]:
        body = {"name": name, "checksum": checksum or hashlib.md5(data).hexdigest()}
        response = self.post_json("/files", body)
        assert response.status_code == 200, response.content
        return response.json()

    def upload(self, announced: dict[str, Any], data: bytes, **extra: Any) -> Any:
        """The multipart POST to ``urlToUpload``: no Bearer, the Access-Token instead."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        headers = {"HTTP_ACCESS_TOKEN": announced["requestHeaders"]["Access-Token"], **extra}
        anonymous = Client()
        return anonymous.post(
            announced["urlToUpload"],
            {"file": SimpleUploadedFile(announced["name"], data)},
            **headers,
        )

    def staged_file(self, name: str, data: bytes) -> dict[str, Any]:
        """Announced, uploaded and confirmed (exchanges #31, #37, #38)."""
        announced = self.announce(name, data)
        assert self.upload(announced, data).status_code == 204
        response = self.put_json(f"/files/{announced['id']['uuid']}", {"contentUploaded": True})
        assert response.status_code == 200, response.content
        return response.json()

    def submitted(
        self, record: dict[str, Any] | None = None, data: bytes = DATAMETA_READS, **changes: Any
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """A submitted metadataset with its file: (metadataset, file, submission)."""
        mset = self.stage(record, **changes)
        f = self.staged_file(mset["record"]["FileR1"], data)
        response = self.post_json(
            "/submissions",
            {"metadatasetIds": [mset["id"]["uuid"]], "fileIds": [f["id"]["uuid"]], "label": "t"},
        )
        assert response.status_code == 200, response.content
        return mset, f, response.json()


def datameta_control(client: Client, **command: Any) -> dict[str, Any]:
    response = client.post(DATAMETA_CONTROL, command, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def datameta_storage(settings: Any, tmp_path: Path) -> Path:
    """File bytes of the DataMeta sandbox go to a temporary VAR_DIR."""
    settings.VAR_DIR = tmp_path
    return tmp_path / "sandbox-datameta"


@pytest.fixture
def datameta_admin(db: None, datameta_storage: Path) -> DataMetaClient:
    """The site admin of the exchanges (admin@example.org, Reference Lab, siteRead)."""
    from sandbox.datameta.tokens import issue_token

    return DataMetaClient(issue_token("admin@example.org"))


@pytest.fixture
def datameta_submitter(db: None, datameta_storage: Path) -> DataMetaClient:
    """The plain submitter of another group (exchanges #83-#91)."""
    from sandbox.datameta.tokens import issue_token

    return DataMetaClient(issue_token("submitter@example.org"))


@pytest.fixture
def datameta_anonymous(db: None, datameta_storage: Path) -> Client:
    return Client()
