"""Zenodo's replies read into typed objects, and its error replies into typed errors.

What the connector in ``zenodo`` acts on: a deposition or record (``Deposition``, its
``files[]`` as ``RemoteFile``; reference/notes-zenodo.md §1.3), the reply to a bucket PUT
(``BucketObject``; checksums as in §1.7) and every shape of error body (``parse_error``,
``problems_from_errors``; §1.8). "§" below means a section of those notes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..base import (
    AuthError,
    IdentifierOut,
    NotFound,
    PermanentError,
    Problem,
    RateLimited,
    RepositoryError,
    StepResult,
    TransientError,
    ValidationFailed,
)
from . import crosswalk

# --------------------------------------------------------------------------- replies


@dataclass(frozen=True)
class RemoteFile:
    """A file of a deposition's ``files[]`` (§1.3: checksum is bare hex there)."""

    id: str
    filename: str
    filesize: int
    checksum: str  # bare md5 hex, lower case
    links: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RemoteFile:
        return cls(
            id=str(data.get("id", "")),
            filename=str(data.get("filename") or data.get("key") or ""),
            # the 2020 docs show filesize as a string (§2 quickstart)
            filesize=int(float(data.get("filesize") or data.get("size") or 0)),
            checksum=_bare_md5(str(data.get("checksum") or "")),
            links={k: v for k, v in (data.get("links") or {}).items() if isinstance(v, str)},
        )


@dataclass(frozen=True)
class Deposition:
    """The parts of a deposition (or record) reply we act on (§1.3)."""

    id: str
    state: str  # unsubmitted | inprogress | done
    submitted: bool
    doi: str
    conceptdoi: str
    links: dict[str, str]
    files: list[RemoteFile]
    notes: str
    owner: str

    @classmethod
    def from_json(cls, data: Any) -> Deposition:
        """Parse a deposition; also accepts a ``/api/records/:id`` reply (pids, status)."""
        if not isinstance(data, dict) or "id" not in data:
            raise TransientError(
                "Zenodo answered with something that is not a deposition; retrying."
            )
        metadata = data.get("metadata") or {}
        pids = data.get("pids") or {}
        parent_pids = (data.get("parent") or {}).get("pids") or {}
        doi = data.get("doi") or (pids.get("doi") or {}).get("identifier") or ""
        conceptdoi = (
            data.get("conceptdoi") or (parent_pids.get("doi") or {}).get("identifier") or ""
        )
        state = str(data.get("state") or "")
        submitted = bool(data.get("submitted"))
        if not state and data.get("status") == "published":
            state, submitted = "done", True
        files = data.get("files") or []
        if isinstance(files, dict):  # RDM records: {"entries": {...}} or {"entries": [...]}
            entries = files.get("entries") or {}
            files = list(entries.values()) if isinstance(entries, dict) else entries
        owners = data.get("owners") or []
        owner = data.get("owner") or (owners[0].get("id") if owners else "")
        return cls(
            id=str(data["id"]),
            state=state,
            submitted=submitted,
            # never metadata.prereserve_doi: wrong prefix on the sandbox (§1.10)
            doi=str(doi or ""),
            conceptdoi=str(conceptdoi or ""),
            links={k: v for k, v in (data.get("links") or {}).items() if isinstance(v, str)},
            files=[RemoteFile.from_json(f) for f in files if isinstance(f, dict)],
            notes=str(metadata.get("notes") or ""),
            owner=str(owner or ""),
        )

    @property
    def published(self) -> bool:
        """Published with its DOI set: the version DOI is final (§1.3 ``dump_state``)."""
        return self.state == "done" and bool(self.doi)

    def identifiers(self) -> list[IdentifierOut]:
        """Version DOI and concept DOI (§1.10; DOI vs concept DOI, notes §4)."""
        out = []
        if self.doi:
            out.append(IdentifierOut("doi", self.doi, f"https://doi.org/{self.doi}", "version"))
        if self.conceptdoi:
            out.append(
                IdentifierOut(
                    "doi", self.conceptdoi, f"https://doi.org/{self.conceptdoi}", "concept"
                )
            )
        return out

    def result(self, message: str, **extra: Any) -> StepResult:
        return StepResult(
            message=message,
            remote_id=self.id,
            remote_state=self.state,
            remote_links=dict(self.links),
            **extra,
        )


@dataclass(frozen=True)
class BucketObject:
    """The reply to ``PUT {bucket}/{key}`` (§1.2; checksum "md5:<hex>")."""

    key: str
    size: int
    checksum: str  # bare md5 hex
    version_id: str

    @classmethod
    def from_json(cls, data: Any) -> BucketObject:
        if not isinstance(data, dict) or "key" not in data:
            raise TransientError("Zenodo's upload reply carried no file key; retrying.")
        return cls(
            key=str(data["key"]),
            size=int(data.get("size") or 0),
            checksum=_bare_md5(str(data.get("checksum") or "")),
            version_id=str(data.get("version_id") or ""),
        )


def _bare_md5(checksum: str) -> str:
    checksum = checksum.strip().lower()
    return checksum[4:] if checksum.startswith("md5:") else checksum


# --------------------------------------------------------------------------- errors

_HTML = re.compile(rb"^\s*(<!doctype|<html|<head|<body|<\?xml|<center|<h1)", re.IGNORECASE)


def _messages(item: dict[str, Any]) -> list[str]:
    messages = item.get("messages")
    if isinstance(messages, list):
        return [str(m) for m in messages if m]
    if isinstance(messages, dict):  # marshmallow nested: {"0": ["..."]}
        return [str(m) for ms in messages.values() for m in (ms if isinstance(ms, list) else [ms])]
    if item.get("message"):
        return [str(item["message"])]
    return []


def problems_from_errors(errors: Any) -> list[Problem]:
    """Problems on neutral fields from Zenodo's ``errors`` (§1.8: ``messages`` list in
    RDM, ``message`` string in the documented legacy shape, or ``errors`` a string)."""
    if isinstance(errors, str):
        return [Problem("", errors, source="zenodo", repository="zenodo")] if errors else []
    if isinstance(errors, dict):
        errors = [
            {"field": k, "messages": v if isinstance(v, list) else [v]} for k, v in errors.items()
        ]
    problems = []
    for item in errors if isinstance(errors, list) else []:
        if not isinstance(item, dict):
            problems.append(Problem("", str(item), source="zenodo", repository="zenodo"))
            continue
        target = crosswalk.neutral_field(str(item.get("field") or ""))
        for message in _messages(item):
            problems.append(Problem(target, message, source="zenodo", repository="zenodo"))
    return problems


def parse_error(status: int, body: bytes, content_type: str) -> RepositoryError:
    """Turn any Zenodo error reply into a typed error (API document "Errors"; §1.8).

    Accepts the RDM shape ``errors[{field, messages[]}]``, the documented
    ``errors[{field, message}]``, ``errors`` as a string, ``message`` only, 5xx with
    ``error_id``, nginx HTML pages for 502/503/504 and empty or garbage bodies.
    """
    data: Any = None
    html = bool(_HTML.match(body or b"")) or "html" in (content_type or "").lower()
    if not html and body:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
    data = data if isinstance(data, dict) else {}
    message = str(data.get("message") or "").strip()
    problems = problems_from_errors(data.get("errors"))

    if status >= 500:
        return _server_error(status, data, message, html=html)
    said = message or "; ".join(p.message for p in problems) or "no details given"
    if status == 400:
        return _rejected(status, problems, said)
    if status in (401, 403):
        return _refused(status, said)
    if status in (404, 410):
        gone = "was deleted" if status == 410 else "was not found"
        return NotFound(f"The Zenodo record {gone} ({said}).", status=status)
    if status in (409, 412, 423):
        return TransientError(
            f"Zenodo is still busy with this record ({status}: {said}); retrying.",
            status=status,
            problems=problems,
        )
    if status == 429:
        return RateLimited(
            f"Zenodo's rate limit was reached ({said}); waiting for the budget to return.",
            status=status,
        )
    if status in (413, 415):
        return _body_refused(status, said)
    return PermanentError(f"Zenodo answered {status}: {said}", status=status, problems=problems)


def _server_error(status: int, data: dict[str, Any], message: str, *, html: bool) -> TransientError:
    """A 5xx: a gateway's page, or Zenodo's own error with its id; retried either way."""
    if html or not data:
        kind = {502: "bad gateway page", 503: "unavailable page", 504: "timeout page"}
        what = kind.get(status, "error page") if html else "no readable reply"
        return TransientError(
            f"Zenodo's gateway answered {status} ({what}); retrying.", status=status
        )
    error_id = data.get("error_id")
    detail = f", error id {error_id}" if error_id else ""
    said = f": {message}" if message else ""
    return TransientError(
        f"Zenodo had a server error ({status}{detail}){said}; retrying.", status=status
    )


def _rejected(status: int, problems: list[Problem], said: str) -> ValidationFailed:
    """A 400: the metadata Zenodo rejected, named by its first problem."""
    if not problems:
        problems = [Problem("", said, source="zenodo", repository="zenodo")]
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    where = f" in {first.field}" if first.field else ""
    return ValidationFailed(
        f"Zenodo rejected the deposit{where}: {first.message}{more}",
        status=status,
        problems=problems,
    )


def _refused(status: int, said: str) -> PermanentError:
    """A 401 or 403: a published record's files are locked, or the token is not good."""
    lowered = said.lower()
    if status == 403 and ("locked" in lowered or "invalid action" in lowered):
        return PermanentError(
            f"Zenodo refused the change ({said}); a published record's files cannot "
            "change: start a new version instead.",
            status=status,
        )
    return AuthError(
        "Zenodo refused the token: it may have expired or lack deposit:write and "
        f"deposit:actions scopes; relink the account. (Zenodo said: {said})",
        status=status,
    )


def _body_refused(status: int, said: str) -> PermanentError:
    """A 413 or 415: the request's body is too large, or of a type Zenodo does not take."""
    if status == 413:
        return PermanentError(
            "Zenodo refused the upload as too large (413): a file may be at most 50 GB "
            "and a record 50 GB in all. Split or compress the data, or ask Zenodo support "
            "for a quota increase.",
            status=status,
        )
    return PermanentError(
        f"Zenodo refused the request's content type (415: {said}). This is a bug in "
        "the portal; report it.",
        status=status,
    )
