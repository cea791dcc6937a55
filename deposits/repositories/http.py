"""The one choke point for outbound repository HTTP (DESIGN.md "Rate limits", "Security").

Every request a connector makes goes through ``HttpClient``: the host allowlist is checked
before anything leaves, the shared limiter is asked for a slot (and told what the server
said about its limits afterwards), timeouts are explicit, the token travels only in a
header, and each call is handed to ``record`` with its URL and error text redacted.
Failures become the typed errors of ``base.py`` so the lifecycle can decide: retry or fail.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
import urllib3
from django.conf import settings

from deposits.sizes import human_size

from .errors import RateLimited, RepositoryError, TransientError, UnsafeURL
from .limiter import Backoff, Limiter, Priority, RateWindow, parse_retry_after

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
REPLY_CHUNK = 64 * 1024
# Progress reports at most this often or every PROGRESS_BYTES, whichever comes first:
# each report is a database write in the lifecycle.
PROGRESS_SECONDS = 0.5
PROGRESS_BYTES = 8 * CHUNK_SIZE
MAX_REDIRECTS = 5
REDACTED = "[redacted]"

# Query parameters that carry secrets (Zenodo accepts ``?access_token=``, notes §1.2).
_SECRET_PARAM = re.compile(
    r"token|secret|password|passwd|api[_-]?key|apikey|signature|sig$|auth|credential|session",
    re.IGNORECASE,
)
_SECRET_IN_TEXT = re.compile(
    r"(?i)((?:access_token|token|api[_-]?key|apikey|secret|password|signature)=)[^&\s\"'<>]+"
)
_BEARER_IN_TEXT = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
# (status, body, content type) -> the typed error; each connector has its own reader.
ErrorParser = Callable[[int, bytes, str], RepositoryError]
_RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after")


@dataclass(frozen=True)
class CallRecord:
    """One repository request as the audit log keeps it (DESIGN.md "ApiCall")."""

    method: str
    url: str  # redacted
    status: int | None  # None when no reply came (timeout, reset)
    duration_ms: int
    rate_headers: dict[str, str] = field(default_factory=dict)
    error: str = ""
    trace_id: str = ""  # the repository's id of the exchange (``Connector.trace_id``)


def redact_url(url: str) -> str:
    """``url`` without credentials: secret-looking query values and user:password@."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _SECRET_IN_TEXT.sub(rf"\1{REDACTED}", url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = urlencode(
        [
            (k, REDACTED if _SECRET_PARAM.search(k) else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="[]",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str, *secrets: str) -> str:
    """``text`` with the given secrets and anything token-shaped replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _SECRET_IN_TEXT.sub(rf"\1{REDACTED}", text)
    return _BEARER_IN_TEXT.sub(rf"\1{REDACTED}", text)


def host_allowed(url: str, allowed_hosts: list[str]) -> bool:
    """True if ``url`` is http(s) to a host in ``allowed_hosts``.

    An entry ``zenodo.org`` allows that host on any port; ``127.0.0.1:8000`` allows only
    that port (``zenodo.org:443`` matches ``https://zenodo.org``, its port being implied).
    URLs with user:password@ are refused: they would carry a second credential.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return False
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("http", "https") or not host or "@" in parts.netloc:
        return False
    for entry in allowed_hosts:
        entry = entry.strip().lower()
        if not entry:
            continue
        entry_host, _, entry_port = entry.rpartition(":") if _has_port(entry) else (entry, "", "")
        if entry_host.strip("[]") != host:
            continue
        if not entry_port or (port is not None and str(port) == entry_port):
            return True
    return False


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower().rstrip("."), port or default


def _has_port(entry: str) -> bool:
    # "[::1]:8000" and "host:8000" carry a port; a bare IPv6 "[::1]" does not
    head, sep, tail = entry.rpartition(":")
    return bool(sep) and tail.isdigit() and (not head.startswith("[") or head.endswith("]"))


class _DeadlinePassed(Exception):  # not an OSError, which urllib3 would swallow
    """Raised from inside the upload body when the request's deadline has passed."""


class _ProgressReader:
    """A file-like body that streams ``fileobj`` and reports cumulative bytes sent.

    ``__len__`` lets requests set Content-Length instead of chunked encoding (Zenodo's
    bucket PUT needs the length); only one read buffer is ever held, so memory stays flat.
    A server that takes the bytes too slowly is given up on at ``deadline`` (monotonic).
    """

    def __init__(
        self,
        fileobj: IO[bytes],
        size: int,
        progress: Callable[[int], None] | None,
        deadline: float = float("inf"),
    ) -> None:
        self.fileobj = fileobj
        self.size = size
        self.sent = 0
        self.progress = progress
        self.deadline = deadline
        self._reported_at = time.monotonic()
        self._reported_bytes = 0

    def __len__(self) -> int:
        return self.size

    def read(self, amount: int | None = -1) -> bytes:
        if amount is None or amount < 0:
            # "everything": only callers that buffer anyway ask for it (test doubles)
            return b"".join(iter(lambda: self.read(CHUNK_SIZE), b""))
        if time.monotonic() > self.deadline:
            raise _DeadlinePassed
        # never more than the announced Content-Length, even if the file grew meanwhile
        amount = min(amount, CHUNK_SIZE, self.size - self.sent)
        chunk = self.fileobj.read(amount) if amount > 0 else b""
        self.sent += len(chunk)
        if self.progress is not None:
            now = time.monotonic()
            finished = not chunk or self.sent >= self.size
            due = (
                now - self._reported_at >= PROGRESS_SECONDS
                or self.sent - self._reported_bytes >= PROGRESS_BYTES
            )
            if (due or finished) and self.sent != self._reported_bytes:
                self._reported_at, self._reported_bytes = now, self.sent
                self.progress(self.sent)
        return chunk


class HttpClient:
    """Outbound HTTP for one linked account (base URL + token + its limiter key)."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        label: str,
        parse_error: ErrorParser,
        auth_header: tuple[str, str] = ("Authorization", "Bearer {token}"),
        limiter: Limiter | None,
        limiter_key: str,
        windows: list[RateWindow],
        priority: Priority = Priority.INTERACTIVE,
        record: Callable[[CallRecord], None] | None = None,
        allowed_hosts: list[str] | None = None,
        allowlist: str = "ALLOWED_REPOSITORY_HOSTS",
        session: requests.Session | None = None,
        trace_of: Callable[[Mapping[str, str], bytes], str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.trace_of = trace_of
        self._token = token
        self.label = label
        self.parse_error = parse_error
        self.auth_header = auth_header
        self.limiter = limiter
        self.limiter_key = limiter_key
        self.windows = windows
        self.priority = priority
        self.record = record
        self.allowed_hosts = list(
            settings.ALLOWED_REPOSITORY_HOSTS if allowed_hosts is None else allowed_hosts
        )
        self.allowlist = allowlist  # the setting's name, for the refusal's message
        self.session = session or requests.Session()
        # Requests other than GET/HEAD that left (or tried to), whatever came back: zero
        # means this client changed nothing on the repository.
        self.writes_sent = 0
        # Writes that got no complete reply (timeout, reset, a body cut off or too large):
        # the repository may have done them, or may still do them.
        self.unanswered_writes = 0
        # what the limiter did about the last reply, if it was a 429 without a hint
        self._backoff: Backoff | None = None
        self.connect_timeout = float(settings.HTTP_CONNECT_TIMEOUT)
        self.read_timeout = float(settings.HTTP_READ_TIMEOUT)
        self.total_timeout = float(settings.HTTP_TOTAL_TIMEOUT)
        self.min_upload_rate = max(int(settings.HTTP_MIN_UPLOAD_RATE), 1)
        self.max_reply_bytes = int(settings.HTTP_MAX_REPLY_BYTES)
        self._check(self.base_url)

    def __repr__(self) -> str:  # never show the token, even in a debugger or a traceback
        return f"<HttpClient {self.label} {self.base_url}>"

    # ------------------------------------------------------------------ public

    def url(self, url: str) -> str:
        """An absolute URL: ``url`` itself, or ``url`` relative to the base URL."""
        if urlsplit(url).scheme:
            return url
        return f"{self.base_url}/{url.lstrip('/')}"

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        data: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | tuple[float, float] | None = None,
        follow_redirects: bool = True,
        auth: bool = True,
    ) -> requests.Response:
        """Send one request; 2xx/3xx replies are returned, errors raised as typed errors.

        ``follow_redirects=False`` returns a redirect as it is (to read its Location);
        ``auth=False`` sends no credential (a URL another server handed out).
        """
        return self._send(
            method,
            url,
            json=json,
            data=data,
            params=params,
            headers=headers,
            timeout=timeout,
            follow_redirects=follow_redirects,
            auth=auth,
        )

    def upload(
        self,
        method: str,
        url: str,
        *,
        fileobj: IO[bytes],
        size: int,
        headers: Mapping[str, str] | None = None,
        progress: Callable[[int], None] | None = None,
        timeout: float | tuple[float, float] | None = None,
        auth: bool = True,
    ) -> requests.Response:
        """Stream ``size`` bytes of ``fileobj`` as the request body, reporting progress."""
        merged = {"Content-Type": "application/octet-stream", **(headers or {})}
        body = _ProgressReader(fileobj, size, progress)
        return self._send(
            method, url, data=body, headers=merged, timeout=timeout, upload=True, auth=auth
        )

    def allowance(self, body: Any) -> float:
        """Seconds the whole exchange may take: the total timeout, plus an upload's size
        at the slowest rate still worth waiting for."""
        size = body.size if isinstance(body, _ProgressReader) else 0
        return self.total_timeout + size / self.min_upload_rate

    def json(self, response: requests.Response) -> Any:
        """The reply's JSON; a body that is not JSON (a proxy's page) is worth a retry."""
        try:
            return response.json()
        except ValueError:
            raise TransientError(
                f"{self.label} answered {response.status_code} with a body that is "
                "not JSON; retrying."
            ) from None

    # ------------------------------------------------------------------ inside

    def _check(self, url: str) -> None:
        if not host_allowed(url, self.allowed_hosts):
            raise UnsafeURL(
                f"Refused to contact {redact_url(url)}: its host is not in "
                f"{self.allowlist}. Nothing was sent."
            )

    def _check_origin(self, url: str, *, redirected: bool) -> None:
        """The account's credential goes only to the origin of its base URL: a link or a
        redirect to another site, even an allowed one, is not followed with it (nor is
        what that site answers taken for the repository's reply)."""
        if origin(url) == origin(self.base_url):
            return
        scheme, host, port = origin(url)
        how = "redirected to" if redirected else "gave a link to"
        raise UnsafeURL(
            f"{self.label} {how} another site ({scheme}://{host}:{port}); the account's "
            f"token goes only to {redact_url(self.base_url)}, so it was not sent there. "
            "If the repository moved, update the linked account's base URL."
        )

    def _headers(self, extra: Mapping[str, str] | None, auth: bool) -> dict[str, str]:
        headers = {"User-Agent": settings.HTTP_USER_AGENT, "Accept": "application/json"}
        if auth:
            name, template = self.auth_header
            headers[name] = template.format(token=self._token)
        headers.update(extra or {})
        return headers

    def _acquire(self) -> None:
        if self.limiter is None:
            return
        wait = self.limiter.acquire(self.limiter_key, self.windows, priority=self.priority)
        if wait <= 0:
            return
        if self.limiter.paused_by_server(self.limiter_key):
            message = (
                f"{self.label} asked the portal to slow down, so this account's requests are "
                f"paused; the next one can go in {_duration(wait)}."
            )
        else:
            message = (
                f"The {self.label} request budget of this account is used up; "
                f"the next request can go in {_duration(wait)}."
            )
        raise RateLimited(message, retry_after=wait)

    def _send(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        data: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | tuple[float, float] | None = None,
        upload: bool = False,
        follow_redirects: bool = True,
        auth: bool = True,
    ) -> requests.Response:
        method = method.upper()
        full = self.url(url)
        if timeout is None:
            timeout = (self.connect_timeout, self.read_timeout)
        for hop in range(MAX_REDIRECTS + 1):
            self._check(full)
            if auth:
                self._check_origin(full, redirected=hop > 0)
            self._acquire()
            response = self._once(
                method,
                full,
                json=json,
                data=data,
                params=params,
                headers=headers,
                timeout=timeout,
                auth=auth,
            )
            location = response.headers.get("Location")
            # Redirects are followed by hand so every hop passes the allowlist and the
            # limiter; bodies are never re-sent to a redirect target.
            follow = follow_redirects and method in ("GET", "HEAD") and not upload
            if response.is_redirect and location and follow:
                full, params = urljoin(full, location), None
                continue
            if response.status_code >= 400:
                raise self._error(response)
            return response
        raise TransientError(
            f"{self.label} redirected more than {MAX_REDIRECTS} times; retrying later."
        )

    def _once(
        self,
        method: str,
        url: str,
        *,
        json: Any,
        data: Any,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        timeout: float | tuple[float, float],
        auth: bool,
    ) -> requests.Response:
        started = time.monotonic()
        allowance = self.allowance(data)
        if isinstance(data, _ProgressReader):
            data.deadline = started + allowance
        shown = redact_url(_with_params(url, params))
        if method not in ("GET", "HEAD"):
            self.writes_sent += 1
        response: requests.Response | None = None
        try:
            response = self.session.request(
                method,
                url,
                json=json,
                data=data,
                params=params,
                headers=self._headers(headers, auth),
                timeout=timeout,
                allow_redirects=False,
                stream=True,  # the body is read below, within its size cap and deadline
            )
            # a HEAD has no body: its Content-Length is the size of what a GET would send
            if method == "HEAD":
                response._content = b""
                response.close()
            else:
                self._read_body(response, started + allowance)
        except (requests.RequestException, _DeadlinePassed) as exc:
            self._unanswered(method)
            error = self._transport_error(exc, timeout, allowance)
            status = response.status_code if response is not None else None
            self._record(method, shown, status, started=started, rate={}, error=error.message)
            # ``from None``: the requests exception may quote the URL with its query.
            raise error from None
        except RepositoryError as error:  # the reply was too large to read
            assert response is not None
            self._unanswered(method)
            response.close()
            self._record(
                method, shown, response.status_code, started=started, rate={}, error=error.message
            )
            raise
        rate = {k: v for k, v in response.headers.items() if k.lower() in _RATE_HEADERS}
        self._backoff = None
        if self.limiter is not None:
            # all headers: the limiter reads the server's clock from Date
            self._backoff = self.limiter.observe(
                self.limiter_key,
                self.windows,
                status=response.status_code,
                headers=response.headers,
            )
        error_text = ""
        if response.status_code >= 400:
            error_text = redact_text(response.text[:500], self._token)
        self._record(
            method,
            shown,
            response.status_code,
            started=started,
            rate=rate,
            error=error_text,
            trace_id=self._trace(response),
        )
        return response

    def _trace(self, response: requests.Response) -> str:
        """The repository's id of this exchange, if the connector knows where it is."""
        if self.trace_of is None:
            return ""
        try:
            return redact_text(str(self.trace_of(response.headers, response.content)), self._token)[
                :100
            ]
        except Exception:  # an unreadable reply has no trace id; it must not fail the call
            return ""

    def _unanswered(self, method: str) -> None:
        if method not in ("GET", "HEAD"):
            self.unanswered_writes += 1

    def _read_body(self, response: requests.Response, deadline: float) -> None:
        """Read the reply into ``response.content``, refusing one larger than
        HTTP_MAX_REPLY_BYTES (by its declared length first, then as it arrives, decoded)
        and giving up at ``deadline`` however slowly the bytes trickle in."""
        limit = self.max_reply_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(response, int(declared))
        chunks: list[bytes] = []
        received = 0
        for chunk in _arriving(response):
            received += len(chunk)
            if received > limit:
                raise self._too_large(response, received)
            if time.monotonic() > deadline:
                raise _DeadlinePassed
            chunks.append(chunk)
        # What requests itself does once it has read a body: ``.content``/``.json()``
        # then answer from memory, and close() hands the connection back to the pool.
        response._content = b"".join(chunks)
        response._content_consumed = True  # type: ignore[attr-defined]
        response.close()

    def _too_large(self, response: requests.Response, size: int) -> RepositoryError:
        return TransientError(
            f"{self.label} answered {response.status_code} with a reply of more than "
            f"{human_size(self.max_reply_bytes)} (at least {human_size(size)}); it was "
            "not read. Retrying; if it persists, the repository is misbehaving: try again "
            "later or ask its support."
        )

    def _record(
        self,
        method: str,
        url: str,
        status: int | None,
        *,
        started: float,
        rate: dict[str, str],
        error: str,
        trace_id: str = "",
    ) -> None:
        duration_ms = int((time.monotonic() - started) * 1000)
        error = redact_text(error, self._token)
        log.info(
            "%s %s %s %s %d ms%s",
            self.label,
            method,
            url,
            status if status is not None else "-",
            duration_ms,
            f" ({error[:200]})" if error else "",
        )
        if self.record is not None:
            self.record(CallRecord(method, url, status, duration_ms, rate, error, trace_id))

    def _transport_error(
        self,
        exc: requests.RequestException | _DeadlinePassed,
        timeout: float | tuple[float, float],
        allowance: float,
    ) -> RepositoryError:
        label = self.label
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        if isinstance(exc, _DeadlinePassed):
            message = (
                f"{label} did not finish the exchange within {allowance:.0f} s (it was "
                "sending or taking the bytes too slowly); retrying."
            )
        elif isinstance(exc, requests.ConnectTimeout):
            message = f"{label} could not be reached within {connect:.0f} s; retrying."
        elif isinstance(exc, requests.Timeout):
            message = f"{label} did not answer within {read:.0f} s; retrying."
        elif isinstance(exc, requests.exceptions.ChunkedEncodingError):
            message = f"{label}'s reply was cut off mid-way; retrying."
        elif isinstance(exc, requests.ConnectionError):
            message = f"The connection to {label} failed or was reset; retrying."
        else:
            # InvalidURL, TooManyRedirects...: a bug or a bad link, not worth retrying
            return RepositoryError(
                f"Could not send the request to {label}: "
                f"{redact_text(type(exc).__name__, self._token)}."
            )
        return TransientError(message)

    def _error(self, response: requests.Response) -> RepositoryError:
        error = self.parse_error(
            response.status_code, response.content, response.headers.get("Content-Type", "")
        )
        if error.status is None:
            error.status = response.status_code
        if error.retry_after is None and response.status_code in (429, 503):
            error.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if error.retry_after is None and self._backoff is not None:
            error.retry_after = self._backoff.seconds
            error.message = f"{error.message} {_backoff_reason(self._backoff)}"
        # Servers sometimes echo the request back: keep the token out of what people see.
        error.message = redact_text(error.message, self._token)
        error.args = (error.message,)
        error.problems = [
            type(p)(p.field, redact_text(p.message, self._token), p.source, p.repository)
            for p in error.problems
        ]
        return error


def _backoff_reason(backoff: Backoff) -> str:
    wait = _duration(backoff.seconds)
    if backoff.strikes <= 1:
        return f"It did not say when to try again (no Retry-After), so the account pauses {wait}."
    return (
        f"It did not say when to try again (no Retry-After), {backoff.strikes} times in a "
        f"row now, so the account backs off longer: {wait}."
    )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def _arriving(response: requests.Response) -> Iterator[bytes]:
    """The reply body, decoded, as it arrives: each piece is what one read of the socket
    gave (``iter_content`` would wait for a whole chunk, so a trickle could not be timed).
    Transport failures come out as the requests exceptions ``iter_content`` raises."""
    raw = response.raw
    try:
        while piece := raw.read1(REPLY_CHUNK, decode_content=True):
            yield piece
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(str(exc)) from None
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as exc:
        raise requests.exceptions.ChunkedEncodingError(str(exc)) from None
    except (urllib3.exceptions.SSLError, OSError) as exc:
        raise requests.exceptions.ConnectionError(str(exc)) from None


def _with_params(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    return (
        f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(list(params.items()), doseq=True)}"
    )
