"""The periodic listing of each source's releases through its forge's API, which finds
the releases no webhook brought, and the health check of a source's forge token.

A lost delivery costs at most RELEASE_LISTING_EVERY_SECONDS: the listing records every
release it has not seen (imported, or flagged for Replay by the source's policy). The
first listing of a source records the releases that existed when it was linked as known,
not imported; one published since the source was made is taken as missed.
After one authentication failure the token is not used again until a person gives a new
one or asks for a check (DESIGN.md "Security model"): the source is marked "Relink
needed" and its team's admins are told, once.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from deposits.models import (
    DEFAULT_API_URLS,
    Forge,
    NotificationKind,
    ReleaseFoundBy,
    ReleaseSource,
    ReleaseStatus,
    Role,
    TokenStatus,
)
from deposits.notifications import notify
from deposits.repositories.errors import (
    AuthError,
    PermanentError,
    RepositoryError,
    TransientError,
    UnsafeURL,
)
from deposits.repositories.http import HttpClient, host_allowed, origin, redact_url
from deposits.repositories.limiter import Limiter, Priority, get_limiter

from . import jobs
from .forges import PER_PAGE, Malformed, ReleaseInfo, get
from .inbound import record_release

log = logging.getLogger(__name__)

# What a new release found by the listing becomes: it counts as found.
_FOUND = {ReleaseStatus.RECEIVED, ReleaseStatus.FLAGGED}


def list_all() -> int:
    """Queue the listing of every enabled source; how many were queued."""
    ids = list(ReleaseSource.objects.filter(enabled=True).values_list("pk", flat=True))
    for pk in ids:
        jobs.enqueue_listing(pk)
    return len(ids)


def list_source(source_id: int) -> int:
    """List one source's releases and record those not seen; how many new ones were
    found (to import or flag). What went wrong is kept in ``list_error``."""
    source = ReleaseSource.objects.select_related("deposit", "team").filter(pk=source_id).first()
    if source is None or not source.enabled:
        return 0
    if source.needs_relink:
        _listed(
            source,
            error=(
                f"Not listed, as the forge token stopped working: {source.token_error} "
                "The listing resumes once a new token is pasted on the release source "
                "(or the token checks out again)."
            ),
        )
        return 0
    try:
        infos = ForgeClient(source).releases()
    except AuthError as exc:
        if source.token_encrypted:
            token_failed(source, exc.message)
        _listed(source, error=exc.message)
        return 0
    except RepositoryError as exc:
        log.info("listing source %s: %s", source.pk, exc.message)
        _listed(source, error=exc.message)
        return 0
    with transaction.atomic():
        baseline = source.baseline_at is None
        found = sum(_record(source, info, baseline=baseline) for info in infos)
        _listed(source, error="", baseline=baseline)
    return found


def _record(source: ReleaseSource, info: ReleaseInfo, *, baseline: bool) -> bool:
    # At the first listing a release published after the source was made may be one
    # whose webhook was lost: it is taken as missed, not as known.
    before_linking = info.released_at is None or info.released_at < source.created
    found_by = ReleaseFoundBy.BASELINE if baseline and before_linking else ReleaseFoundBy.LISTING
    release, created = record_release(source, info, found_by=found_by)
    return created and release.status in _FOUND


def _listed(source: ReleaseSource, *, error: str, baseline: bool = False) -> None:
    now = timezone.now()
    ReleaseSource.objects.filter(pk=source.pk).update(listed_at=now, list_error=error)
    if baseline:
        ReleaseSource.objects.filter(pk=source.pk, baseline_at__isnull=True).update(baseline_at=now)


# --------------------------------------------------------------------------- the token


def check_token(source_id: int) -> None:
    """Ask the forge whose the source's token is: OK with its login, or "Relink needed"
    (and the admins told) when the forge refuses it. A person asked, so a token already
    failing is tried again."""
    source = ReleaseSource.objects.select_related("deposit", "team").filter(pk=source_id).first()
    if source is None or not source.token_encrypted:
        return
    same_token = ReleaseSource.objects.filter(pk=source.pk, token_encrypted=source.token_encrypted)
    try:
        login = ForgeClient(source, priority=Priority.INTERACTIVE).whoami()
    except AuthError as exc:
        token_failed(source, exc.message)
        return
    except RepositoryError as exc:
        same_token.update(
            token_error=f"The token could not be checked: {exc.message}",
            token_checked_at=timezone.now(),
        )
        return
    same_token.update(
        token_status=TokenStatus.OK,
        token_identity=login[:300],
        token_error="",
        token_checked_at=timezone.now(),
    )


def token_failed(source: ReleaseSource, message: str) -> None:
    """Mark the source's token failing ("Relink needed") and tell the team's admins,
    only when it was not failing already: they are told once, not at every listing."""
    now = timezone.now()
    same_token = ReleaseSource.objects.filter(pk=source.pk, token_encrypted=source.token_encrypted)
    with transaction.atomic():
        changed = same_token.exclude(token_status=TokenStatus.FAILING).update(
            token_status=TokenStatus.FAILING, token_error=message, token_checked_at=now
        )
        if not changed:
            same_token.update(token_error=message, token_checked_at=now)
            return
        admins = get_user_model().objects.filter(
            memberships__team=source.team_id, memberships__role=Role.ADMIN
        )
        notify(
            NotificationKind.FORGE_TOKEN,
            source.deposit,
            admins,
            f"The {source.get_forge_display()} token of the release source {source.repository} "
            f"stopped working: {message} Until then releases still arrive by webhook, but "
            "the periodic listing that finds missed ones is paused.",
            url=_source_url(source),
        )


def _source_url(source: ReleaseSource) -> str:
    try:
        return reverse("release-source", args=[source.pk])
    except NoReverseMatch:  # the release pages are not wired in
        return reverse("deposit", args=[source.deposit_id])


# The newest PER_PAGE * MAX_PAGES releases are listed; older ones were seen long ago.
MAX_PAGES = 20


class ForgeClient:
    """A source's forge API through the one HTTP choke point (allowlist ALLOWED_FORGE_HOSTS,
    the shared limiter, timeouts, size caps). The token, when there is one, goes only to
    the origin of the source's API root; without one the requests go unauthenticated
    (public repositories)."""

    def __init__(
        self,
        source: ReleaseSource,
        *,
        limiter: Limiter | Literal["shared"] | None = "shared",
        session: requests.Session | None = None,
        priority: Priority = Priority.BACKGROUND,
    ) -> None:
        self.kind = get(source.forge)
        self.repository = source.repository
        self.base_url = (source.api_url or DEFAULT_API_URLS[Forge(source.forge)]).rstrip("/")
        allowed = list(settings.ALLOWED_FORGE_HOSTS)
        if not host_allowed(self.base_url, allowed):
            raise UnsafeURL(
                f"Refused to contact {redact_url(self.base_url)}: its host is not in "
                "ALLOWED_FORGE_HOSTS. Nothing was sent; correct the source's API root or "
                "ask the portal's operators to allow that forge."
            )
        token = source.token
        self.authenticated = bool(token)
        self.http = HttpClient(
            base_url=self.base_url,
            token=token,
            label=self.kind.label,
            parse_error=self.kind.parse_error,
            auth_header=self.kind.auth_header,
            limiter=get_limiter() if limiter == "shared" else limiter,
            limiter_key=_limiter_key(self.base_url, token),
            windows=self.kind.windows(self.authenticated),
            priority=priority,
            record=None,  # the HTTP layer's log line is redacted; no call log for forges
            allowed_hosts=allowed,
            allowlist="ALLOWED_FORGE_HOSTS",
            session=session,
        )

    def releases(self) -> list[ReleaseInfo]:
        """Every release the forge lists (newest first), page by page."""
        found: list[ReleaseInfo] = []
        url = self.kind.releases_path(self.repository)
        params: dict[str, Any] | None = {"per_page": PER_PAGE}
        for _ in range(MAX_PAGES):
            response = self.http.request("GET", url, params=params, auth=self.authenticated)
            items = self.http.json(response)
            if not isinstance(items, list):
                raise TransientError(f"{self.kind.label} listed releases as something not a list.")
            try:
                found += [self.kind.release_from_api(item) for item in items]
            except Malformed as exc:
                raise PermanentError(
                    f"{self.kind.label} listed a release the portal cannot read: {exc}."
                ) from None
            url, params = self.kind.next_page(response), None
            if not url:
                break
            self._same_origin(url)
        return found

    def whoami(self) -> str:
        """Whose the token is (its login); AuthError when the forge refuses it."""
        data = self.http.json(self.http.request("GET", "user", auth=self.authenticated))
        login = data.get(self.kind.login_field) if isinstance(data, dict) else None
        if not isinstance(login, str) or not login:
            raise TransientError(f"{self.kind.label} did not say whose the token is.")
        return login

    def _same_origin(self, url: str) -> None:
        if origin(url) != origin(self.base_url):
            raise UnsafeURL(
                f"{self.kind.label}'s next page of releases is on another site "
                f"({redact_url(url)}); the listing stopped there and did not follow it."
            )


def _limiter_key(base_url: str, token: str) -> str:
    # A forge counts a token's requests wherever they come from, and anonymous ones by
    # the portal's address: sources sharing either share its budget. Only a digest of
    # the token is kept.
    host = urlsplit(base_url).netloc.lower()
    if not token:
        return f"forge:{host}:anonymous"
    return f"forge:{host}:{hashlib.sha256(token.encode()).hexdigest()[:16]}"
