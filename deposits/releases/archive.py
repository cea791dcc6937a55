"""A release's archive: downloaded by a worker, checked, and read without extracting it.

The download streams to a temporary file (memory stays flat whatever the size) and hashes
the bytes as they arrive (MD5 and SHA-256, as browser uploads are). Every hop's host must
be on ``ALLOWED_FORGE_HOSTS``: redirects are followed here, one at a time, at most
``MAX_REDIRECTS``. The source's forge token goes only to the origin of its API root, never
to the host a redirect names (GitHub's ``codeload``, a CDN). The size is capped by
``RELEASE_ARCHIVE_MAX_BYTES``, by the declared length first and again while reading, and
the whole download has a deadline.

Errors are typed: ``ArchiveError.permanent`` says whether trying again can help (a
timeout, a 5xx or a 429 can; a 404, an archive too large, a host off the allowlist or a
file that is no zip cannot).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings

from deposits.models import DEFAULT_API_URLS, Forge, ReleaseSource
from deposits.repositories.http import host_allowed, origin
from deposits.sizes import human_size

from .citation import CITATION_FILES

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
READ_SIZE = 256 * 1024
REDIRECTS = {301, 302, 303, 307, 308}
# A citation file larger than this is not read (a zip bomb cannot make it larger).
CITATION_MAX_BYTES = 1_000_000
# How each forge takes a token.
AUTH_HEADERS = {
    Forge.GITHUB: ("Authorization", "Bearer {token}"),
    Forge.GITLAB: ("PRIVATE-TOKEN", "{token}"),
}


def deadline_seconds() -> float:
    """How long one download may take, whatever its size (the sweep waits this long
    before it takes up an import whose worker went silent)."""
    return float(settings.RELEASE_ARCHIVE_DEADLINE_SECONDS)


class ArchiveError(Exception):
    """The archive could not be had or read; ``message`` says what happened and what to do."""

    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass
class Downloaded:
    path: Path
    size: int
    md5: str
    sha256: str


@dataclass
class Contents:
    """What was read from the archive: the citation files found, and what was wrong."""

    files: dict[str, bytes] = field(default_factory=dict)
    top: str = ""  # the single top folder ("owner-repo-abc1234"), or ""
    problems: list[dict[str, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- download


def token_origin(source: ReleaseSource) -> tuple[str, str, int | None]:
    return origin(source.api_url or DEFAULT_API_URLS[Forge(source.forge)])


def _headers(url: str, source: ReleaseSource) -> dict[str, str]:
    headers = {"User-Agent": settings.HTTP_USER_AGENT, "Accept": "application/zip, */*"}
    token = source.token if source.token_encrypted else ""
    if token and origin(url) == token_origin(source):
        name, template = AUTH_HEADERS[Forge(source.forge)]
        headers[name] = template.format(token=token)
    return headers


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


@contextmanager
def download(url: str, source: ReleaseSource) -> Iterator[Downloaded]:
    """The archive at ``url`` in a temporary file (removed on leaving), with its hashes."""
    staging = Path(settings.UPLOAD_STAGING_DIR)
    staging.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=staging, prefix="release-", suffix=".zip")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            got = _fetch(url, source, out)
        yield Downloaded(path, *got)
    finally:  # the storage may have moved it into place already
        path.unlink(missing_ok=True)


def _fetch(url: str, source: ReleaseSource, out: IO[bytes]) -> tuple[int, str, str]:
    ends = time.monotonic() + deadline_seconds()
    session = requests.Session()
    session.trust_env = False  # no proxy or .netrc credential from the environment
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            if not host_allowed(url, settings.ALLOWED_FORGE_HOSTS):
                raise ArchiveError(
                    f"The archive's address is on {_host(url)}, which is not an allowed forge "
                    "host (ALLOWED_FORGE_HOSTS): nothing was downloaded from it. If that host "
                    "is right, ask your administrator to add it.",
                    permanent=True,
                )
            reply = _get(session, url, source, ends)
            if reply.status_code in REDIRECTS and reply.headers.get("Location"):
                url = urljoin(url, reply.headers["Location"])
                reply.close()
                continue
            with reply:
                _check_status(reply, url)
                return _stream(reply, out, ends)
        raise ArchiveError(
            f"The archive's address redirected more than {MAX_REDIRECTS} times: the forge "
            "sent it in a loop. Try Replay later.",
            permanent=True,
        )
    finally:
        session.close()


def _remaining(ends: float) -> float:
    left = ends - time.monotonic()
    if left <= 0:
        raise ArchiveError(
            f"The download took longer than its {deadline_seconds():.0f} s deadline: it is "
            "tried again later.",
            permanent=False,
        )
    return left


def _get(
    session: requests.Session, url: str, source: ReleaseSource, ends: float
) -> requests.Response:
    left = _remaining(ends)
    timeout = (min(settings.HTTP_CONNECT_TIMEOUT, left), min(settings.HTTP_READ_TIMEOUT, left))
    try:
        return session.get(
            url, headers=_headers(url, source), stream=True, allow_redirects=False, timeout=timeout
        )
    except requests.Timeout:
        raise ArchiveError(
            f"{_host(url)} did not answer in time: the download is tried again later.",
            permanent=False,
        ) from None
    except requests.RequestException as exc:
        raise ArchiveError(
            f"{_host(url)} could not be reached ({type(exc).__name__}): the download is "
            "tried again later.",
            permanent=False,
        ) from None


def _retry_after(reply: requests.Response) -> float | None:
    try:
        return max(0.0, float(reply.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _check_status(reply: requests.Response, url: str) -> None:
    status, host = reply.status_code, _host(url)
    if status == 200:
        return
    if status == 429 or status >= 500:
        raise ArchiveError(
            f"{host} answered HTTP {status} for the archive: it is tried again later.",
            permanent=False,
            retry_after=_retry_after(reply),
        )
    if status in (404, 410):
        raise ArchiveError(
            f"The archive is gone ({host} answered HTTP {status}): the release or its tag "
            "was deleted on the forge, or the repository is private and the source has no "
            "working forge token. Nothing was imported.",
            permanent=True,
        )
    if status in (401, 403):
        raise ArchiveError(
            f"{host} refused the download (HTTP {status}): the source's forge token is "
            "missing or no longer works. Relink the source with a new token, then Replay.",
            permanent=True,
        )
    raise ArchiveError(
        f"{host} answered HTTP {status} for the archive; nothing was imported.", permanent=True
    )


def _too_large(size: int | None) -> ArchiveError:
    limit = settings.RELEASE_ARCHIVE_MAX_BYTES
    what = f"is {human_size(size)}" if size is not None else "is larger than that"
    return ArchiveError(
        f"The archive {what}, above the {human_size(limit)} limit "
        "(RELEASE_ARCHIVE_MAX_BYTES): nothing was imported. Make the release smaller, or "
        "ask your administrator to raise the limit.",
        permanent=True,
    )


def _stream(reply: requests.Response, out: IO[bytes], ends: float) -> tuple[int, str, str]:
    limit = settings.RELEASE_ARCHIVE_MAX_BYTES
    declared = reply.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared))
    md5, sha256, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    try:
        for chunk in reply.iter_content(READ_SIZE):
            size += len(chunk)
            if size > limit:
                raise _too_large(None)
            md5.update(chunk)
            sha256.update(chunk)
            out.write(chunk)
            _remaining(ends)
    except requests.RequestException as exc:
        raise ArchiveError(
            f"The download broke off after {human_size(size)} ({type(exc).__name__}): it "
            "is tried again later.",
            permanent=False,
        ) from None
    return size, md5.hexdigest(), sha256.hexdigest()


# --------------------------------------------------------------------------- reading


def _safe(name: str) -> PurePosixPath | None:
    """A member's path, or None when it could point outside the archive's folder."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return path


def read_contents(path: Path) -> Contents:
    """The citation files at the top of the archive's single top folder (or its root).

    Nothing is extracted to disk. Members whose path climbs out (``..``) or is absolute
    are ignored, and each citation file is read only up to ``CITATION_MAX_BYTES``,
    however much its header claims or its compressed bytes would expand to.
    """
    if not zipfile.is_zipfile(path):
        raise ArchiveError(
            "The release archive is not a zip file: the forge sent something else. "
            "Nothing was imported.",
            permanent=True,
        )
    contents = Contents()
    try:
        with zipfile.ZipFile(path) as archive:
            members = {}
            for info in archive.infolist():
                safe = _safe(info.filename)
                if safe is None:
                    contents.problems.append(
                        {"field": "archive", "message": f"Ignored “{info.filename}”: its path "
                         "points outside the archive's folder."}
                    )  # fmt: skip
                elif not info.is_dir():
                    members[safe] = info
            tops = {p.parts[0] for p in members if len(p.parts) > 1}
            loose = [p for p in members if len(p.parts) == 1]
            contents.top = tops.pop() if len(tops) == 1 and not loose else ""
            for name in CITATION_FILES:
                wanted = PurePosixPath(contents.top, name) if contents.top else PurePosixPath(name)
                found = members.get(wanted)
                if found is not None:
                    _read_member(archive, found, name, contents)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError) as exc:
        raise ArchiveError(
            f"The release archive cannot be read as a zip ({exc}). Nothing was imported.",
            permanent=True,
        ) from None
    return contents


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, contents: Contents
) -> None:
    if info.file_size > CITATION_MAX_BYTES:
        contents.problems.append(_oversized(name))
        return
    with archive.open(info) as member:
        data = member.read(CITATION_MAX_BYTES + 1)
    if len(data) > CITATION_MAX_BYTES:
        contents.problems.append(_oversized(name))
        return
    contents.files[name] = data


def _oversized(name: str) -> dict[str, str]:
    return {
        "field": name,
        "message": f"{name} is larger than {human_size(CITATION_MAX_BYTES)}: it was not read. "
        "Keep the citation file small (it holds metadata only).",
    }
