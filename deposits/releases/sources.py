"""People managing release sources: a deposit linked to a GitHub or GitLab repository.

Only a team admin links, changes, rotates, deletes, checks, lists or replays (any admin:
the source belongs to the team, not to whoever linked it). Every member may look at a
source, its deliveries and its releases; nobody sees its secret after the page that
showed it once (at linking, at rotation). The token goes only to the API root it was
given with: changing the forge or the API URL needs it again. Each change is a line of
the deposit's audit trail, never with a secret in it.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from deposits import access
from deposits.lifecycle.states import NotAllowed, User, record_event
from deposits.models import Deposit, Forge, MissedRelease, Release, ReleaseSource
from deposits.models.releases import DEFAULT_API_URLS
from deposits.repositories.http import host_allowed

from . import importing, jobs

# GitHub: "owner/name" (an owner is letters, digits and single hyphens; a name also
# allows "." and "_"). GitLab: "group[/subgroup...]/project".
_GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_GITLAB_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}"
_GITLAB_REPOSITORY = re.compile(rf"^{_GITLAB_SEGMENT}(?:/{_GITLAB_SEGMENT})+$")

# What the settings a person edits are called in the audit trail.
_SETTING_WORDS = {
    "deposit": "deposit",
    "forge": "forge",
    "repository": "repository",
    "api_url": "API URL",
    "include_drafts": "import drafts",
    "include_prereleases": "import pre-releases",
    "missed": "missed releases",
    "enabled": "enabled",
}
# A change of these points the source at another repository: its releases are taken
# as they are again (the first listing records them as known, imports none).
_REPOINTING = {"forge", "repository", "api_url"}

# Releases a person may import by Replay (the others are under way or became a version).
REPLAYABLE = importing.REPLAYABLE


class SourceProblem(NotAllowed):
    """A setting that cannot be taken, with the form field it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# --------------------------------------------------------------------------- checks


def check_forge(forge: str) -> Forge:
    try:
        return Forge(forge)
    except ValueError:
        raise SourceProblem("forge", "Choose GitHub or GitLab.") from None


def check_repository(forge: Forge, repository: str) -> str:
    name = repository.strip().strip("/").removesuffix(".git")
    if forge == Forge.GITHUB and not _GITHUB_REPOSITORY.match(name):
        raise SourceProblem(
            "repository",
            f"“{repository.strip()}” is not a GitHub repository name: write owner/name, "
            "e.g. octo-lab/analysis-scripts (as in its address github.com/owner/name).",
        )
    if forge == Forge.GITLAB and not _GITLAB_REPOSITORY.match(name):
        raise SourceProblem(
            "repository",
            f"“{repository.strip()}” is not a GitLab project path: write group/project, or "
            "group/subgroup/project (as in its address gitlab.com/group/project).",
        )
    if any(part in (".", "..") for part in name.split("/")):
        raise SourceProblem("repository", "A repository name cannot be “.” or “..”.")
    return name


def check_api_url(forge: Forge, api_url: str) -> str:
    url = (api_url or "").strip().rstrip("/") or DEFAULT_API_URLS[forge]
    if not re.match(r"^https?://", url):
        raise SourceProblem(
            "api_url", f"The API URL must be an http(s) address, e.g. {DEFAULT_API_URLS[forge]}"
        )
    if not host_allowed(url, settings.ALLOWED_FORGE_HOSTS):
        host = url.split("://", 1)[1].split("/", 1)[0]
        raise SourceProblem(
            "api_url",
            f"{host} is not an allowed code forge host. Leave the field empty for "
            f"{Forge(forge).label} itself, or ask the portal's operators to add the host to "
            "ALLOWED_FORGE_HOSTS.",
        )
    return url


def check_missed(missed: str) -> str:
    try:
        return MissedRelease(missed or MissedRelease.IMPORT).value
    except ValueError:
        raise SourceProblem("missed", "Choose what to do with a missed release.") from None


# --------------------------------------------------------------------------- what people see


def endpoint_url(source: ReleaseSource) -> str:
    """Where the forge sends the source's webhooks (the Payload URL / URL to paste)."""
    path = reverse("release-hook", kwargs={"key": source.key})
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def repository_url(source: ReleaseSource) -> str:
    """The repository's own page on its forge (from the API root: api.github.com ->
    github.com, https://host/api/v3 -> https://host, https://host/api/v4 -> https://host)."""
    api = source.api_url.rstrip("/")
    if source.forge == Forge.GITHUB:
        root = "https://github.com" if api == DEFAULT_API_URLS[Forge.GITHUB] else api
        root = root.removesuffix("/api/v3")
    else:
        root = api.removesuffix("/api/v4")
    return f"{root}/{source.repository}"


def can_replay(release: Release) -> bool:
    return release.status in REPLAYABLE


# --------------------------------------------------------------------------- changes


def _event(source: ReleaseSource, deposit: Deposit, user: User, message: str, **data: Any) -> None:
    record_event(
        deposit,
        "release_source",
        user=user,
        message=message,
        data={"source": source.pk, "repository": source.repository, **data},
    )


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def create_source(
    deposit: Deposit,
    *,
    forge: str,
    repository: str,
    api_url: str = "",
    token: str = "",
    include_drafts: bool = False,
    include_prereleases: bool = False,
    missed: str = "import",
    user: User,
) -> tuple[ReleaseSource, str]:
    """Link ``deposit`` to a forge repository; returns the source and its new secret,
    which is shown once and never again."""
    access.require_admin(user, deposit.team, "link repositories as release sources")  # type: ignore[arg-type]
    kind = check_forge(forge)
    source = ReleaseSource(
        team_id=deposit.team_id,
        deposit=deposit,
        forge=kind.value,
        repository=check_repository(kind, repository),
        api_url=check_api_url(kind, api_url),
        key=secrets.token_urlsafe(24),
        include_drafts=bool(include_drafts),
        include_prereleases=bool(include_prereleases),
        missed=check_missed(missed),
        created_by=user if getattr(user, "is_authenticated", False) else None,  # type: ignore[misc]
    )
    _refuse_duplicate(source)
    secret = _new_secret()
    source.set_secret(secret)
    source.set_token(token.strip())
    with transaction.atomic():
        try:
            source.save()
        except IntegrityError:
            raise _duplicate(source) from None
        _event(
            source,
            deposit,
            user,
            f"Linked {source} as a release source"
            + (" (with a forge token)" if source.token_encrypted else ""),
        )
        jobs.enqueue_listing(source.pk)
        if source.token_encrypted:
            jobs.enqueue_token_check(source.pk)
    return source, secret


def _duplicate(source: ReleaseSource) -> SourceProblem:
    return SourceProblem(
        "repository",
        f"{source.get_forge_display()} {source.repository} is already a release source of "
        "this deposit: open it from the team's release sources.",
    )


def _refuse_duplicate(source: ReleaseSource) -> None:
    same = ReleaseSource.objects.filter(
        deposit_id=source.deposit_id, forge=source.forge, repository=source.repository
    ).exclude(pk=source.pk)
    if same.exists():
        raise _duplicate(source)


def update_source(source: ReleaseSource, *, user: User, **changes: Any) -> list[str]:
    """Change a source's settings (any of: deposit, forge, repository, api_url, token,
    remove_token, include_drafts, include_prereleases, missed, enabled); returns the names
    of what changed. A token left out (or empty) stays, unless the forge or API URL changes:
    then it must come again (or be removed), so it never goes to another address."""
    access.require_admin(user, source.team, "change its release sources")  # type: ignore[arg-type]
    unknown = sorted(set(changes) - set(_SETTING_WORDS) - {"token", "remove_token"})
    if unknown:
        raise NotAllowed(f"A release source has no setting {', '.join(unknown)}.")
    token = (changes.pop("token", "") or "").strip()
    remove_token = bool(changes.pop("remove_token", False))
    wanted = _checked(source, changes)
    changed = [name for name, value in wanted.items() if getattr(source, name) != value]
    moved = any(name in ("forge", "api_url") for name in changed)
    if moved and source.token_encrypted and not token and not remove_token:
        raise SourceProblem(
            "token",
            "A new forge or API URL needs the token again: enter it (or remove the token), "
            "so the stored token is never sent to an address it was not given for.",
        )
    old_deposit = source.deposit
    for name in changed:
        setattr(source, name, wanted[name])
    if token or (remove_token and source.token_encrypted):
        source.set_token(token if token else "")
        changed.append("token")
    if not changed:
        return []
    repointed = any(name in _REPOINTING for name in changed)
    if repointed:
        source.baseline_at = None
        source.listed_at = None
        source.list_error = ""
    _refuse_duplicate(source)
    with transaction.atomic():
        source.save()
        _event(source, source.deposit, user, f"Release source {source}: {_words(changed)}")
        if source.deposit != old_deposit:
            _event(source, old_deposit, user, f"Release source {source} moved to {source.deposit}")
        if repointed:
            jobs.enqueue_listing(source.pk)
        if "token" in changed and source.token_encrypted:
            jobs.enqueue_token_check(source.pk)
    return changed


def _checked(source: ReleaseSource, changes: dict[str, Any]) -> dict[str, Any]:
    """The settings asked for, each checked as at linking."""
    forge = check_forge(changes.get("forge", source.forge))
    wanted: dict[str, Any] = {}
    if "forge" in changes:
        wanted["forge"] = forge.value
    if "repository" in changes or "forge" in changes:
        wanted["repository"] = check_repository(forge, changes.get("repository", source.repository))
    if "api_url" in changes or "forge" in changes:
        wanted["api_url"] = check_api_url(forge, changes.get("api_url", source.api_url))
    if "missed" in changes:
        wanted["missed"] = check_missed(changes["missed"])
    for name in ("include_drafts", "include_prereleases", "enabled"):
        if name in changes:
            wanted[name] = bool(changes[name])
    if "deposit" in changes:
        deposit = changes["deposit"]
        if not isinstance(deposit, Deposit) or deposit.team_id != source.team_id:
            raise SourceProblem("deposit", f"Choose a deposit of {source.team}.")
        wanted["deposit"] = deposit
    return wanted


def _words(changed: list[str]) -> str:
    names = [_SETTING_WORDS.get(name, name) for name in changed]
    return "changed " + ", ".join(names)


def rotate_secret(source: ReleaseSource, *, user: User) -> str:
    """A new secret (returned, to be shown once); the old one stops working at once."""
    access.require_admin(user, source.team, "rotate the secrets of its release sources")  # type: ignore[arg-type]
    secret = _new_secret()
    source.set_secret(secret)
    with transaction.atomic():
        ReleaseSource.objects.filter(pk=source.pk).update(secret_encrypted=source.secret_encrypted)
        _event(source, source.deposit, user, f"Release source {source}: new webhook secret")
    return secret


def delete_source(source: ReleaseSource, *, user: User) -> None:
    """Unlink: the endpoint answers 404 from now on; versions already made stay."""
    access.require_admin(user, source.team, "delete its release sources")  # type: ignore[arg-type]
    with transaction.atomic():
        _event(source, source.deposit, user, f"Unlinked {source} (release source deleted)")
        source.delete()


def list_now(source: ReleaseSource, *, user: User) -> None:
    """Ask a worker to list the forge's releases now (as the periodic listing does)."""
    access.require_admin(user, source.team, "list the releases of its release sources")  # type: ignore[arg-type]
    if not source.enabled:
        raise NotAllowed(f"{source} is switched off: switch it on (Edit) to list its releases.")
    jobs.enqueue_listing(source.pk)


def check_token(source: ReleaseSource, *, user: User) -> None:
    """Ask a worker to check the source's forge token once."""
    access.require_admin(user, source.team, "check the tokens of its release sources")  # type: ignore[arg-type]
    if not source.token_encrypted:
        raise NotAllowed(f"{source} has no forge token to check: add one with Edit.")
    jobs.enqueue_token_check(source.pk)


def replay(release: Release, *, user: User) -> Release:
    """Import a release the portal knows but did not import (Replay)."""
    access.require_admin(user, release.source.team, "import releases by Replay")  # type: ignore[arg-type]
    if not can_replay(release):
        raise NotAllowed(
            f"{release.tag} is {release.get_status_display().lower()}: only a known, flagged, "
            "ignored or failed release can be imported by Replay."
        )
    return importing.replay(release, user=user)
