"""The code forges a release source can follow: what each one's webhook deliveries look
like, how they are signed, and its releases API (GitHub, GitLab).

One small class per forge behind one shape (``ForgeKind``), as each repository has its
connector; forges are not repositories and are not in the repository registry.

GitHub: https://docs.github.com/en/webhooks/webhook-events-and-payloads#release,
https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries,
https://docs.github.com/en/rest/releases/releases#list-releases.
GitLab: https://docs.gitlab.com/user/project/integrations/webhook_events/#release-events,
https://docs.gitlab.com/api/releases/#list-releases.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote

import requests
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from deposits.models import Forge
from deposits.repositories.errors import (
    AuthError,
    NotFound,
    PermanentError,
    RateLimited,
    RepositoryError,
    TransientError,
)
from deposits.repositories.limiter import RateWindow

WRONG_EVENT = "This endpoint takes release events: set the webhook to send Releases only."


@dataclass(frozen=True)
class ReleaseInfo:
    """One release as a forge describes it (a delivery or its releases API)."""

    release_id: str  # GitHub's numeric id; GitLab keys releases by tag
    tag: str
    name: str
    draft: bool
    prerelease: bool
    archive_url: str
    html_url: str
    released_at: datetime | None


@dataclass(frozen=True)
class Incoming:
    """What a verified delivery is: a ping, a release event, or an action to acknowledge."""

    event: str
    action: str = ""
    ping: bool = False
    release: ReleaseInfo | None = None
    # the action makes (or publishes) a release; others are acknowledged and change nothing
    imports: bool = False
    # a ping's warning: the hook does not send release events
    warning: str = ""


class Refused(Exception):
    """A delivery the endpoint does not take: ``status`` and a message for the sender
    (never the secret nor the signature expected)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Malformed(ValueError):
    """A field missing or of the wrong type in what a forge sent."""


# --------------------------------------------------------------------------- reading JSON


class Fields:
    """Typed reads of one JSON object; each wrong field raises Malformed naming it."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise Malformed(f"{where} is not a JSON object")
        self.data = data
        self.where = where

    def _get(self, key: str, types: tuple[type, ...], kind: str, required: bool) -> Any:
        value = self.data.get(key)
        if value is None and not required:
            return None
        if (
            value is None
            or not isinstance(value, types)
            or isinstance(value, bool) != (bool in types)
        ):
            raise Malformed(f"{self.where}.{key} is missing or not {kind}")
        return value

    def text(self, key: str, *, required: bool = True, max_length: int = 0) -> str:
        value = self._get(key, (str,), "a string", required) or ""
        if max_length and len(value) > max_length:
            raise Malformed(f"{self.where}.{key} is longer than {max_length} characters")
        return str(value)

    def url(self, key: str, *, required: bool = False) -> str:
        value = self.text(key, required=required, max_length=1000)
        if value and not value.startswith(("https://", "http://")):
            raise Malformed(f"{self.where}.{key} is not an http(s) URL")
        return value

    def flag(self, key: str, *, default: bool = False) -> bool:
        value = self._get(key, (bool,), "true or false", required=False)
        return default if value is None else bool(value)

    def integer(self, key: str) -> int:
        return int(self._get(key, (int,), "a number", required=True))

    def obj(self, key: str, *, required: bool = True) -> Fields:
        value = self.data.get(key)
        if value is None and not required:
            return Fields({}, f"{self.where}.{key}")
        return Fields(value, f"{self.where}.{key}")

    def when(self, key: str) -> datetime | None:
        value = self.text(key, required=False)
        try:
            return parse_datetime(value) if value else None
        except ValueError:
            raise Malformed(f"{self.where}.{key} is not a date and time") from None


def json_body(headers: Mapping[str, str], body: bytes) -> Any:
    """The delivery's JSON (GitHub may send it form-encoded as ``payload=``)."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/x-www-form-urlencoded":
            payload = parse_qs(body.decode("utf-8"), strict_parsing=True).get("payload", [""])
            return json.loads(payload[0])
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(
            400,
            f"The body is not valid JSON ({exc.__class__.__name__}: {str(exc)[:120]}): "
            "set the webhook's content type to application/json.",
        ) from None


def _message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])[:300]
    return ""


# --------------------------------------------------------------------------- the forges


class ForgeKind:
    forge: ClassVar[str]
    label: ClassVar[str]
    # How a token travels (only when the source has one).
    auth_header: ClassVar[tuple[str, str]]
    windows_with_token: ClassVar[tuple[RateWindow, ...]]
    windows_without_token: ClassVar[tuple[RateWindow, ...]]
    login_field: ClassVar[str]
    delivery_headers: ClassVar[tuple[str, ...]]
    event_header: ClassVar[str]

    def delivery_id(self, headers: Mapping[str, str]) -> str:
        """The delivery's id as the forge sends it (lower-cased header names)."""
        for name in self.delivery_headers:
            if headers.get(name):
                return headers[name].strip()[:100]
        return ""

    def event(self, headers: Mapping[str, str]) -> str:
        return headers.get(self.event_header, "").strip()[:60]

    def windows(self, authenticated: bool) -> list[RateWindow]:
        return list(self.windows_with_token if authenticated else self.windows_without_token)

    def verify(self, secret: str, headers: Mapping[str, str], body: bytes) -> None:
        """Raise Refused (401 missing, 403 wrong) unless the delivery is the source's."""
        raise NotImplementedError

    def parse(self, headers: Mapping[str, str], body: bytes) -> Incoming:
        """What a verified delivery is; Refused (400) when it is none of ours or broken."""
        raise NotImplementedError

    def releases_path(self, repository: str) -> str:
        """The releases list, relative to the API root."""
        raise NotImplementedError

    def release_from_api(self, data: Any) -> ReleaseInfo:
        """One item of the releases list (raises Malformed)."""
        raise NotImplementedError

    def next_page(self, response: requests.Response) -> str:
        """The next page's URL, or "" on the last page."""
        return str(response.links.get("next", {}).get("url", ""))

    def parse_error(self, status: int, body: bytes, content_type: str) -> RepositoryError:
        """An error reply of the forge's API ({"message": ...}) as a typed error."""
        said = _message(body)
        text = said if said.startswith(str(status)) else f"{status} {said}".strip()
        if status == 401:
            return AuthError(
                f"{text}: the forge no longer accepts this token; "
                "paste a new one on the release source.",
                status=status,
            )
        if status == 429 or (status == 403 and "rate limit" in said.lower()):
            return RateLimited(
                f"{self.label}'s rate limit was reached ({text}); the listing tries again "
                "at its next run (a token raises the limit).",
                status=status,
            )
        if status == 403:
            return PermanentError(
                f"{text}: {self.label} refused the request; the token may lack read access "
                "to the repository's releases.",
                status=status,
            )
        if status == 404:
            return NotFound(
                f"{text}: {self.label} has no such repository, or it is private and needs "
                "a token that can read it; check the release source's repository and token.",
                status=status,
            )
        if status >= 500:
            return TransientError(
                f"{self.label} is having trouble ({text}); the listing tries again at its "
                "next run.",
                status=status,
            )
        return PermanentError(f"{self.label} answered {text}.", status=status)


def _refuse_malformed(where: str, exc: Malformed) -> Refused:
    return Refused(400, f"The {where} could not be read: {exc}.")


class GitHub(ForgeKind):
    forge = Forge.GITHUB
    label = "GitHub"
    auth_header = ("Authorization", "Bearer {token}")
    # https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
    windows_with_token = (RateWindow(5000, 3600),)
    windows_without_token = (RateWindow(60, 3600),)
    login_field = "login"
    delivery_headers = ("x-github-delivery",)
    event_header = "x-github-event"
    # actions that make (or publish) a release; "created" of a non-draft is one too,
    # and dedupe by release id keeps GitHub's several events one release
    IMPORTS = frozenset({"published", "released", "prereleased", "created"})
    ACKNOWLEDGED = frozenset({"edited", "deleted", "unpublished"})

    def verify(self, secret: str, headers: Mapping[str, str], body: bytes) -> None:
        signature = headers.get("x-hub-signature-256", "").strip()
        if not signature:
            raise Refused(
                401,
                "The request is not signed (no X-Hub-Signature-256 header): set the "
                "webhook's secret to the one shown when the release source was made.",
            )
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature.encode("utf-8", "replace"), expected.encode()):
            raise Refused(
                403,
                "The signature (X-Hub-Signature-256) does not match the body and this "
                "source's secret: set the webhook's secret to the source's (or make a new "
                "secret on the release source and paste it into the webhook).",
            )

    def parse(self, headers: Mapping[str, str], body: bytes) -> Incoming:
        event = self.event(headers)
        if event not in ("ping", "release"):
            raise Refused(400, f"{WRONG_EVENT} (this was a {event or 'unnamed'!r} event)")
        data = json_body(headers, body)
        try:
            fields = Fields(data, "body")
            if event == "ping":
                return Incoming(event=event, ping=True, warning=self._ping_warning(fields))
            action = fields.text("action", max_length=60)
            if action not in self.IMPORTS | self.ACKNOWLEDGED:
                return Incoming(event=event, action=action)
            info = self.release_from_api(fields.data.get("release"))
        except Malformed as exc:
            raise _refuse_malformed("release event", exc) from None
        return Incoming(event=event, action=action, release=info, imports=action in self.IMPORTS)

    def _ping_warning(self, fields: Fields) -> str:
        events = fields.obj("hook", required=False).data.get("events")
        if isinstance(events, list) and not {"release", "*"} & set(map(str, events)):
            return f" But this hook does not send release events: {WRONG_EVENT}"
        return ""

    def releases_path(self, repository: str) -> str:
        return f"repos/{quote(repository, safe='/')}/releases"

    def release_from_api(self, data: Any) -> ReleaseInfo:
        release = Fields(data, "release")
        return ReleaseInfo(
            release_id=str(release.integer("id")),
            tag=release.text("tag_name", max_length=255),
            name=release.text("name", required=False)[:500],
            draft=release.flag("draft"),
            prerelease=release.flag("prerelease"),
            archive_url=release.url("zipball_url"),
            html_url=release.url("html_url"),
            released_at=release.when("published_at"),
        )


class GitLab(ForgeKind):
    forge = Forge.GITLAB
    label = "GitLab"
    auth_header = ("PRIVATE-TOKEN", "{token}")
    # https://docs.gitlab.com/user/gitlab_com/#rate-limits-on-gitlabcom
    windows_with_token = (RateWindow(2000, 60),)
    windows_without_token = (RateWindow(500, 60),)
    login_field = "username"
    # Idempotency-Key stays the same across a delivery's retries (GitLab 17.4+)
    delivery_headers = ("idempotency-key", "x-gitlab-event-uuid")
    event_header = "x-gitlab-event"
    EVENT = "Release Hook"

    def verify(self, secret: str, headers: Mapping[str, str], body: bytes) -> None:
        token = headers.get("x-gitlab-token", "")
        if not token:
            raise Refused(
                401,
                "The request carries no X-Gitlab-Token: set the webhook's secret token to "
                "the one shown when the release source was made.",
            )
        if not hmac.compare_digest(token.encode("utf-8", "replace"), secret.encode()):
            raise Refused(
                403,
                "The X-Gitlab-Token is not this source's secret: set the webhook's secret "
                "token to the source's (or make a new secret on the release source).",
            )

    def parse(self, headers: Mapping[str, str], body: bytes) -> Incoming:
        event = self.event(headers)
        if event != self.EVENT:
            raise Refused(400, f"{WRONG_EVENT} (this was a {event or 'unnamed'!r} event)")
        data = json_body(headers, body)
        try:
            fields = Fields(data, "body")
            action = fields.text("action", max_length=60)
            if action not in ("create", "update", "delete"):
                return Incoming(event=event, action=action)
            info = _gitlab_release(fields, fields.text("tag", max_length=100), "")
        except Malformed as exc:
            raise _refuse_malformed("release event", exc) from None
        return Incoming(event=event, action=action, release=info, imports=action == "create")

    def releases_path(self, repository: str) -> str:
        return f"projects/{quote(repository, safe='')}/releases"

    def release_from_api(self, data: Any) -> ReleaseInfo:
        release = Fields(data, "release")
        return _gitlab_release(release, release.text("tag_name", max_length=100), "_links")

    def next_page(self, response: requests.Response) -> str:
        link = super().next_page(response)
        page = response.headers.get("X-Next-Page", "").strip()
        if link or not page.isdigit():
            return link
        return f"{(response.url or '').split('?')[0]}?per_page={PER_PAGE}&page={page}"


PER_PAGE = 100


def _gitlab_release(release: Fields, tag: str, links: str) -> ReleaseInfo:
    """A GitLab release from a delivery (its page in ``url``) or the API (in
    ``_links.self``); one released in the future (``upcoming_release``) is a pre-release."""
    released_at = release.when("released_at")
    upcoming = released_at is not None and released_at > timezone.now()
    page = release.obj(links, required=False).url("self") if links else release.url("url")
    return ReleaseInfo(
        release_id=tag,
        tag=tag,
        name=release.text("name", required=False)[:500],
        draft=False,
        prerelease=release.flag("upcoming_release", default=upcoming),
        archive_url=_zip_source(release),
        html_url=page,
        released_at=released_at,
    )


def _zip_source(release: Fields) -> str:
    sources = release.obj("assets", required=False).data.get("sources") or []
    if not isinstance(sources, list):
        raise Malformed(f"{release.where}.assets.sources is not a list")
    for index, item in enumerate(sources):
        source = Fields(item, f"{release.where}.assets.sources.{index}")
        if source.text("format", required=False) == "zip":
            return source.url("url", required=True)
    return ""


KINDS: dict[str, ForgeKind] = {Forge.GITHUB: GitHub(), Forge.GITLAB: GitLab()}


def get(forge: str) -> ForgeKind:
    try:
        return KINDS[forge]
    except KeyError:
        raise LookupError(f"No forge {forge!r}") from None
