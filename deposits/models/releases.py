"""Release sources: a deposit linked to a GitHub or GitLab repository, whose published
releases become new versions of it (``deposits/releases/``).

A **ReleaseSource** belongs to the team (any admin manages it) and has its own endpoint
(``/hooks/releases/<key>/``), its own secret and optionally a forge token. Each request to
the endpoint is one **Delivery** in its log, whatever came of it. Each release the portal
knows of (from a delivery, the periodic listing, or a person's replay) is one **Release**,
unique per source by the forge's release id, with what became of it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from deposits import secrets

from .deposits import Deposit, DepositFile
from .teams import Team


class Forge(models.TextChoices):
    GITHUB = "github", "GitHub"
    GITLAB = "gitlab", "GitLab"


# The forge's API root when a source names none.
DEFAULT_API_URLS = {
    Forge.GITHUB: "https://api.github.com",
    Forge.GITLAB: "https://gitlab.com/api/v4",
}


class TokenStatus(models.TextChoices):
    NONE = "", "No token (public repository)"
    UNVERIFIED = "unverified", "Not yet checked"
    OK = "ok", "Working"
    FAILING = "failing", "Relink needed"


class MissedRelease(models.TextChoices):
    """What the periodic listing does with a release no delivery brought."""

    IMPORT = "import", "Import it, as if its webhook had come"
    FLAG = "flag", "Flag it for a person to import (Replay)"


class ReleaseSource(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="release_sources")
    deposit = models.ForeignKey(Deposit, on_delete=models.CASCADE, related_name="release_sources")
    forge = models.CharField(max_length=10, choices=Forge.choices)
    # "owner/name" on GitHub; the project's path ("group/sub/project") on GitLab
    repository = models.CharField(max_length=300)
    api_url = models.URLField(
        max_length=500, help_text="The forge's API root, e.g. https://api.github.com"
    )
    # the endpoint's path part: /hooks/releases/<key>/ (random, url-safe, not a secret)
    key = models.CharField(max_length=64, unique=True)
    secret_encrypted = models.TextField(editable=False)
    token_encrypted = models.TextField(editable=False, blank=True)
    token_hint = models.CharField(max_length=16, editable=False, blank=True)
    token_status = models.CharField(
        max_length=12, choices=TokenStatus.choices, default=TokenStatus.NONE, blank=True
    )
    token_identity = models.CharField(max_length=300, blank=True)
    token_checked_at = models.DateTimeField(null=True, blank=True)
    token_error = models.TextField(blank=True)
    include_drafts = models.BooleanField(
        default=False, help_text="Import draft releases too (normally ignored)."
    )
    include_prereleases = models.BooleanField(
        default=False, help_text="Import pre-releases too (normally ignored)."
    )
    missed = models.CharField(
        max_length=8, choices=MissedRelease.choices, default=MissedRelease.IMPORT
    )
    enabled = models.BooleanField(default=True)
    # The periodic listing of the forge's releases: when it last ran, and what went wrong.
    listed_at = models.DateTimeField(null=True, blank=True)
    list_error = models.TextField(blank=True)
    # When the releases that existed at linking were recorded (as known, not imported).
    baseline_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team", "repository"]
        constraints = [
            models.UniqueConstraint(
                fields=["deposit", "forge", "repository"], name="one_source_per_repository"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_forge_display()} {self.repository}"

    @property
    def secret(self) -> str:
        return secrets.decrypt(self.secret_encrypted)

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = secrets.encrypt(secret)

    @property
    def token(self) -> str:
        return secrets.decrypt(self.token_encrypted) if self.token_encrypted else ""

    def set_token(self, token: str) -> None:
        """A new token (or none: "" removes it); it is checked again before it is trusted."""
        if token:
            self.token_encrypted = secrets.encrypt(token)
            self.token_hint = secrets.mask(token)
            self.token_status = TokenStatus.UNVERIFIED
        else:
            self.token_encrypted = self.token_hint = ""
            self.token_status = TokenStatus.NONE
        self.token_identity = self.token_error = ""
        self.token_checked_at = None

    @property
    def needs_relink(self) -> bool:
        return self.token_status == TokenStatus.FAILING


class DeliveryOutcome(models.TextChoices):
    ACCEPTED = "accepted", "Accepted (a release to import)"
    PING = "ping", "Ping acknowledged"
    DUPLICATE = "duplicate", "Already received"
    IGNORED = "ignored", "Ignored"
    REFUSED = "refused", "Refused"


class Delivery(models.Model):
    """One request to a source's endpoint, as the log shows it (the body is not kept)."""

    source = models.ForeignKey(ReleaseSource, on_delete=models.CASCADE, related_name="deliveries")
    # X-GitHub-Delivery / X-Gitlab-Event-UUID; deduplicates only once the request was
    # verified, so a forged one cannot take a real delivery's id first (the duplicates
    # logged after it carry the same id)
    delivery_id = models.CharField(max_length=100, blank=True)
    verified = models.BooleanField(default=False)
    event = models.CharField(max_length=60, blank=True)  # "release", "ping", "Release Hook"
    action = models.CharField(max_length=60, blank=True)  # "published", "create"
    outcome = models.CharField(max_length=10, choices=DeliveryOutcome.choices)
    http_status = models.PositiveSmallIntegerField()
    message = models.TextField(blank=True)  # what the sender was told, readable
    release = models.ForeignKey(
        "Release", null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    body_size = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "delivery_id"],
                condition=models.Q(verified=True)
                & ~models.Q(delivery_id="")
                & ~models.Q(outcome="duplicate"),
                name="one_verified_delivery_per_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event or 'request'} {self.delivery_id or '-'}: {self.outcome}"


class ReleaseFoundBy(models.TextChoices):
    WEBHOOK = "webhook", "Webhook delivery"
    LISTING = "listing", "Periodic listing (no webhook came)"
    REPLAY = "replay", "Replayed by a person"
    BASELINE = "baseline", "Existed when the source was linked"


class ReleaseStatus(models.TextChoices):
    RECEIVED = "received", "Received, waiting for a worker"
    IMPORTING = "importing", "Importing"
    WAITING = "waiting", "Waiting for the deposit to be free"
    PREPARED = "prepared", "New version prepared"
    PUBLISHING = "publishing", "Publishing"
    IN_REVIEW = "in_review", "Waiting for a curator's approval"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"
    IGNORED = "ignored", "Ignored"
    FLAGGED = "flagged", "Missed: import it by Replay"
    KNOWN = "known", "Existed before linking (not imported)"


# What a worker may still be doing to a release: the sweep picks these up again.
RELEASE_PENDING = {ReleaseStatus.RECEIVED, ReleaseStatus.IMPORTING, ReleaseStatus.WAITING}


class Release(models.Model):
    source = models.ForeignKey(ReleaseSource, on_delete=models.CASCADE, related_name="releases")
    # GitHub's numeric release id; GitLab keys releases by tag, so there it is the tag
    release_id = models.CharField(max_length=100)
    tag = models.CharField(max_length=255)
    name = models.CharField(max_length=500, blank=True)
    draft = models.BooleanField(default=False)
    prerelease = models.BooleanField(default=False)
    archive_url = models.URLField(max_length=1000, blank=True)
    html_url = models.URLField(max_length=1000, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)  # the forge's published_at
    found_by = models.CharField(max_length=10, choices=ReleaseFoundBy.choices)
    status = models.CharField(
        max_length=12, choices=ReleaseStatus.choices, default=ReleaseStatus.RECEIVED, db_index=True
    )
    # What became of it, in a sentence a person can act on.
    message = models.TextField(blank=True)
    # Every problem found in the archive or its citation file: [{"field", "message"}]
    problems = models.JSONField(default=list, blank=True)
    # The archive as downloaded, and the deposit file it became.
    archive_name = models.CharField(max_length=255, blank=True)
    archive_size = models.BigIntegerField(null=True, blank=True)
    archive_sha256 = models.CharField(max_length=64, blank=True)
    archive_md5 = models.CharField(max_length=32, blank=True)
    file = models.ForeignKey(
        DepositFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Where the metadata came from (".zenodo.json", "CITATION.cff" or "") and what it read.
    metadata_from = models.CharField(max_length=40, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # The preview: {"fields": [{"path", "label", "before", "after"}],
    #               "files": [{"name", "change"}], "version_before", "version_after"}
    changes = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["source", "release_id"], name="one_release_per_id")
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.tag}"
