"""A stored file is checked against the checksums taken at upload before it is sent.

Each file's MD5 and SHA-256 are computed as it is received, and connectors announce
that MD5 to the repository. If the stored bytes changed since (a disk or storage fault,
a partial overwrite, an edit behind the portal's back), the repository is sent bytes
that do not match what we announce: it refuses them, or holds a copy nobody asked for,
and the failure looks like the repository's and is retried in vain. So the opener a
connector is handed re-reads the stored copy first and refuses with ``DamagedCopy``, a
permanent error (no retry can repair it; a person uploads the file again), before a
single byte goes out.

The cost is one extra read of each file from storage before it is sent (with S3, one
extra download), streamed in chunks so memory stays flat whatever the size; MD5 and the
size are enough to tell the bytes changed, so SHA-256 is not computed again.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from typing import IO, cast

from django.conf import settings

from deposits.models import DepositFile
from deposits.repositories.errors import DamagedCopy
from deposits.sizes import human_size

READ_SIZE = 1024 * 1024

log = logging.getLogger(__name__)


def verified_opener(dfile: DepositFile) -> Callable[[], IO[bytes]]:
    """What ``FileJob.open`` calls: the stored copy, opened only once it is verified."""

    def open_verified() -> IO[bytes]:
        return open_checked(dfile)

    return open_verified


def open_checked(dfile: DepositFile) -> IO[bytes]:
    """The stored copy, read through once and rewound; ``DamagedCopy`` if its bytes are
    gone or no longer those hashed on arrival."""
    try:
        fileobj = _open_stored(dfile)
    except (FileNotFoundError, ValueError):  # ValueError: no file was ever stored
        log.error("stored copy of file %s (deposit %s) is missing", dfile.uid, dfile.deposit_id)
        raise DamagedCopy(_missing(dfile)) from None
    try:
        size, md5 = _measure(fileobj)
        if size != dfile.size or md5 != dfile.md5.lower():
            log.error(
                "stored copy of file %s (deposit %s) no longer matches its upload: "
                "%s bytes, MD5 %s; recorded %s bytes, MD5 %s",
                dfile.uid,
                dfile.deposit_id,
                size,
                md5,
                dfile.size,
                dfile.md5,
            )
            raise DamagedCopy(_damaged(dfile, size=size, md5=md5))
        fileobj.seek(0)
    except BaseException:
        fileobj.close()
        raise
    return fileobj


def _open_stored(dfile: DepositFile) -> IO[bytes]:
    """The stored copy, read from the start. An S3 object is downloaded, streamed, into
    an anonymous temporary file on disk: django-storages' ``S3File`` would download it
    into a ``SpooledTemporaryFile`` of ``max_memory_size`` bytes, 0 by default, which
    never rolls over to disk, so the whole object would sit in the worker's memory."""
    dfile.blob.open("rb")
    stored = dfile.blob.file
    remote = getattr(stored, "obj", None)  # an S3File: nothing downloaded yet
    if remote is None:
        return cast(IO[bytes], dfile.blob)
    spool = tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR)  # noqa: SIM115
    try:
        body = remote.get()["Body"]  # one GET, read piece by piece (boto3's threaded
        for piece in body.iter_chunks(READ_SIZE):  # download buffers tens of MB)
            spool.write(piece)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    finally:
        dfile.blob.close()
    return spool


def _measure(fileobj: IO[bytes]) -> tuple[int, str]:
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    while data := fileobj.read(READ_SIZE):
        md5.update(data)
        size += len(data)
    return size, md5.hexdigest()


def _damaged(dfile: DepositFile, *, size: int, md5: str) -> str:
    if size != dfile.size:
        was, now = human_size(dfile.size), human_size(size)
        if was == now:  # a few bytes apart: the counts say it
            was, now = f"{dfile.size} bytes", f"{size} bytes"
        what = f"{was} when uploaded, {now} now"
    else:
        what = f"MD5 {dfile.md5} when uploaded, {md5} now"
    return (
        f"The portal's copy of “{dfile.name}” is damaged: its bytes no longer match the "
        f"checksum taken when it was uploaded ({what}). Nothing was sent. Remove the file "
        "from this deposit and upload it again, then retry."
    )


def _missing(dfile: DepositFile) -> str:
    return (
        f"The portal's copy of “{dfile.name}” is missing from its storage. Nothing was "
        "sent. Remove the file from this deposit and upload it again, then retry."
    )
