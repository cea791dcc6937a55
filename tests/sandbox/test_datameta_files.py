"""Files: announce, upload, confirm, delete, download (notes-datameta.md §17-§21, §25)."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.test import Client

from tests.sandbox.datameta_fixtures import *  # noqa: F403
from tests.sandbox.datameta_fixtures import DATAMETA_API, DATAMETA_READS, DataMetaClient

pytestmark = pytest.mark.urls("sandbox.datameta.root_urls")

NOT_MODIFIABLE = [
    {"exception": "ResourceNotModifiableError", "message": "The resource cannot be modified"}
]


def file_id(body: dict[str, Any]) -> str:
    return str(body["id"]["uuid"])


def test_announcing_gives_an_upload_url_and_an_access_token(
    datameta_admin: DataMetaClient, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "datameta.example.test"]
    response = datameta_admin.post_json(
        "/files",
        {"name": "BN09_R1.fastq.gz", "checksum": "527d6863999ec88fbf26f222b73a3859"},
        HTTP_HOST="datameta.example.test:8443",
        HTTP_X_FORWARDED_PROTO="https",
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "name", "userId", "expires", "urlToUpload", "requestHeaders"}
    assert body["id"]["site"].startswith("DMF-")
    # From the Host header, always http (notes §18).
    assert body["urlToUpload"] == (
        f"http://datameta.example.test:8443/api/v1/upload/{file_id(body)}"
    )
    assert len(body["requestHeaders"]["Access-Token"]) == 64
    assert "+" not in body["expires"]


def test_announcing_validates_the_body_like_the_openapi_layer(
    datameta_admin: DataMetaClient,
) -> None:
    missing = datameta_admin.post_json("/files", {"name": "a.txt"})
    empty = datameta_admin.post_json("/files", {"name": "", "checksum": "x"})
    extra = datameta_admin.post_json("/files", {"name": "a", "checksum": "x", "size": 3})
    text = datameta_admin.post(f"{DATAMETA_API}/files", "x", content_type="text/plain")
    broken = datameta_admin.post(
        f"{DATAMETA_API}/files", '{"name":', content_type="application/json"
    )

    assert missing.json() == [
        {
            "exception": "ValidationError",
            "message": "'checksum' is a required property",
            "field": "name/checksum",
        }
    ]
    assert empty.json() == [
        {"exception": "ValidationError", "message": "File names cannot be empty."}
    ]
    assert extra.json() == [
        {
            "exception": "ValidationError",
            "message": "Additional properties are not allowed ('size' was unexpected)",
        }
    ]
    assert text.json()[0]["exception"] == "MediaTypeNotFound"
    assert broken.json() == [
        {
            "exception": "DeserializeError",
            "message": "Failed to deserialize value b'{\"name\":' with style application/json",
        }
    ]
    assert {r.status_code for r in (missing, empty, extra, text, broken)} == {400}


def test_upload_and_confirm(datameta_admin: DataMetaClient) -> None:
    announced = datameta_admin.announce("BN09_R1.fastq.gz", DATAMETA_READS)
    before = datameta_admin.api_get(f"/files/{file_id(announced)}").json()

    uploaded = datameta_admin.upload(announced, DATAMETA_READS)
    confirmed = datameta_admin.put_json(f"/files/{file_id(announced)}", {"contentUploaded": True})

    assert (before["contentUploaded"], before["filesize"]) == (False, None)
    assert uploaded.status_code == 204 and uploaded.content == b""
    assert confirmed.status_code == 200
    assert confirmed.json()["contentUploaded"] is True
    assert confirmed.json()["filesize"] == 26
    by_site = datameta_admin.api_get(f"/files/{announced['id']['site']}")
    assert by_site.json()["checksum"] == "527d6863999ec88fbf26f222b73a3859"


def test_upload_errors_are_null_bodies(datameta_admin: DataMetaClient) -> None:
    announced = datameta_admin.announce("a.txt", b"abc")
    anonymous = Client()

    no_token = anonymous.post(announced["urlToUpload"], {"file": io.BytesIO(b"abc")})
    no_part = anonymous.post(
        announced["urlToUpload"],
        "notfile=x",
        content_type="application/x-www-form-urlencoded",
        HTTP_ACCESS_TOKEN=announced["requestHeaders"]["Access-Token"],
    )
    by_put = anonymous.put(
        announced["urlToUpload"],
        b"abc",
        HTTP_ACCESS_TOKEN=announced["requestHeaders"]["Access-Token"],
    )

    assert (no_token.status_code, no_token.content) == (404, b"null")
    assert (no_part.status_code, no_part.content) == (400, b"null")
    assert no_token["Content-Type"] == "application/json"
    assert by_put.status_code == 404
    assert by_put["Content-Type"] == "text/html; charset=UTF-8"


def test_a_confirmed_file_cannot_change(datameta_admin: DataMetaClient) -> None:
    confirmed = datameta_admin.staged_file("a.txt", b"abc")

    again = datameta_admin.put_json(f"/files/{file_id(confirmed)}", {"contentUploaded": True})

    assert again.status_code == 403
    assert again.json() == NOT_MODIFIABLE


def test_reuploading_after_confirmation_is_a_409(datameta_admin: DataMetaClient) -> None:
    announced = datameta_admin.announce("a.txt", b"abc")
    datameta_admin.upload(announced, b"abc")
    datameta_admin.put_json(f"/files/{file_id(announced)}", {"contentUploaded": True})

    response = datameta_admin.upload(announced, b"abc")

    assert (response.status_code, response.content) == (409, b"null")


def test_a_reupload_before_confirmation_replaces_the_bytes(datameta_admin: DataMetaClient) -> None:
    announced = datameta_admin.announce("a.txt", b"second")
    datameta_admin.upload(announced, b"first upload")
    datameta_admin.upload(announced, b"second")

    confirmed = datameta_admin.put_json(f"/files/{file_id(announced)}", {"contentUploaded": True})

    assert confirmed.json()["filesize"] == 6


@pytest.mark.parametrize(
    "announced_checksum",
    [
        "cc9fd7957df5f2f6ea8f9c8f3539a61b",  # wrong (#46)
        hashlib.sha256(b"some other content\n").hexdigest(),  # SHA-256 (#50)
        hashlib.md5(b"some other content\n").hexdigest().upper(),  # upper case (#53)
    ],
)
def test_it_answers_a_checksum_mismatch_with_409_null(
    datameta_admin: DataMetaClient, announced_checksum: str
) -> None:
    data = b"some other content\n"
    announced = datameta_admin.announce("wrong.txt", data, checksum=announced_checksum)
    datameta_admin.upload(announced, data)

    mismatch = datameta_admin.put_json(f"/files/{file_id(announced)}", {"contentUploaded": True})
    fixed = datameta_admin.put_json(
        f"/files/{file_id(announced)}",
        {"checksum": hashlib.md5(data).hexdigest(), "contentUploaded": True},
    )

    assert (mismatch.status_code, mismatch.content) == (409, b"null")
    assert fixed.status_code == 200
    assert fixed.json()["filesize"] == 19


def test_confirming_without_upload_compares_with_the_empty_file(
    datameta_admin: DataMetaClient,
) -> None:
    never = datameta_admin.announce("never.txt", b"data")
    empty = datameta_admin.announce("empty.txt", b"")

    assert (
        datameta_admin.put_json(f"/files/{file_id(never)}", {"contentUploaded": True}).status_code
        == 409
    )
    confirmed = datameta_admin.put_json(f"/files/{file_id(empty)}", {"contentUploaded": True})
    assert confirmed.json()["filesize"] == 0


def test_reading_files_of_others(
    datameta_admin: DataMetaClient, datameta_submitter: DataMetaClient
) -> None:
    mine = datameta_admin.announce("a.txt", b"abc")

    foreign = datameta_submitter.api_get(f"/files/{file_id(mine)}")
    unknown = datameta_admin.api_get("/files/00000000-0000-0000-0000-000000000000")

    assert (foreign.status_code, foreign.content) == (403, b"[]")
    assert unknown.status_code == 404
    assert b"Page Not Found" in unknown.content


def test_deleting_files(datameta_admin: DataMetaClient, datameta_submitter: DataMetaClient) -> None:
    staged = datameta_admin.announce("never-uploaded.txt", b"x")
    theirs = datameta_admin.announce("sha.txt", b"x")
    _, submitted, _ = datameta_admin.submitted()

    assert datameta_admin.api_delete(f"/files/{file_id(staged)}").status_code == 204
    gone = datameta_admin.api_delete(f"/files/{file_id(staged)}")
    locked = datameta_admin.api_delete(f"/files/{file_id(submitted)}")
    foreign = datameta_submitter.api_delete(f"/files/{file_id(theirs)}")

    assert (gone.status_code, gone.content) == (404, b"null")
    assert (locked.status_code, locked.json()) == (403, NOT_MODIFIABLE)
    assert (foreign.status_code, foreign.content) == (403, b"null")


def test_bulk_delete_of_files(datameta_admin: DataMetaClient, datameta_storage: Any) -> None:
    first = datameta_admin.staged_file("a.txt", b"a")
    second = datameta_admin.announce("b.txt", b"b")

    response = datameta_admin.post_json(
        "/rpc/delete-files", {"fileIds": [file_id(first), second["id"]["site"]]}
    )

    assert response.status_code == 204
    assert datameta_admin.api_get(f"/files/{file_id(first)}").status_code == 404
    assert not any(datameta_storage.iterdir())


def test_download_urls(datameta_admin: DataMetaClient, datameta_submitter: DataMetaClient) -> None:
    _, submitted, _ = datameta_admin.submitted()

    plain = datameta_admin.api_get(f"/rpc/get-file-url/{file_id(submitted)}")
    redirect = datameta_admin.api_get(
        f"/rpc/get-file-url/{file_id(submitted)}", {"redirect": "true", "expires": "5"}
    )
    unknown = datameta_admin.api_get("/rpc/get-file-url/DMF-00000000")
    foreign = datameta_submitter.api_get(f"/rpc/get-file-url/{file_id(submitted)}")

    body = plain.json()
    assert plain.status_code == 200
    assert set(body) == {"fileId", "fileUrl", "expires", "checksum"}
    assert body["expires"].endswith("+00:00")
    assert redirect.status_code == 307
    assert redirect["Location"] == redirect.json()["fileUrl"]
    assert unknown.status_code == 404
    assert (foreign.status_code, foreign.content) == (403, b"[]")
    for _ in range(2):  # reusable until it expires (#79)
        download = Client().get(body["fileUrl"])
        assert download["Content-Type"] == "application/octet-stream"
        assert download["Content-Disposition"] == 'attachment; filename="BN09_R1.fastq.gz"'
        assert b"".join(download.streaming_content) == DATAMETA_READS


class MultipartStream:
    """A multipart body generated on the fly: ``size`` bytes of data, never held at once.

    Not an ``io`` object on purpose: requests would take its failing ``tell()`` for an
    exhausted stream and fall back to chunked encoding, which Django's server refuses.
    """

    def __init__(self, size: int, boundary: str = "sandboxboundary") -> None:
        self.head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{boundary}--\r\n".encode()
        self.size = size
        self.sent = 0
        self.md5 = hashlib.md5()
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self.length = len(self.head) + size + len(self.tail)

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read():
            yield chunk

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = 1 << 16
        out = b""
        if self.head:
            out, self.head = self.head[:n], self.head[n:]
            return out
        if self.sent < self.size:
            chunk = bytes((self.sent + i) % 251 for i in range(min(n, self.size - self.sent)))
            self.md5.update(chunk)
            self.sent += len(chunk)
            return chunk
        out, self.tail = self.tail[:n], self.tail[n:]
        return out


@pytest.mark.django_db(transaction=True)
def test_uploads_stream_to_disk_in_flat_memory(live_server: Any, datameta_storage: Any) -> None:
    from sandbox.datameta.tokens import issue_token

    size = 6 * 1024 * 1024
    api = f"{live_server.url}{DATAMETA_API}"
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {issue_token('admin@example.org')}"
    body = MultipartStream(size)
    announced = session.post(f"{api}/files", json={"name": "big.bin", "checksum": "later"}).json()

    tracemalloc.start()
    try:
        uploaded = requests.post(
            announced["urlToUpload"],
            data=body,
            headers={**announced["requestHeaders"], "Content-Type": body.content_type},
            timeout=60,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert uploaded.status_code == 204, uploaded.content
    assert peak < size / 4, f"peak {peak} bytes while receiving {size}"
    confirmed = session.put(
        f"{api}/files/{announced['id']['uuid']}",
        json={"checksum": body.md5.hexdigest(), "contentUploaded": True},
    )
    assert confirmed.status_code == 200
    assert confirmed.json()["filesize"] == size
