"""DataMeta's error replies, in every shape a real server sends, as typed errors.

A real DataMeta 1.1.1 answers errors as a JSON list of ``{exception, message, field?,
entity?}`` items, but also as a JSON object (Pyramid's 401), an HTML page (404s, some 403s,
proxies), a literal ``null`` (uploads, 409, some 404s), ``[]`` (some 403s) or plain text
(waitress 500s): reference/notes-datameta.md §1, §7-§9, §13, §19-§21 ("§" = a numbered
finding of the notes; "#n" = exchange n of datameta-exchanges.md).

``parse_error`` knows nothing of the job, so it keeps the items as they came
(``DataMetaRejected.items``); the step that made the request maps them to rows and
columns of the sample sheet.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..base import (
    AuthError,
    ChecksumMismatch,
    NotFound,
    PermanentError,
    Problem,
    RateLimited,
    RepositoryError,
    TransientError,
    ValidationFailed,
)

LABEL = "DataMeta"
_HTML = re.compile(rb"^\s*(<!doctype|<html|<head|<body|<\?xml|<center|<h1)", re.IGNORECASE)


@dataclass(frozen=True)
class ErrorItem:
    """One item of an error list (§7: ``error_code`` is never sent)."""

    exception: str
    message: str
    field: str = ""  # a metadatum name, a request property, or "" (§9: may be "a/b/c")
    entity: str = ""  # the uuid (or echoed id) of the metadataset or file concerned

    @classmethod
    def from_json(cls, data: Any) -> ErrorItem:
        if not isinstance(data, dict):
            return cls("", str(data))
        entity = data.get("entity") or {}
        if isinstance(entity, dict):
            entity = entity.get("uuid") or entity.get("site") or ""
        field = str(data.get("field") or "")
        if "/" in field:
            # §9: the OpenAPI layer joins all required properties; the message names the one
            field = ""
        return cls(
            exception=str(data.get("exception") or ""),
            message=str(data.get("message") or "").strip(),
            field=field,
            entity=str(entity or ""),
        )


class DataMetaRejected(ValidationFailed):
    """A 400 with an error list: ``items`` as DataMeta sent them, for the step to place."""

    def __init__(self, message: str, *, items: list[ErrorItem], status: int = 400) -> None:
        problems = [
            Problem(
                "options.metadatasets",
                f"{i.field}: {i.message}" if i.field else i.message,
                source="datameta",
                repository="datameta",
            )
            for i in items
        ]
        super().__init__(message, status=status, problems=problems)
        self.items = items


def _body(body: bytes, content_type: str) -> tuple[Any, bool]:
    """(parsed JSON or None, whether it was HTML)."""
    if _HTML.match(body or b"") or "html" in (content_type or "").lower():
        return None, True
    try:
        return json.loads(body or b"null"), False
    except (ValueError, UnicodeDecodeError):
        return None, False


def _summary(items: list[ErrorItem]) -> str:
    said = "; ".join(f"{i.field}: {i.message}" if i.field else i.message for i in items[:3])
    more = f" (and {len(items) - 3} more)" if len(items) > 3 else ""
    return f"{said}{more}" if said else "no details given"


# The replies whose meaning is their status alone, whatever their body says.
_BY_STATUS: dict[int, tuple[type[RepositoryError], str]] = {
    404: (
        NotFound,
        "DataMeta does not know this item (404): it was deleted, expired, or never existed.",
    ),
    # #46, #50, #53, #55: the bytes DataMeta holds do not match the announced MD5;
    # #40: an upload to a file that is already confirmed. The step knows which.
    409: (ChecksumMismatch, "DataMeta holds different bytes than the checksum announced (409)."),
    413: (
        PermanentError,
        "DataMeta (or its proxy) refused the upload as too large (413). Ask the site's "
        "administrators about their size limit.",
    ),
    429: (RateLimited, "DataMeta (or its proxy) asked us to slow down (429); waiting."),
}


def parse_error(status: int, body: bytes, content_type: str) -> RepositoryError:
    """Any DataMeta error reply as a typed error with a message a person can act on."""
    data, html = _body(body, content_type)
    items = [ErrorItem.from_json(i) for i in data] if isinstance(data, list) else []
    message = str(data.get("message") or "").strip() if isinstance(data, dict) else ""
    said = _summary(items) if items else (message or "no details given")

    if status == 401 or (status == 500 and "Unknown response http status: 401" in said):
        # §1: three shapes of 401; §4: a missing token can even surface as this 500
        return AuthError(
            "DataMeta did not accept the API key: it has expired (keys last at most 30 "
            "days), was deleted, or its user was disabled after failed logins. Create a new "
            "key in DataMeta's Account tab and update the linked account.",
            status=401,
        )
    if status >= 500 or (html and status in (502, 503, 504)):
        return _server_error(status, items, said, html=html)
    if status == 400:
        return _bad_request(status, items, said)
    if status == 403:
        return _forbidden(status, items)
    if status in _BY_STATUS:
        kind, text = _BY_STATUS[status]
        return kind(text, status=status)
    return PermanentError(f"DataMeta answered {status}: {said}", status=status)


def _server_error(status: int, items: list[ErrorItem], said: str, *, html: bool) -> RepositoryError:
    """A 5xx: retried, except the 500 that stands for a value DataMeta refused."""
    if status == 500 and any(i.message == "None for not nullable" for i in items):
        # §13 (#25): a value failed a pattern whose definition has no regexDescription
        return ValidationFailed(
            "DataMeta refused a value but could not say which rule it broke (one of its "
            "metadata definitions has a pattern without a description). Check each value "
            "against the patterns shown in the table, and ask the site's administrators to "
            "describe their patterns.",
            status=status,
            problems=[
                Problem(
                    "options.metadatasets",
                    "A value does not match its field's pattern; DataMeta did not say which.",
                    source="datameta",
                    repository="datameta",
                )
            ],
        )
    what = "an error page" if html else ("no readable reply" if not items else said)
    return TransientError(
        f"DataMeta had a server error ({status}: {what}); retrying.", status=status
    )


def _bad_request(status: int, items: list[ErrorItem], said: str) -> RepositoryError:
    """A 400: the items DataMeta refused, or (with none) a request the portal got wrong."""
    if items:
        return DataMetaRejected(f"DataMeta refused the request: {said}", items=items)
    # #36: an upload without its part answers 400 null; that is our bug, not theirs
    return PermanentError(
        "DataMeta refused the request as malformed (400, no details). This is a bug in "
        "the portal; report it.",
        status=status,
    )


def _forbidden(status: int, items: list[ErrorItem]) -> RepositoryError:
    """A 403: submitted data never changes, or the item is not the key's user's."""
    if any(i.exception == "ResourceNotModifiableError" for i in items):
        return PermanentError(
            "DataMeta refused the change: the item is already submitted or confirmed, "
            "and DataMeta never changes submitted data.",
            status=status,
        )
    # HTML, [] or null (§8): someone else's item, or a right the key's user lacks
    return PermanentError(
        "DataMeta denied access (403): the item belongs to another user or group, or "
        "the key's user lacks the right. Check which DataMeta account the key belongs to.",
        status=status,
    )


# --------------------------------------------------------------------------- placing


def cell_path(row: int | None, column: str) -> str:
    """The Problem field of a cell: ``options.metadatasets.<row>.<column>``; a row alone
    is ``options.metadatasets.<row>``, the sheet ``options.metadatasets``, files "files"."""
    if row is None:
        return "files" if column == "files" else "options.metadatasets"
    return f"options.metadatasets.{row}" + (f".{column}" if column else "")


# What DataMeta says (§14, §22), and what a person should read instead.
_READABLE = {
    "Field was not specified but is mandatory": "{field} is required.",
    "Field value was null, but the field is mandatory": "{field} is required.",
    "The field was not expected.": "{field} is not a field of this DataMeta site (its "
    "fields may have changed: refresh them).",
    "The field could not be parsed as a valid date / time": "'{value}' is not a valid date "
    "or time for {field}.",
    "Violation of global unique constraint": "'{value}' is already used for {field} by a "
    "submitted sample on this DataMeta site; {field} must be unique site-wide.",
    "Violation of intra-submission unique constraint": "'{value}' appears in more than one "
    "row; {field} must be unique within a submission.",
    "Referenced file not provided": "The file '{value}' named in {field} was not sent with "
    "the submission: add it to the deposit.",
    "Already submitted": "This sample was already submitted.",
    "Access denied": "This staged item belongs to another DataMeta user: was the account's "
    "key replaced? Delete the staged items and publish again.",
    "Not found": "DataMeta no longer has this staged item; press Retry to stage it again.",
    "File included without reference in metadata": "The file '{file}' is not named in any "
    "row: DataMeta refuses files that no sample references.",
}


def place_item(
    item: ErrorItem, rows: list[dict[str, Any]], row: int | None, file: str | None
) -> Problem:
    """One DataMeta error item as a Problem on its cell, its row, a file or the sheet."""
    value = ""
    if row is not None and row < len(rows) and item.field:
        value = str(rows[row].get(item.field) or "")
    template = _READABLE.get(item.message)
    if template:
        message = template.format(field=item.field or "a field", value=value, file=file or "")
    elif item.field and row is not None:
        # a failed pattern's message is the definition's regexDescription (§13, #24)
        message = f"'{value}' is not valid for {item.field}: {item.message}"
    else:
        message = item.message or "DataMeta gave no reason."
    if file is not None:
        shown = message if file in message else f"{file}: {message}"
        return Problem("files", shown, source="datameta", repository="datameta")
    prefix = f"Row {row + 1}: " if row is not None else ""
    return Problem(
        cell_path(row, item.field), prefix + message, source="datameta", repository="datameta"
    )


def placed(
    exc: DataMetaRejected,
    rows: list[dict[str, Any]],
    remote_data: dict[str, Any],
    *,
    row: int | None = None,
) -> ValidationFailed:
    """``exc`` with its items on the rows and files they concern.

    Items name a metadataset or file by uuid (or echo the id we sent, §7); ``row`` is
    given when the request concerned one row (``POST /metadatasets``).
    """
    sets = remote_data.get("metadatasets") or []
    row_of: dict[str, int] = {}
    for index, entry in enumerate(sets):
        if entry:
            row_of[entry["uuid"]] = index
            if entry.get("site"):
                row_of[entry["site"]] = index
    file_of = {e["uuid"]: name for name, e in (remote_data.get("files") or {}).items()}
    problems = [
        place_item(i, rows, row if row is not None else row_of.get(i.entity), file_of.get(i.entity))
        for i in exc.items
    ]
    first = problems[0].message if problems else exc.message
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return ValidationFailed(
        f"DataMeta refused the samples: {first}{more}", status=exc.status, problems=problems
    )
