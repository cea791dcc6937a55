"""File bytes on disk under ``VAR_DIR/sandbox-datameta``, received without buffering.

Django's default upload handlers keep small parts in memory and copy big ones through a
temporary file. The sandbox instead streams the multipart part named ``file`` (notes §19)
straight to ``<uuid>.part`` in 64 KiB chunks, hashing as it goes, and renames it over the
file's bytes when the part is complete: memory stays flat whatever the size, and a
re-upload before confirmation replaces the previous bytes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers

CHUNK = 64 * 1024


class ReceivedFile(UploadedFile):
    """What the streaming handler leaves in ``request.FILES``: only size and MD5."""

    def __init__(self, name: str, size: int, md5: str) -> None:
        super().__init__(file=None, name=name, size=size)
        self.md5 = md5


class StreamToDisk(FileUploadHandler):
    """Writes the ``file`` part to ``target`` while computing its MD5; drops other parts."""

    chunk_size = CHUNK

    def __init__(self, target: Path) -> None:
        super().__init__()
        self.target = target
        self.partial = target.with_name(target.name + ".part")
        self.handle: Any = None
        self.md5 = hashlib.md5()  # noqa: S324 -- DataMeta's checksum is MD5 (notes §17)
        self.size = 0

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        if field_name == "file" and self.handle is None:
            self.handle = self.partial.open("wb")
            raise StopFutureHandlers

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self.field_name == "file" and self.handle is not None and not self.handle.closed:
            self.handle.write(raw_data)
            self.md5.update(raw_data)
            self.size += len(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.field_name != "file" or self.handle is None or self.handle.closed:
            return None
        self.handle.close()
        os.replace(self.partial, self.target)
        return ReceivedFile(self.file_name or "file", self.size, self.md5.hexdigest())

    def upload_interrupted(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.partial.unlink(missing_ok=True)


def create_empty(path: Path) -> None:
    """The announce already creates an empty object (notes §20: no "No data uploaded")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".part").unlink(missing_ok=True)
