"""Receiving files from browsers: streamed to storage and hashed on the way in.

Two ways in, both with flat memory whatever the size:

- a multipart form post (works without JavaScript): ``HashingUploadHandler`` writes the
  bytes to a temporary file and feeds MD5 and SHA-256 as they arrive; the temporary
  file is then moved (local disk) or streamed (S3) into storage;
- resumable chunks (the page's uploader): ``start_upload`` makes a receiving
  ``DepositFile``; each ``receive_chunk`` appends a byte range to a staging file and
  advances ``received``, so an interrupted upload resumes from there; the last chunk
  moves the staging file into storage. Chunks to one upload are appended one at a time,
  under its row's lock: a second copy of a chunk (a retry, another tab) is refused with
  where the upload stands, never written over the first.

Chunk hashes are kept per process while the chunks arrive in order; if a chunk lands on
another process (several web workers), the staging file is hashed once at the end.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Protocol

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db import IntegrityError, transaction
from django.http import UnreadablePostError

from deposits import lifecycle
from deposits.models import Deposit, DepositFile, FileStatus
from deposits.sizes import human_size

READ_SIZE = 64 * 1024
MAX_NAME_BYTES = 255
# Zero-width (non-)joiners belong to some scripts' spelling; other format characters
# (bidi overrides and the like) only disguise a name.
KEEP_FORMAT_CHARS = {"\u200c", "\u200d"}


class UploadRefused(Exception):
    """An upload that cannot be taken; ``message`` says why and what to do instead."""

    def __init__(self, message: str, *, status: int = 400, received: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.received = received


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


# --------------------------------------------------------------------------- rules


def clean_name(raw: str) -> str:
    """A file name without path parts or control characters; unicode stays readable."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(
        ch for ch in name if unicodedata.category(ch)[0] != "C" or ch in KEEP_FORMAT_CHARS
    )
    name = re.sub(r"\s+", " ", name).strip().rstrip(". ")
    if not name.strip("."):
        raise UploadRefused("The file needs a name: rename it and upload it again.")
    if len(name.encode()) > MAX_NAME_BYTES:
        stem, dot, suffix = name.rpartition(".")
        suffix = f".{suffix}" if dot and len(suffix) <= 16 else ""
        stem = stem if suffix else name
        while len((stem + suffix).encode()) > MAX_NAME_BYTES:
            stem = stem[:-1]
        name = stem + suffix
    return name


def check_size(name: str, size: int) -> None:
    limit = settings.UPLOAD_MAX_BYTES
    if size > limit:
        raise UploadRefused(
            f"“{name}” is {human_size(size)}, more than the {human_size(limit)} "
            "this portal accepts in one file: split it, or ask your administrator.",
            status=413,
        )


def files_locked_reason(deposit: Deposit) -> str:
    """Why the deposit's files cannot change now, or "" when they can."""
    return lifecycle.edit_locked_reason(deposit.targets.select_related("account"), "files")


def _check_unlocked(deposit: Deposit) -> None:
    reason = files_locked_reason(deposit)
    if reason:
        raise UploadRefused(reason, status=409)


def _make_room(deposit: Deposit, name: str, *, replace: bool, user: Any) -> None:
    existing = deposit.files.filter(name=name).first()
    if existing is None:
        return
    if not replace:
        raise UploadRefused(
            f"“{name}” is already in this deposit: choose “Replace files with the same "
            "name”, or rename your file.",
            status=409,
        )
    _delete(existing)
    lifecycle.record_event(deposit, "file_replaced", user=user, message=f"Replaced {name}")


# --------------------------------------------------------------------------- multipart


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Writes each uploaded file to a temporary file, hashing the bytes as they arrive."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha256 = hashlib.sha256()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.md5.update(raw_data)
        self.sha256.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> UploadedFile | None:
        uploaded = super().file_complete(file_size)
        if uploaded is not None:
            uploaded.md5 = self.md5.hexdigest()  # type: ignore[attr-defined]
            uploaded.sha256 = self.sha256.hexdigest()  # type: ignore[attr-defined]
        return uploaded


def store_uploaded(
    deposit: Deposit, uploaded: UploadedFile, *, replace: bool, user: Any
) -> DepositFile:
    """Keep a file that ``HashingUploadHandler`` received."""
    name = clean_name(uploaded.name or "")
    size = uploaded.size or 0
    check_size(name, size)
    _check_unlocked(deposit)
    md5 = getattr(uploaded, "md5", "")
    sha256 = getattr(uploaded, "sha256", "")
    if not (md5 and sha256):  # received by another handler: hash it now, still streaming
        md5, sha256 = _hash_stream(uploaded)
    with transaction.atomic():
        _make_room(deposit, name, replace=replace, user=user)
        dfile = _create(deposit, name, size)
    dfile.blob.save(name, uploaded, save=False)
    _mark_ready(dfile, md5=md5, sha256=sha256, user=user)
    return dfile


# --------------------------------------------------------------------------- chunks


def staging_dir() -> Path:
    path = Path(settings.UPLOAD_STAGING_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def staging_path(dfile: DepositFile) -> Path:
    return staging_dir() / f"{dfile.uid}.part"


def start_upload(
    deposit: Deposit, *, name: str, size: int, replace: bool, user: Any
) -> DepositFile:
    """A receiving file to send chunks to; the unfinished one of the same name resumes."""
    name = clean_name(name)
    if size < 0:
        raise UploadRefused("The file size is missing.")
    check_size(name, size)
    _check_unlocked(deposit)
    existing = deposit.files.filter(name=name, status=FileStatus.RECEIVING).first()
    if existing is not None and existing.size == size:
        existing.received = _settle_resume_point(existing)
        return existing
    with transaction.atomic():
        _make_room(deposit, name, replace=replace or existing is not None, user=user)
        dfile = _create(deposit, name, size)
    staging_path(dfile).touch()
    if size == 0:
        _finish(dfile, user=user)
    else:
        lifecycle.revalidate(deposit)
    return dfile


def receive_chunk(
    dfile: DepositFile, stream: Readable, *, start: int, length: int, total: int, user: Any
) -> DepositFile:
    """Take bytes ``start .. start+length-1`` from ``stream``; finish the file on the last.

    The bytes are read into a part file of this request's own, holding no lock while the
    network is slow; then, with the upload's row locked, the offset is checked again and
    the bytes appended. Of two copies of one chunk (a retry while the first is still
    arriving, two tabs) the first to get there is kept; the other changes nothing and is
    answered 409 with where the upload stands, from where the page's uploader resumes.
    """
    _check_chunk(dfile, start=start, length=length, total=total, received=resume_point(dfile))
    with _private_part(dfile) as part:
        _read_body(stream, part, length, start=start)
        _append(dfile, part, start=start, length=length)
    if dfile.received == dfile.size:  # only the request that appended the last bytes
        _finish(dfile, user=user)
    return dfile


def staged_bytes(dfile: DepositFile) -> int:
    path = staging_path(dfile)
    return path.stat().st_size if path.exists() else 0


def resume_point(dfile: DepositFile) -> int:
    """How much of a receiving file is kept: what was recorded, if the staging file still
    holds it. (A staging file longer than that is a chunk still arriving, or one whose
    request died before it was recorded: not counted, it is written over.)"""
    return min(dfile.received, staged_bytes(dfile))


def _settle_resume_point(dfile: DepositFile) -> int:
    """The resume point, recorded if the staging file lost bytes (a cleaned temp dir)."""
    with transaction.atomic():
        row = DepositFile.objects.select_for_update().get(pk=dfile.pk)
        received = resume_point(row)
        if received < row.received:
            DepositFile.objects.filter(pk=row.pk).update(received=received)
    return received


def _check_chunk(dfile: DepositFile, *, start: int, length: int, total: int, received: int) -> None:
    """Refuse a chunk that cannot be the next one; checked again under the lock."""
    # All bytes recorded is complete too: the request that appended the last ones may
    # still be finishing the file (its staging file already moved into storage).
    if dfile.status != FileStatus.RECEIVING or dfile.received >= dfile.size:
        # ``received`` at the size: the uploader sees it has nothing left to send
        raise UploadRefused(f"“{dfile.name}” is already complete.", status=409, received=dfile.size)
    _check_unlocked(dfile.deposit)
    if total != dfile.size:
        raise UploadRefused(
            f"This upload of “{dfile.name}” was started for {dfile.size} bytes, not {total}.",
        )
    if start != received:
        raise UploadRefused(
            f"Expected the bytes from {received} on.", status=409, received=received
        )
    if length <= 0 or start + length > total:
        raise UploadRefused("The byte range does not fit the file.", status=416)


@contextmanager
def _private_part(dfile: DepositFile) -> Iterator[IO[bytes]]:
    """A file for one request's chunk, next to the staging file; gone afterwards."""
    path = staging_dir() / f"{dfile.uid}.{uuid.uuid4().hex}.chunk"
    try:
        with path.open("w+b") as part:
            yield part
    finally:
        path.unlink(missing_ok=True)


def _read_body(stream: Readable, part: IO[bytes], length: int, *, start: int) -> None:
    written = 0
    try:
        while written < length:
            data = stream.read(min(READ_SIZE, length - written))
            if not data:
                break
            part.write(data)
            written += len(data)
    except UnreadablePostError:
        pass  # the connection broke: same as a short body
    if written < length:
        raise UploadRefused(
            "The chunk arrived incomplete: send it again.", status=400, received=start
        )


def _append(dfile: DepositFile, part: IO[bytes], *, start: int, length: int) -> None:
    """Append the chunk in ``part`` if it is still the next one: the upload's row is
    locked (PostgreSQL; SQLite's transactions take the write lock) from the check to the
    new offset, so the staging file and ``received`` only ever move together, once."""
    with transaction.atomic():
        row = DepositFile.objects.select_for_update().get(pk=dfile.pk)
        _check_chunk(row, start=start, length=length, total=row.size, received=resume_point(row))
        hashes = _hashes.resume(row.uid, start)
        _write_at(staging_path(row), part, start, hashes)
        DepositFile.objects.filter(pk=row.pk).update(received=start + length)
    _hashes.keep(dfile.uid, start + length, hashes)
    dfile.received = start + length


def _write_at(path: Path, part: IO[bytes], start: int, hashes: tuple[Any, Any] | None) -> None:
    """Write ``part`` at ``start``, dropping whatever lay beyond (never recorded), and
    make it durable before the offset that counts it is committed."""
    part.seek(0)
    path.touch()
    with path.open("r+b") as out:
        out.seek(start)
        out.truncate()
        while data := part.read(READ_SIZE):
            out.write(data)
            if hashes:
                hashes[0].update(data)
                hashes[1].update(data)
        out.flush()
        os.fsync(out.fileno())


class StagedFile(File):
    """A finished staging file; local storage moves it instead of copying."""

    def temporary_file_path(self) -> str:
        return str(self.file.name)  # type: ignore[union-attr]


def _finish(dfile: DepositFile, *, user: Any) -> None:
    path = staging_path(dfile)
    kept = _hashes.pop(dfile.uid, dfile.size)
    if kept:
        md5, sha256 = kept[0].hexdigest(), kept[1].hexdigest()
    else:
        with path.open("rb") as staged:
            md5, sha256 = _hash_stream(staged)
    with path.open("rb") as staged:
        dfile.blob.save(dfile.name, StagedFile(staged, name=dfile.name), save=False)
    path.unlink(missing_ok=True)
    _mark_ready(dfile, md5=md5, sha256=sha256, user=user)


# --------------------------------------------------------------------------- common


def _create(deposit: Deposit, name: str, size: int) -> DepositFile:
    try:
        with transaction.atomic():
            return DepositFile.objects.create(
                deposit=deposit, uid=uuid.uuid4(), name=name, size=size
            )
    except IntegrityError:
        raise UploadRefused(
            f"Another upload of “{name}” started at the same moment: try again.", status=409
        ) from None


def _mark_ready(dfile: DepositFile, *, md5: str, sha256: str, user: Any) -> None:
    dfile.md5, dfile.sha256 = md5, sha256
    dfile.received = dfile.size
    dfile.status = FileStatus.READY
    dfile.save(update_fields=["blob", "md5", "sha256", "received", "status"])
    lifecycle.record_event(
        dfile.deposit,
        "file_added",
        user=user,
        message=f"Added {dfile.name} ({human_size(dfile.size)})",
        data={"name": dfile.name, "size": dfile.size, "md5": md5, "sha256": sha256},
    )
    lifecycle.revalidate(dfile.deposit)


def delete_file(dfile: DepositFile, *, user: Any) -> None:
    deposit = dfile.deposit
    _check_unlocked(deposit)
    _delete(dfile)
    lifecycle.record_event(deposit, "file_removed", user=user, message=f"Removed {dfile.name}")
    lifecycle.revalidate(deposit)


def _delete(dfile: DepositFile) -> None:
    if dfile.blob:
        dfile.blob.delete(save=False)
    staging_path(dfile).unlink(missing_ok=True)
    _hashes.forget(dfile.uid)
    dfile.delete()


def _hash_stream(stream: IO[bytes] | UploadedFile) -> tuple[str, str]:
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    stream.seek(0)
    while data := stream.read(READ_SIZE):
        md5.update(data)
        sha256.update(data)
    stream.seek(0)
    return md5.hexdigest(), sha256.hexdigest()


class _RunningHashes:
    """Hash state of uploads in progress in this process, keyed by file uid and offset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[uuid.UUID, tuple[int, Any, Any]] = {}

    def resume(self, uid: uuid.UUID, offset: int) -> tuple[Any, Any] | None:
        with self._lock:
            if offset == 0:
                return hashlib.md5(usedforsecurity=False), hashlib.sha256()
            state = self._state.pop(uid, None)
            if state is None or state[0] != offset:
                return None
            return state[1], state[2]

    def keep(self, uid: uuid.UUID, offset: int, hashes: tuple[Any, Any] | None) -> None:
        if hashes is not None:
            with self._lock:
                self._state[uid] = (offset, *hashes)

    def pop(self, uid: uuid.UUID, offset: int) -> tuple[Any, Any] | None:
        with self._lock:
            state = self._state.pop(uid, None)
        return (state[1], state[2]) if state and state[0] == offset else None

    def forget(self, uid: uuid.UUID) -> None:
        with self._lock:
            self._state.pop(uid, None)


_hashes = _RunningHashes()
