"""File bytes on disk, written in chunks while the MD5 is computed (notes §1.7).

Bytes live at ``<root>/<bucket uuid>/<version uuid>``: never under the client's file name,
so a key cannot escape the root. The root is ``settings.SANDBOX_ZENODO_ROOT`` when set,
else ``VAR_DIR/sandbox-zenodo``, apart from the portal's own media.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class Received:
    size: int
    md5: str


def storage_root() -> Path:
    root = getattr(settings, "SANDBOX_ZENODO_ROOT", None)
    return Path(root) if root else Path(settings.VAR_DIR) / "sandbox-zenodo"


def blob_path(bucket: uuid.UUID, version_id: uuid.UUID) -> Path:
    return storage_root() / str(bucket) / str(version_id)


def receive(read: Callable[[int], bytes], limit: int | None, target: Path) -> Received:
    """Copy up to ``limit`` bytes from ``read`` into ``target``, one chunk at a time.

    Memory stays flat whatever the size; a short body (the client gave up) leaves a
    shorter file and the caller compares sizes. The bytes land in a temporary name first,
    so a reader never sees half a file under the final name.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    try:
        with partial.open("wb") as out:
            while limit is None or size < limit:
                want = CHUNK_SIZE if limit is None else min(CHUNK_SIZE, limit - size)
                chunk = read(want)
                if not chunk:
                    break
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Received(size=size, md5=digest.hexdigest())


def discard(read: Callable[[int], bytes], amount: int) -> int:
    """Read and drop ``amount`` bytes (or until the body ends); return how many were read."""
    done = 0
    while done < amount:
        chunk = read(min(CHUNK_SIZE, amount - done))
        if not chunk:
            break
        done += len(chunk)
    return done


def copy_blob(source: Path, target: Path) -> None:
    """A new version's copy of a file: a hard link when possible, the bytes never change."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def delete_blob(path: Path) -> None:
    path.unlink(missing_ok=True)


def delete_bucket(bucket: uuid.UUID) -> None:
    shutil.rmtree(storage_root() / str(bucket), ignore_errors=True)
