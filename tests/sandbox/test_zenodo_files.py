"""The files API, the bucket API, checksums and limits (notes §1.2, §1.7)."""

from __future__ import annotations

import hashlib
import io
import tracemalloc

import pytest

from sandbox.zenodo import control
from sandbox.zenodo.storage import receive

from .conftest import ZENODO_API, ZenodoClient

pytestmark = pytest.mark.urls("sandbox.zenodo.root_urls")

DEPOSITIONS = f"{ZENODO_API}/deposit/depositions"


def test_it_stores_a_bucket_put_with_an_md5_prefixed_checksum(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create()

    response = zenodo_client.upload(deposition, "numbers.txt", b"1, 2, 3")

    assert response.status_code == 201
    body = response.json()
    assert body["checksum"] == "md5:66ce05ea43c73b8e33c74c12d0371bc9"
    assert body["size"] == 7
    assert body["key"] == "numbers.txt"
    assert body["mimetype"] == "text/plain"
    assert body["is_head"] is True
    assert body["links"]["self"] == f"{deposition['links']['bucket']}/numbers.txt"


def test_it_lists_files_with_bare_hex_checksums(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create()
    zenodo_client.upload(deposition, "numbers.txt", b"1, 2, 3")

    files = zenodo_client.get(f"{DEPOSITIONS}/{deposition['id']}/files").json()

    assert files[0]["checksum"] == "66ce05ea43c73b8e33c74c12d0371bc9"
    assert files[0]["filesize"] == 7
    assert files[0]["links"]["download"].endswith(
        f"/api/records/{deposition['id']}/draft/files/numbers.txt/content"
    )


def test_it_refuses_other_content_types_on_bucket_put(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create()
    url = f"{deposition['links']['bucket']}/data.json"

    response = zenodo_client.put(url, b"{}", content_type="application/json")

    assert response.status_code == 415
    assert response.json()["status"] == 415


def test_it_overwrites_an_existing_key(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create()
    zenodo_client.upload(deposition, "data.csv", b"old")

    response = zenodo_client.upload(deposition, "data.csv", b"new bytes")

    assert response.status_code == 201
    files = zenodo_client.get(f"{DEPOSITIONS}/{deposition['id']}/files").json()
    assert [(f["filename"], f["filesize"]) for f in files] == [("data.csv", 9)]
    content = zenodo_client.get(response.json()["links"]["self"])
    assert b"".join(content.streaming_content) == b"new bytes"  # type: ignore[attr-defined]


def test_it_uploads_multipart_files_under_a_secure_name(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create()
    upload = io.BytesIO(b"hello")
    upload.name = "ignored.txt"

    response = zenodo_client.post(
        f"{DEPOSITIONS}/{deposition['id']}/files",
        {"file": upload, "name": "../my résumé final.txt"},
    )

    assert response.status_code == 201
    assert response.json()["filename"] == "my_resume_final.txt"
    assert response.json()["checksum"] == hashlib.md5(b"hello").hexdigest()


def test_it_deletes_draft_files_but_not_published_ones(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create()
    zenodo_client.upload(deposition, "a.txt", b"a")
    draft_file = zenodo_client.get(f"{DEPOSITIONS}/{deposition['id']}/files").json()[0]
    published = zenodo_client.published()

    assert zenodo_client.delete(draft_file["links"]["self"]).status_code == 204
    published_file = published["files"][0]["links"]["self"].replace(
        f"/records/{published['id']}/files", f"/deposit/depositions/{published['id']}/files"
    )
    assert zenodo_client.delete(published_file).status_code == 403


def test_it_locks_the_bucket_and_the_files_api_after_publish(zenodo_client: ZenodoClient) -> None:
    published = zenodo_client.published()

    assert zenodo_client.upload(published, "late.txt", b"x").status_code == 403
    upload = io.BytesIO(b"x")
    upload.name = "late.txt"
    response = zenodo_client.post(f"{DEPOSITIONS}/{published['id']}/files", {"file": upload})
    assert response.status_code == 404


def test_it_does_not_implement_sorting_or_renaming(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create()
    zenodo_client.upload(deposition, "a.txt", b"a")
    file = zenodo_client.get(f"{DEPOSITIONS}/{deposition['id']}/files").json()[0]

    assert zenodo_client.put_json(f"{DEPOSITIONS}/{deposition['id']}/files", []).status_code == 405
    assert zenodo_client.put_json(file["links"]["self"], {"filename": "b.txt"}).status_code == 405


def test_it_limits_the_number_of_files(zenodo_client: ZenodoClient) -> None:
    control.configure(max_files=2)
    deposition = zenodo_client.create()
    zenodo_client.upload(deposition, "1.txt", b"1")
    zenodo_client.upload(deposition, "2.txt", b"2")

    refused = zenodo_client.upload(deposition, "3.txt", b"3")
    replaced = zenodo_client.upload(deposition, "2.txt", b"two")

    assert refused.status_code == 400
    assert refused.json()["message"] == (
        "Uploading selected files will result in exceeding the max amount per record."
    )
    assert replaced.status_code == 201


def test_it_limits_the_size_of_a_record(zenodo_client: ZenodoClient) -> None:
    control.configure(quota_bytes=10)
    deposition = zenodo_client.create()
    zenodo_client.upload(deposition, "a.bin", b"123456")

    response = zenodo_client.upload(deposition, "b.bin", b"123456")

    assert response.status_code == 400
    assert response.json() == {"status": 400, "message": "Bucket quota exceeded."}


def test_it_lists_the_bucket(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create()
    zenodo_client.upload(deposition, "a.bin", b"123")

    body = zenodo_client.get(deposition["links"]["bucket"]).json()

    assert body["size"] == 3
    assert [o["key"] for o in body["contents"]] == ["a.bin"]


def test_it_keeps_memory_flat_while_receiving_a_large_body(tmp_path: object) -> None:
    """64 MiB through ``receive`` allocates about one chunk, not the body."""
    remaining = [64 * 1024 * 1024]
    block = b"x" * (1024 * 1024)

    def read(size: int) -> bytes:
        take = min(size, remaining[0], len(block))
        remaining[0] -= take
        return block[:take]

    tracemalloc.start()
    received = receive(read, 64 * 1024 * 1024, tmp_path / "blob")  # type: ignore[operator]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert received.size == 64 * 1024 * 1024
    assert peak < 8 * 1024 * 1024
