"""Coscine's replies: the envelope, pages, and the error shapes (A.1).

Every success reply is an envelope ``{data, isSuccess, statusCode, traceId,
pagination}``; lists come a page at a time (``PageNumber``, ``PageSize`` at most 50,
``pagination.hasNext``). Errors come in several shapes: RFC 7807 ProblemDetails (with an
ASP.NET ``errors`` map on validation failures), the envelope with ``isSuccess: false``,
an empty body, or a proxy's HTML page. Whatever the shape, the message a person reads
ends with Coscine's ``traceId``: it is what Coscine's support asks for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import (
    AuthError,
    NotFound,
    PermanentError,
    Problem,
    RateLimited,
    RepositoryError,
    TransientError,
    ValidationFailed,
)

if TYPE_CHECKING:
    import requests

    from ..http import HttpClient

LABEL = "Coscine"
PAGE_SIZE = 50  # the spec's maximum page size
MAX_PAGES = 1000  # 50,000 items: beyond that the server is not stopping
_HTML = re.compile(rb"^\s*(<!doctype|<html|<head|<body|<\?xml|<h1|<center)", re.IGNORECASE)
# A 403 that is about the token rather than the user's rights on a project ("not
# authorized for this project" is about rights: holding the token for it would stop
# every deposit of the account).
_TOKEN_REFUSED = re.compile(r"\btoken\b|expired|revoked|authenticat", re.IGNORECASE)
# A metadata violation naming the property (sh:path / sh:resultPath) it concerns.
_RESULT_PATH = re.compile(r"(?:result\s*path|sh:path|path)\W{0,4}<?(https?://[^\s<>\"',;]+)", re.I)
_TRACE_BODY_LIMIT = 8 * 1024 * 1024

# Coscine's names of the fields of a new resource (ResourceForCreationDto) and of a
# publication request, and the target options they come from.
FIELD_PATHS = {
    "name": "options.new_resource.name",
    "displayname": "options.new_resource.display_name",
    "description": "options.new_resource.description",
    "visibility": "options.new_resource.visibility",
    "disciplines": "options.new_resource.disciplines",
    "license": "options.new_resource.license",
    "keywords": "options.new_resource.keywords",
    "resourcetypeid": "options.new_resource.resource_type",
    "resourcetypeoptions": "options.new_resource.quota_gib",
    "usagerights": "options.new_resource",
    "applicationprofile": "options.application_profile",
    "projectid": "options.project",
    "resourceid": "options.resource",
    "resourceids": "options.resource",
    "publicationservicerorid": "options.publication.service",
    "message": "options.publication.message",
}


# --------------------------------------------------------------------------- trace ids


def trace_id(headers: Mapping[str, str], body: bytes) -> str:
    """Coscine's id of one exchange: ``traceId`` of a JSON body (envelope or
    ProblemDetails), else the ``traceparent`` or ``Request-Id`` header."""
    found = _trace_in(_json_object(body))
    if found:
        return found
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    return lowered.get("traceparent", "") or lowered.get("request-id", "")


def _trace_in(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    value = data.get("traceId") or data.get("traceID") or data.get("trace_id")
    return str(value).strip()[:100] if isinstance(value, str | int) and value else ""


def with_trace(message: str, trace: str) -> str:
    """``message`` ending with the trace id, when there is one."""
    if not trace:
        return message
    return f"{message.rstrip()} Coscine trace id: {trace}"


def _json_object(body: bytes, limit: int | None = _TRACE_BODY_LIMIT) -> Any:
    """The body as JSON when it is a JSON object (within ``limit`` bytes); else None.
    The limit spares parsing downloads for a trace id; replies are capped upstream."""
    if not body or (limit is not None and len(body) > limit) or body.lstrip()[:1] != b"{":
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


# --------------------------------------------------------------------------- success


def envelope(response: requests.Response, what: str = "") -> dict[str, Any]:
    """The envelope of a success reply; anything else is an error a person can read."""
    body = response.content or b""
    doing = f" to {what}" if what else ""
    if _HTML.match(body) or "html" in response.headers.get("Content-Type", "").lower():
        raise TransientError(
            f"{LABEL} answered{doing} with a web page instead of its API's reply (a proxy "
            "or maintenance page?); retrying later."
        )
    data = _json_object(body, limit=None)
    if data is None:
        raise TransientError(
            f"{LABEL} answered{doing} with a reply that is not JSON (it may have been cut "
            "off); retrying later."
        )
    if not ("data" in data and "isSuccess" in data):
        raise PermanentError(
            with_trace(
                f"{LABEL}'s reply{doing} is not in the shape its API documents (no data and "
                "isSuccess): its API may have changed. Report this to the portal's "
                "maintainers.",
                _trace_in(data),
            )
        )
    if data.get("isSuccess") is False:
        status = data.get("statusCode")
        code = status if isinstance(status, int) and status >= 400 else 400
        raise parse_error(code, body, "application/json")
    return data


def data_of(client: HttpClient, url: str, params: Mapping[str, Any] | None = None) -> Any:
    """``data`` of one GET."""
    return envelope(client.request("GET", url, params=params), _what(url))["data"]


def pages(
    client: HttpClient, url: str, params: Mapping[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    """Every item of a paged list, page after page while ``pagination.hasNext``.

    A server that sends the same page again, or never says it is done, is stopped with
    an error (the Python SDK 0.12.2 asks for page 1 forever: notes A.1)."""
    what = _what(url)
    previous: str | None = None
    for number in range(1, MAX_PAGES + 1):
        query = {**(params or {}), "PageNumber": number, "PageSize": PAGE_SIZE}
        reply = envelope(client.request("GET", url, params=query), what)
        items = reply.get("data")
        if items is None:
            items = []
        if not isinstance(items, list):
            raise PermanentError(
                with_trace(f"{LABEL} sent {what} as something other than a list.", _trace_in(reply))
            )
        pagination = reply.get("pagination") or {}
        _check_page(
            number,
            items=items,
            pagination=pagination,
            previous=previous,
            what=what,
            trace=_trace_in(reply),
        )
        previous = json.dumps(items, sort_keys=True)
        yield from (i for i in items if isinstance(i, dict))
        if not (isinstance(pagination, dict) and pagination.get("hasNext")):
            return
    raise PermanentError(
        f"{LABEL} kept saying there are more pages of {what} after {MAX_PAGES} pages; the "
        "list was not read. Try again later; if it persists, tell Coscine's support."
    )


def _check_page(
    number: int,
    *,
    items: list[Any],
    pagination: Any,
    previous: str | None,
    what: str,
    trace: str,
) -> None:
    current = pagination.get("currentPage") if isinstance(pagination, dict) else None
    repeated = previous is not None and items and json.dumps(items, sort_keys=True) == previous
    wrong_page = isinstance(current, int) and current != number
    empty_but_more = not items and isinstance(pagination, dict) and pagination.get("hasNext")
    if repeated or wrong_page or empty_but_more:
        said = f"page {current}" if wrong_page else "the same page again"
        if empty_but_more and not repeated and not wrong_page:
            said = "an empty page that says more follow"
        raise PermanentError(
            with_trace(
                f"{LABEL} sent {said} when asked for page {number} of {what}, so the list "
                "cannot be read completely. Try again later; if it persists, tell "
                "Coscine's support.",
                trace,
            )
        )


def _what(url: str) -> str:
    """The list a URL names, for messages: ``/api/v2/projects/x/resources`` -> resources."""
    path = url.split("?", 1)[0].rstrip("/")
    return path.rsplit("/", 1)[-1].replace("-", " ") or "the list"


# --------------------------------------------------------------------------- errors


def parse_error(status: int, body: bytes, content_type: str) -> RepositoryError:
    """Any Coscine error reply as a typed error whose message says what to do next and
    ends with Coscine's trace id."""
    html = bool(_HTML.match(body or b"")) or "html" in (content_type or "").lower()
    data = None if html else _json_object(body)
    trace = _trace_in(data)
    said = _said(data)
    error = _classify(status, said, data, html)
    error.status = status
    error.message = with_trace(error.message, trace)
    error.args = (error.message,)
    return error


def _classify(status: int, said: str, data: Any, html: bool) -> RepositoryError:
    if status == 401:
        return AuthError(
            f"{LABEL} refused the API token (401): it has expired, was revoked, or was "
            "copied incompletely. Create a new token in your Coscine profile (Access "
            "tokens), then press Edit on the linked account and paste it there."
        )
    if status == 403:
        return _forbidden(said)
    if status == 429:
        return RateLimited(
            f"{LABEL} asked the portal to slow down (429: it allows 500 requests a "
            "minute); waiting before trying again."
        )
    if status >= 500:
        return _server_error(status, said, html)
    if status in (404, 410):
        gone = "no longer exists (410)" if status == 410 else "does not exist (404)"
        return NotFound(
            f"{LABEL} says what was asked for {gone}: it was deleted, or the token's user "
            f"cannot see it.{_detail(said)}"
        )
    if status == 400:
        return _bad_request(said, data)
    return _other(status, said)


def _other(status: int, said: str) -> RepositoryError:
    if status == 413:
        return PermanentError(
            f"{LABEL} refused the file as too large (413). Large files go to S3 "
            "resources directly: choose a resource of an S3 type (rdss3).{_detail(said)}"
        )
    if status == 409:
        return PermanentError(f"{LABEL} refused the change as a conflict (409).{_detail(said)}")
    return PermanentError(
        f"{LABEL} refused the request ({status}).{_detail(said)} If this persists, report "
        "it to the portal's maintainers."
    )


def _forbidden(said: str) -> RepositoryError:
    if said and _TOKEN_REFUSED.search(said):
        return AuthError(
            f"{LABEL} refused the API token (403: {said}). Create a new token in your "
            "Coscine profile (Access tokens), then press Edit on the linked account and "
            "paste it there."
        )
    return PermanentError(
        f"{LABEL} denied access (403): the token's user is not a member of this project, "
        "or their role does not allow this (creating resources needs Owner or Member). "
        f"Ask a project owner on Coscine to add them.{_detail(said)}"
    )


def _server_error(status: int, said: str, html: bool) -> RepositoryError:
    if status == 503:
        what = "unavailable (503: maintenance or overload)"
    else:
        what = f"having a server error ({status})"
    shown = " It sent an error page." if html else _detail(said)
    return TransientError(f"{LABEL} is {what}; retrying later.{shown}")


def _bad_request(said: str, data: Any) -> RepositoryError:
    problems = _problems(data)
    if not problems and not said:
        return PermanentError(
            f"{LABEL} refused the request as malformed (400, no details). This is a bug in "
            "the portal; report it."
        )
    if not problems:
        problems = [_problem(_field_for_text(said), said)]
    first = problems[0].message
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return ValidationFailed(f"{LABEL} refused the request: {first}{more}", problems=problems)


def _problems(data: Any) -> list[Problem]:
    """The ASP.NET ``errors`` map (``{"Name": ["..."]}``) as problems on our fields."""
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list):
        return [_problem(_field_for_text(str(e)), str(e)) for e in errors if e]
    if not isinstance(errors, dict):
        return []
    found = []
    for key, messages in errors.items():
        texts = messages if isinstance(messages, list) else [messages]
        for text in texts:
            if text:
                found.append(_problem(field_path(str(key), str(text)), _readable(key, text)))
    return found


def _problem(field: str, message: str) -> Problem:
    return Problem(field, message, source="coscine", repository="coscine")


def _readable(key: Any, text: Any) -> str:
    name = str(key).removeprefix("$.")
    text = str(text).strip()
    return text if not name or name.lower() in text.lower() else f"{name}: {text}"


def field_path(key: str, text: str = "") -> str:
    """Our option path for one of Coscine's field names (``Name``, ``$.displayName``,
    ``Disciplines[0].Id``), or the metadata field a violation names."""
    if key.startswith(("http://", "https://")):
        return f"options.file_metadata.*.{key}"
    head = re.split(r"[.\[]", key.removeprefix("$.").strip(), maxsplit=1)[0].lower()
    if head in FIELD_PATHS:
        return FIELD_PATHS[head]
    return _field_for_text(text)


def _field_for_text(text: str) -> str:
    """A metadata violation's property (``sh:resultPath <uri>``) as its field, or ""."""
    found = _RESULT_PATH.search(text or "")
    return f"options.file_metadata.*.{found.group(1)}" if found else ""


def _said(data: Any) -> str:
    """What a JSON error body says in words (ProblemDetails title/detail, or an
    envelope's message), without the ``errors`` map."""
    if not isinstance(data, dict):
        return ""
    parts = []
    for key in ("title", "detail", "message", "error"):
        value = data.get(key)
        if isinstance(value, str) and value.strip() and value.strip() not in parts:
            parts.append(value.strip())
    if not parts and isinstance(data.get("data"), str):
        parts.append(data["data"].strip())
    return ": ".join(parts)[:500]


def _detail(said: str) -> str:
    return f" Coscine said: {said.rstrip('.')}." if said else ""
