"""DataMeta staging of files: announce, upload, confirm, and the 409 on a mismatch.

Each file the sample rows name is announced (``POST /files``, #31), its bytes uploaded
to the ``urlToUpload`` the server hands out as a streamed multipart body, and then
confirmed (``PUT /files/{id}``, #37, #38), one remote write per call; a staged file that
changed or is no longer named is deleted (``POST /rpc/delete-files``). A confirmation
refused with 409 means DataMeta computed another MD5 (§20, #46). References are to
reference/notes-datameta.md ("§" = one of its numbered findings, "#n" = exchange n of
datameta-exchanges.md). What is recorded of each file in ``remote_data`` is described in
``staging``.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit, urlunsplit

from deposits import secrets as token_box

from ..base import (
    ChecksumMismatch,
    FileJob,
    FileState,
    FileUpdate,
    Job,
    NotFound,
    PermanentError,
    ProgressFn,
    StepResult,
    TransientError,
)
from .staging import (
    data_of,
    delete_staged,
    file_reset,
    ids_of,
    referenced_files,
    staged_result,
)

if TYPE_CHECKING:
    from ..http import HttpClient

# Confirmations refused with 409 although we sent the announced bytes, before giving up.
MAX_MISMATCHES = 3


# --------------------------------------------------------------------------- upload body


class MultipartBody:
    """``multipart/form-data`` with one part named ``file`` (§19), streamed.

    Yields the part's head, the file in chunks and the closing boundary without ever
    holding the file; ``size`` is known up front for Content-Length, and the MD5 of the
    file bytes is computed on the way (compared with the announced checksum).
    """

    def __init__(self, fileobj: IO[bytes], filename: str, size: int) -> None:
        self.boundary = secrets.token_hex(16)
        safe = re.sub(r'[\r\n"]', "_", filename)
        self.head = (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{safe}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.size = len(self.head) + size + len(self.tail)
        self.fileobj = fileobj
        self.md5 = hashlib.md5()  # noqa: S324 (DataMeta's checksum is MD5, §17)
        self._pending = [self.head]
        self._file_done = False
        self._tail_sent = False

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def read(self, amount: int = -1) -> bytes:
        if self._pending:
            return self._pending.pop(0)
        if not self._file_done:
            chunk = self.fileobj.read(amount if amount and amount > 0 else 1024 * 1024)
            if chunk:
                self.md5.update(chunk)
                return chunk
            self._file_done = True
        if not self._tail_sent:
            self._tail_sent = True
            return self.tail
        return b""


# --------------------------------------------------------------------------- sync


@dataclass
class StagedFiles:
    """The files one sync keeps in line: the API it talks to, the job, and the ``files``
    record of ``remote_data`` (changed in place, and returned whole with each result)."""

    client: HttpClient
    root: str
    job: Job
    data: dict[str, Any]
    entries: dict[str, dict[str, Any]]

    def delete(self, ids: list[str]) -> None:
        delete_staged(self.client, self.root, "files", ids)

    def result(
        self,
        message: str,
        *,
        file_updates: dict[str, FileUpdate] | None = None,
        files_removed: list[str] | None = None,
    ) -> StepResult:
        return staged_result(
            self.job,
            self.data,
            files=self.entries,
            message=message,
            file_updates=file_updates,
            files_removed=files_removed,
        )


def sync_files(client: HttpClient, root: str, job: Job, progress: ProgressFn) -> StepResult | None:
    data = data_of(job)
    staged = StagedFiles(client, root, job, data, dict(data.get("files") or {}))
    entries = staged.entries
    wanted = referenced_files(job)
    local = {f.name: f for f in job.live_files()}
    stale = [
        name
        for name, e in entries.items()
        if name not in local or name not in wanted or e.get("md5") != local[name].md5.lower()
    ]
    if stale:
        staged.delete([entries[n]["uuid"] for n in stale])
        for name in stale:
            entries.pop(name)
        return staged.result(
            f"Removed {len(stale)} staged file(s) that changed or are no longer "
            "named in the table.",
            file_updates={n: file_reset() for n in stale if n in local},
            files_removed=[n for n in stale if n not in local],
        )
    for f in job.files:
        if f.name not in wanted or f.status == FileState.DELETE:
            continue
        entry = entries.get(f.name)
        if entry is None:
            return _announce(staged, f)
        if entry.get("state") != "done":
            return _send(staged, f, progress)
    return None


def _announce(staged: StagedFiles, f: FileJob) -> StepResult:
    """``POST /files`` with the MD5 in lower-case hex (§17; #31). The upload URL's
    one-file Access-Token is kept encrypted until the upload is confirmed."""
    client, root = staged.client, staged.root
    md5 = f.md5.lower()
    reply = client.json(
        client.request("POST", f"{root}/files", json={"name": f.name, "checksum": md5})
    )
    headers = reply.get("requestHeaders") if isinstance(reply, dict) else None
    url = str(reply.get("urlToUpload") or "") if isinstance(reply, dict) else ""
    ids = ids_of(reply)
    staged.entries[f.name] = {
        **ids,
        "md5": md5,
        "state": "announced",
        "upload_url": _upgrade_scheme(url, root),
        "upload_headers": token_box.encrypt(json.dumps(headers or {})),
    }
    return staged.result(
        f"Announced {f.name} as {ids['site'] or ids['uuid']}.",
        file_updates={f.name: FileUpdate(status=FileState.UPLOADING, remote_id=ids["uuid"])},
    )


def _send(staged: StagedFiles, f: FileJob, progress: ProgressFn) -> StepResult:
    """Upload the bytes to ``urlToUpload`` and confirm them (§19, §20).

    Re-running is safe: an upload before the confirmation overwrites (§19); one
    after it answers 409 (#40), and then the file is read back to see it is ours.
    """
    client, root = staged.client, staged.root
    entry = dict(staged.entries[f.name])
    headers: dict[str, Any] = json.loads(token_box.decrypt(entry.get("upload_headers", "")) or "{}")
    with f.open() as fileobj:
        body = MultipartBody(fileobj, f.name, f.size)
        # §19: the upload needs the Access-Token, not our key; the URL may even be
        # another storage server, which must never see the key.
        headers["Content-Type"] = body.content_type
        skip = len(body.head)
        try:
            response = client.upload(
                "POST",
                entry["upload_url"],
                fileobj=cast(IO[bytes], body),
                size=body.size,
                headers=headers,
                progress=lambda sent: progress(f.name, max(0, min(f.size, sent - skip))),
                auth=False,
            )
        except NotFound:
            # §19: a wrong or expired Access-Token answers 404; announce it anew
            staged.delete([entry["uuid"]])
            staged.entries.pop(f.name)
            return staged.result(
                f"The upload link of {f.name} expired; announcing it again.",
                file_updates={f.name: file_reset()},
            )
        except ChecksumMismatch:
            return _already_confirmed(staged, f)
    if response.status_code not in (200, 201, 204):
        raise PermanentError(
            f"DataMeta's upload URL for {f.name} answered {response.status_code} instead "
            "of 204; the server may hand out http links behind https (notes §18). Tell "
            "the site's administrators."
        )
    sent_md5 = body.md5.hexdigest()
    try:
        reply = client.json(
            client.request("PUT", f"{root}/files/{entry['uuid']}", json={"contentUploaded": True})
        )
    except ChecksumMismatch:
        if sent_md5 != entry["md5"]:
            # DataMeta is right: the bytes we hold are not the ones hashed on arrival
            raise PermanentError(
                f"DataMeta refused {f.name}: the portal's stored copy no longer matches the "
                f"MD5 recorded when it was uploaded ({entry['md5']}, now {sent_md5}). "
                "Upload the file to the deposit again, then press Retry."
            ) from None
        return _mismatch(staged, f)
    except PermanentError as exc:
        if exc.status == 403:  # §20: confirmed already by a run whose reply was lost
            return _already_confirmed(staged, f)
        raise
    return _confirmed(staged, f, str(reply.get("checksum") or entry["md5"]))


def _mismatch(staged: StagedFiles, f: FileJob) -> StepResult:
    """409 on confirming (§20, #46): DataMeta computed another MD5 than the one we
    announced and sent. The file is still staged and takes a new upload; after
    MAX_MISMATCHES the staged copy is deleted and the target fails."""
    entry = staged.entries[f.name]
    count = int(entry.get("mismatches") or 0) + 1
    if count >= MAX_MISMATCHES:
        staged.delete([entry["uuid"]])
        raise PermanentError(
            f"DataMeta computed a different MD5 for {f.name} than the bytes we sent "
            f"({entry['md5']}), {count} times in a row. Nothing was submitted and the "
            "staged copy was deleted; press Retry, and if it happens again tell the "
            "site's administrators."
        )
    staged.entries[f.name] = {**entry, "mismatches": count}
    return staged.result(
        f"DataMeta received different bytes for {f.name} than we sent (MD5 "
        "mismatch); sending it again.",
        file_updates={f.name: FileUpdate(status=FileState.UPLOADING, bytes_sent=0)},
    )


def _already_confirmed(staged: StagedFiles, f: FileJob) -> StepResult:
    """The file was confirmed by an attempt whose reply was lost: read it back (#41)."""
    entry = staged.entries[f.name]
    remote = staged.client.json(
        staged.client.request("GET", f"{staged.root}/files/{entry['uuid']}")
    )
    checksum = str(remote.get("checksum") or "").lower() if isinstance(remote, dict) else ""
    if not (isinstance(remote, dict) and remote.get("contentUploaded")) or checksum != entry["md5"]:
        raise TransientError(f"DataMeta has not settled {f.name} yet; checking again.")
    return _confirmed(staged, f, checksum)


def _confirmed(staged: StagedFiles, f: FileJob, checksum: str) -> StepResult:
    entries = staged.entries
    entry = {k: v for k, v in entries[f.name].items() if k not in ("upload_headers", "upload_url")}
    entries[f.name] = {**entry, "state": "done"}
    return staged.result(
        f"Uploaded and confirmed {f.name}.",
        file_updates={
            f.name: FileUpdate.done(entry["uuid"], f"md5:{checksum.lower()}", bytes_sent=f.size)
        },
    )


def _upgrade_scheme(url: str, root: str) -> str:
    """An http upload URL on the API's own https host, as https (§18: the server builds
    it from the Host header and ignores X-Forwarded-Proto, so behind an https proxy it
    says http; the Access-Token must not travel in clear)."""
    parts, api = urlsplit(url), urlsplit(root)
    if parts.scheme == "http" and api.scheme == "https" and parts.hostname == api.hostname:
        return urlunsplit(("https", api.netloc, parts.path, parts.query, parts.fragment))
    return url


def left_out(job: Job) -> dict[str, FileUpdate]:
    """The deposit's files that no row names stay unsent (``rules.left_out_files``).

    The lifecycle marks the next pending file as uploading before each upload call,
    whichever file this repository takes; a file left out was not sent, so it is put
    back as pending each time.
    """
    wanted = referenced_files(job)
    return {
        f.name: FileUpdate(status=FileState.PENDING, bytes_sent=0)
        for f in job.live_files()
        if f.name not in wanted
    }


def reset_all(job: Job) -> dict[str, FileUpdate]:
    """Every file of the deposit to be sent again (a new submission stages anew)."""
    return {f.name: FileUpdate.reset() for f in job.live_files()}
