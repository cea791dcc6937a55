"""Files: streamed and hashed on the way in, resumable in chunks, limited, named safely."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from deposits import uploads
from deposits.models import DepositFile, Target
from tests.factories import add_file

pytestmark = pytest.mark.django_db

CONTENT = b"station,moisture\n" + b"lindenberg,0.31\n" * 5000


def start(client: Client, deposit: Any, name: str, size: int, **extra: str) -> Any:
    return client.post(
        reverse("upload-start", args=[deposit.pk]), {"name": name, "size": size, **extra}
    )


def put(client: Client, url: str, data: bytes, first: int, total: int) -> Any:
    return client.put(
        url,
        data,
        content_type="application/octet-stream",
        headers={"Content-Range": f"bytes {first}-{first + len(data) - 1}/{total}"},
    )


# --------------------------------------------------------------------------- form upload


def test_it_streams_a_form_upload_to_storage_with_its_hashes(
    owner_client: Client, deposit: Any
) -> None:
    response = owner_client.post(
        reverse("file-upload", args=[deposit.pk]),
        {"files": [SimpleUploadedFile("moisture.csv", CONTENT)]},
    )
    assert response.status_code == 302
    dfile = DepositFile.objects.get(deposit=deposit)
    assert dfile.name == "moisture.csv"
    assert dfile.size == len(CONTENT)
    assert dfile.status == "ready"
    assert dfile.md5 == hashlib.md5(CONTENT).hexdigest()
    assert dfile.sha256 == hashlib.sha256(CONTENT).hexdigest()
    with dfile.blob.open("rb") as stored:
        assert stored.read() == CONTENT


def test_it_hashes_form_uploads_as_the_bytes_arrive(rf: Any) -> None:
    handler = uploads.HashingUploadHandler(rf.post("/"))
    handler.new_file("files", "a.bin", "application/octet-stream", len(CONTENT))
    for offset in range(0, len(CONTENT), 1000):
        handler.receive_data_chunk(CONTENT[offset : offset + 1000], offset)
    uploaded = handler.file_complete(len(CONTENT))
    assert uploaded.md5 == hashlib.md5(CONTENT).hexdigest()  # type: ignore[union-attr]
    assert uploaded.sha256 == hashlib.sha256(CONTENT).hexdigest()  # type: ignore[union-attr]
    assert hasattr(uploaded, "temporary_file_path")  # on disk, not in memory


def test_it_refuses_a_file_over_the_limit_before_storing_anything(
    owner_client: Client, deposit: Any, settings: Any
) -> None:
    settings.UPLOAD_MAX_BYTES = 100
    response = start(owner_client, deposit, "huge.bin", 101)
    assert response.status_code == 413
    assert "more than the 100" in response.json()["error"]

    page = owner_client.post(
        reverse("file-upload", args=[deposit.pk]),
        {"files": [SimpleUploadedFile("huge.bin", b"x" * 101)]},
        follow=True,
    )
    assert "more than the 100" in page.content.decode()
    assert not DepositFile.objects.exists()


def test_it_refuses_a_form_upload_over_the_limit_without_reading_it(
    owner_client: Client, deposit: Any, settings: Any
) -> None:
    settings.UPLOAD_MAX_BYTES = 10
    payload = {"files": [SimpleUploadedFile("big.bin", b"x" * 200_000)]}
    page = owner_client.post(reverse("file-upload", args=[deposit.pk]), payload, follow=True)
    assert "this portal accepts in one file" in page.content.decode()
    assert not DepositFile.objects.exists()


def test_it_refuses_a_duplicate_name_unless_asked_to_replace(
    owner_client: Client, deposit: Any
) -> None:
    add_file(deposit, "data.csv", b"old")
    url = reverse("file-upload", args=[deposit.pk])

    refused = owner_client.post(
        url, {"files": [SimpleUploadedFile("data.csv", b"new")]}, follow=True
    )
    assert "already in this deposit" in refused.content.decode()
    assert DepositFile.objects.get().md5 == hashlib.md5(b"old").hexdigest()

    owner_client.post(url, {"files": [SimpleUploadedFile("data.csv", b"new")], "replace": "1"})
    assert DepositFile.objects.get().md5 == hashlib.md5(b"new").hexdigest()


def test_it_keeps_only_the_files_base_name(owner_client: Client, deposit: Any) -> None:
    response = start(owner_client, deposit, "../../etc/pass\u202ewd\x07.txt", 3)
    assert response.status_code == 201
    assert response.json()["name"] == "passwd.txt"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\ada\\Müller – Daten 数据.csv", "Müller – Daten 数据.csv"),
        ("../../etc/passwd", "passwd"),
        ("tab\tand\nnewline.txt", "tabandnewline.txt"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("  spaced   out  .txt ", "spaced out .txt"),
        ("trailing dots...", "trailing dots"),
        ("Cafe\u0301.txt", "Café.txt"),
        ("می\u200cخواهم.txt", "می\u200cخواهم.txt"),
    ],
)
def test_it_sanitises_file_names(raw: str, clean: str) -> None:
    assert uploads.clean_name(raw) == clean


@pytest.mark.parametrize("raw", ["", "..", "/", "\x00\x01"])
def test_it_refuses_names_with_nothing_left(raw: str) -> None:
    with pytest.raises(uploads.UploadRefused):
        uploads.clean_name(raw)


def test_it_shortens_overlong_names_keeping_the_extension() -> None:
    name = uploads.clean_name("ä" * 300 + ".tar.gz")
    assert len(name.encode()) <= 255
    assert name.endswith(".gz")


# --------------------------------------------------------------------------- chunks


def test_it_receives_a_file_in_chunks_and_hashes_it(owner_client: Client, deposit: Any) -> None:
    announced = start(owner_client, deposit, "moisture.csv", len(CONTENT)).json()
    assert announced["received"] == 0
    url = announced["url"]
    half = len(CONTENT) // 2

    first = put(owner_client, url, CONTENT[:half], 0, len(CONTENT))
    assert first.status_code == 200
    assert first.json() == {**first.json(), "received": half, "status": "receiving"}

    last = put(owner_client, url, CONTENT[half:], half, len(CONTENT))
    assert last.json()["status"] == "ready"

    dfile = DepositFile.objects.get()
    assert dfile.md5 == hashlib.md5(CONTENT).hexdigest()
    assert dfile.sha256 == hashlib.sha256(CONTENT).hexdigest()
    with dfile.blob.open("rb") as stored:
        assert stored.read() == CONTENT
    assert not uploads.staging_path(dfile).exists()


def test_it_resumes_an_interrupted_upload_from_what_it_received(
    owner_client: Client, deposit: Any
) -> None:
    total = len(CONTENT)
    url = start(owner_client, deposit, "moisture.csv", total).json()["url"]
    put(owner_client, url, CONTENT[:1000], 0, total)

    # The connection breaks half-way through the next chunk: the partial bytes are dropped.
    dfile = DepositFile.objects.get()
    with pytest.raises(uploads.UploadRefused):
        uploads.receive_chunk(
            dfile, io.BytesIO(CONTENT[1000:1500]), start=1000, length=4000, total=total, user=None
        )
    # The page reloads (another process, no hash state): choosing the file again resumes.
    uploads._hashes.forget(dfile.uid)
    again = start(owner_client, deposit, "moisture.csv", total).json()
    assert again["uid"] == str(dfile.uid)
    assert again["received"] == 1000
    assert owner_client.get(url).json()["received"] == 1000

    wrong = put(owner_client, url, CONTENT[5000:6000], 5000, total)
    assert wrong.status_code == 409
    assert wrong.json()["received"] == 1000

    assert put(owner_client, url, CONTENT[1000:], 1000, total).json()["status"] == "ready"
    dfile.refresh_from_db()
    assert dfile.md5 == hashlib.md5(CONTENT).hexdigest()
    assert dfile.sha256 == hashlib.sha256(CONTENT).hexdigest()


def test_it_refuses_chunks_without_a_valid_range(owner_client: Client, deposit: Any) -> None:
    url = start(owner_client, deposit, "a.bin", 10).json()["url"]
    missing = owner_client.put(url, b"0123456789", content_type="application/octet-stream")
    assert missing.status_code == 400
    assert "Content-Range" in missing.json()["error"]
    wrong_total = put(owner_client, url, b"0123456789", 0, 11)
    assert wrong_total.status_code == 400


def test_it_takes_an_empty_file_at_once(owner_client: Client, deposit: Any) -> None:
    announced = start(owner_client, deposit, "empty.txt", 0).json()
    assert announced["status"] == "ready"
    assert announced["md5"] == hashlib.md5(b"").hexdigest()


def test_it_refuses_a_chunked_duplicate_clearly(owner_client: Client, deposit: Any) -> None:
    add_file(deposit, "data.csv", b"old")
    response = start(owner_client, deposit, "data.csv", 3)
    assert response.status_code == 409
    assert "already in this deposit" in response.json()["error"]
    assert start(owner_client, deposit, "data.csv", 3, replace="1").status_code == 201


# --------------------------------------------------------------------------- rules


def test_it_refuses_file_changes_while_a_target_is_in_flight(
    owner_client: Client, deposit: Any, target: Any
) -> None:
    Target.objects.filter(pk=target.pk).update(state="working")
    response = start(owner_client, deposit, "late.csv", 3)
    assert response.status_code == 409
    assert "working on this deposit" in response.json()["error"]
    page = owner_client.get(reverse("deposit", args=[deposit.pk])).content.decode()
    assert 'id="files-locked"' in page


def test_it_says_files_reach_a_published_record_with_a_new_version(
    owner_client: Client, deposit: Any, target: Any
) -> None:
    Target.objects.filter(pk=target.pk).update(state="published")
    page = owner_client.get(reverse("deposit", args=[deposit.pk])).content.decode()
    assert 'id="published-note"' in page
    assert "New version" in page
    assert start(owner_client, deposit, "more.csv", 3).status_code == 201


def test_it_refuses_file_changes_while_a_curator_reviews(
    owner_client: Client, deposit: Any, target: Any
) -> None:
    dfile = add_file(deposit, "data.csv", b"a")
    Target.objects.filter(pk=target.pk).update(state="awaiting_review")
    assert "curator" in start(owner_client, deposit, "more.csv", 3).json()["error"]
    refused = owner_client.post(
        reverse("file-delete", args=[dfile.uid]), {"confirmed": "1"}, follow=True
    )
    assert "curator" in refused.content.decode()
    assert DepositFile.objects.filter(pk=dfile.pk).exists()


def test_it_asks_before_deleting_a_file(owner_client: Client, deposit: Any) -> None:
    dfile = add_file(deposit, "data.csv", b"a,b\n")
    url = reverse("file-delete", args=[dfile.uid])

    confirm = owner_client.get(url).content.decode()
    assert 'id="confirm-action"' in confirm
    assert 'name="confirmed"' in confirm
    unconfirmed = owner_client.post(url)
    assert unconfirmed.status_code == 200
    assert DepositFile.objects.filter(pk=dfile.pk).exists()

    storage, path = dfile.blob.storage, str(dfile.blob.name)
    owner_client.post(url, {"confirmed": "1"})
    assert not DepositFile.objects.filter(pk=dfile.pk).exists()
    assert not storage.exists(path)


def test_it_lists_files_as_an_htmx_fragment(
    owner_client: Client, deposit: Any, htmx: dict[str, str]
) -> None:
    add_file(deposit, "data.csv", b"a,b\n")
    body = owner_client.get(reverse("file-list", args=[deposit.pk]), headers=htmx).content.decode()
    assert body.lstrip().startswith('<div id="file-list"')
    assert 'data-file="data.csv"' in body
    assert hashlib.sha256(b"a,b\n").hexdigest() in body


def test_a_file_arriving_leaves_readiness_alone_and_publishing_waits_for_it(
    owner_client: Client, deposit: Any, target: Any
) -> None:
    from deposits import lifecycle
    from deposits.models import Action, Event

    add_file(deposit, "data.csv", b"a,b\n1,2\n")
    lifecycle.revalidate(deposit)
    target.refresh_from_db()
    assert target.state == "ready"
    url = start(owner_client, deposit, "more.csv", 6).json()["url"]
    assert put(owner_client, url, b"1,2", 0, 6).status_code == 200
    target.refresh_from_db()
    assert target.state == "ready" and target.problems == []  # no flip to draft and back
    with pytest.raises(lifecycle.NotAllowed, match="still uploading"):
        lifecycle.request(target, Action.PUBLISH, user=None)
    assert put(owner_client, url, b"\n3,", 3, 6).status_code == 200
    target.refresh_from_db()
    assert target.state == "ready"
    assert not Event.objects.filter(target=target, kind="state", to_state="draft").exists()


@pytest.mark.parametrize("name", ["🎉🎉.csv", "%%%", "🎉"])
def test_a_name_of_only_symbols_or_emoji_finishes_and_keeps_its_name(
    owner_client: Client, deposit: Any, name: str
) -> None:
    data = b"moisture\n0.31\n"
    url = start(owner_client, deposit, name, len(data)).json()["url"]
    assert put(owner_client, url, data, 0, len(data)).status_code == 200
    stored = DepositFile.objects.get(deposit=deposit, name=name)
    assert stored.status == "ready" and stored.md5 == hashlib.md5(data).hexdigest()
    with stored.blob.open("rb") as fileobj:
        assert fileobj.read() == data
    page = owner_client.get(reverse("deposit", args=[deposit.pk])).content.decode()
    assert f'data-file="{name}"' in page and "Interrupted" not in page
