"""The sandbox over real HTTP, at the root of its server as zenodo.org is: a third-party
client, connection resets, short bodies."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from sandbox.zenodo import control
from tests.zenodo_client import numbers, pointed_at

pytestmark = [
    pytest.mark.urls("sandbox.zenodo.root_urls"),
    pytest.mark.django_db(transaction=True),
]


def create_draft(live_server: Any, token: str) -> dict[str, Any]:
    response = requests.post(
        f"{live_server.url}/api/deposit/depositions",
        json={},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201
    return response.json()


def test_zenodo_client_creates_uploads_and_publishes(
    live_server: Any, zenodo_token: str, tmp_path: Path
) -> None:
    metadata, data = numbers(tmp_path)
    client = pointed_at(live_server.url, zenodo_token)

    published = client.create(metadata, [data]).json()

    assert published["state"] == "done"
    assert published["doi"] == f"10.5072/zenodo.{published['id']}"
    assert published["files"][0]["checksum"] == "66ce05ea43c73b8e33c74c12d0371bc9"
    assert published["metadata"]["license"] == "cc-zero"

    data.write_bytes(b"4, 5, 6")
    updated = client.update(str(published["id"]), [data]).json()

    assert updated["state"] == "done"
    assert updated["conceptdoi"] == published["conceptdoi"]
    assert updated["id"] != published["id"]
    assert updated["files"][0]["checksum"] != published["files"][0]["checksum"]


def test_it_resets_the_connection_in_the_middle_of_an_upload(
    live_server: Any, zenodo_token: str, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as out:
        out.truncate(16 * 1024 * 1024)
    deposition = create_draft(live_server, zenodo_token)
    url = f"{deposition['links']['bucket']}/big.bin"
    params = {"access_token": zenodo_token}
    control.add_fault("reset", count=2, after_bytes=1024 * 1024)

    for _ in range(2):
        with pytest.raises(requests.exceptions.ConnectionError), big.open("rb") as body:
            requests.put(url, data=body, params=params, timeout=30)

    with big.open("rb") as body:
        retried = requests.put(url, data=body, params=params, timeout=30)
    assert retried.status_code == 201
    assert retried.json()["size"] == 16 * 1024 * 1024


def test_it_resets_the_connection_after_a_small_body_too(
    live_server: Any, zenodo_token: str
) -> None:
    deposition = create_draft(live_server, zenodo_token)
    control.add_fault("reset")

    with pytest.raises(requests.exceptions.ConnectionError):
        requests.put(
            f"{deposition['links']['bucket']}/small.txt",
            data=b"tiny",
            headers={"Authorization": f"Bearer {zenodo_token}"},
            timeout=10,
        )


def test_it_rejects_a_body_shorter_than_its_content_length(
    live_server: Any, zenodo_token: str
) -> None:
    deposition = create_draft(live_server, zenodo_token)
    bucket = urlsplit(deposition["links"]["bucket"])
    request = (
        f"PUT {bucket.path}/short.bin HTTP/1.1\r\nHost: {bucket.netloc}\r\n"
        f"Authorization: Bearer {zenodo_token}\r\nContent-Length: 100\r\n"
        "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
    ).encode() + b"only a few bytes"

    with socket.create_connection((bucket.hostname, bucket.port), timeout=10) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk

    assert reply.startswith(b"HTTP/1.1 400")
    assert b"Content-Length does not match file size." in reply
    files = requests.get(
        deposition["links"]["files"], params={"access_token": zenodo_token}, timeout=10
    ).json()
    assert files == []
