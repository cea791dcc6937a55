"""What the forge sandbox stores: repositories with their files, releases, webhooks, the
deliveries sent to them, and the access tokens it accepts.

One table for both forges: ``forge`` says whether a row answers as GitHub or as GitLab.
A repository's row id is GitHub's repository id and GitLab's project id; a release's row
id is GitHub's release id. Everything is a row, so every process serving the sandbox sees
the same state.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any
from urllib.parse import quote

from django.db import models
from django.utils import timezone

GITHUB = "github"
GITLAB = "gitlab"


class Forge(models.TextChoices):
    GITHUB = GITHUB, "GitHub"
    GITLAB = GITLAB, "GitLab"


class ForgeRepo(models.Model):
    """A repository (GitHub) or project (GitLab) at ``path`` ("owner/name", or
    "group/subgroup/project" on GitLab); ``files`` {name: text} are its files at every tag
    (a release adds or changes some, see ``ForgeRelease.files``)."""

    forge = models.CharField(max_length=10, choices=Forge.choices)
    path = models.CharField(max_length=255)
    files = models.JSONField(default=dict)
    private = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["forge", "path"]
        constraints = [
            models.UniqueConstraint(fields=["forge", "path"], name="sandbox_forge_unique_repo")
        ]

    def __str__(self) -> str:
        return f"{self.get_forge_display()} {self.path}"

    @property
    def owner(self) -> str:
        return self.path.rsplit("/", 1)[0]

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class ForgeRelease(models.Model):
    """A release of ``repo`` at ``tag``. ``files`` are all the files at this tag (the
    repository's when it was published, with those the release changed or added): a tag's
    tree never changes, so one tag always has the same archive. ``sha`` is the tag's
    commit, derived from that tree."""

    repo = models.ForeignKey(ForgeRepo, on_delete=models.CASCADE, related_name="releases")
    tag = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    draft = models.BooleanField(default=False)
    prerelease = models.BooleanField(default=False)
    files = models.JSONField(default=dict)
    sha = models.CharField(max_length=40)
    author = models.CharField(max_length=100, default="octocat")
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["repo", "tag"], name="sandbox_forge_unique_tag")
        ]

    def __str__(self) -> str:
        return f"{self.repo.path} {self.tag}"

    @property
    def page_path(self) -> str:
        """Where the release's web page is (GitHub's ``html_url``, GitLab's ``_links.self``)."""
        tag = quote(self.tag, safe="")
        if self.repo.forge == GITHUB:
            return f"/{self.repo.path}/releases/tag/{tag}"
        return f"/{self.repo.path}/-/releases/{tag}"

    def tree(self) -> dict[str, str]:
        """The files at this tag."""
        return dict(self.files)

    @staticmethod
    def commit_of(repo: ForgeRepo, tag: str, files: dict[str, str]) -> str:
        """A stable, commit-like sha for ``files``, the tree of ``repo`` at ``tag``."""
        tree = json.dumps(files, sort_keys=True)
        return hashlib.sha1(
            f"{repo.path}\0{tag}\0{tree}".encode(), usedforsecurity=False
        ).hexdigest()


class ForgeHook(models.Model):
    """A repository webhook for release events; ``secret`` signs (GitHub) or is sent with
    (GitLab) each delivery."""

    repo = models.ForeignKey(ForgeRepo, on_delete=models.CASCADE, related_name="hooks")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=255, blank=True)
    active = models.BooleanField(default=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"hook {self.pk} of {self.repo.path}"


class ForgeDelivery(models.Model):
    """One request sent to a hook, and what came back. ``guid`` is the delivery id
    (X-GitHub-Delivery, X-Gitlab-Event-UUID); a redelivery is a new row with the same one.
    ``headers`` are as sent, but for a GitLab token (shown redacted, as GitLab does)."""

    hook = models.ForeignKey(ForgeHook, on_delete=models.CASCADE, related_name="deliveries")
    release = models.ForeignKey(
        ForgeRelease, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    guid = models.CharField(max_length=64, db_index=True)
    event = models.CharField(max_length=50)
    action = models.CharField(max_length=50, blank=True)
    redelivery = models.BooleanField(default=False)
    headers = models.JSONField(default=dict)
    body = models.TextField()
    status = models.PositiveIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict)
    response_body = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"delivery {self.guid} ({self.event} {self.action})"

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.guid,
            "pk": self.pk,
            "hook": self.hook_id,
            "event": self.event,
            "action": self.action,
            "redelivery": self.redelivery,
            "status": self.status,
            "ms": self.duration_ms,
            "error": self.error,
        }

    def record(self) -> dict[str, Any]:
        """Everything about it: what was sent and what came back."""
        return {
            **self.summary(),
            "url": self.hook.url,
            "release": self.release_id,
            "delivered_at": self.created.isoformat(),
            "request": {"headers": self.headers, "body": self.body},
            "response": {"headers": self.response_headers, "body": self.response_body},
        }


class ForgeToken(models.Model):
    """An access token the sandbox accepts for ``login`` (GitHub) or username (GitLab)."""

    forge = models.CharField(max_length=10, choices=Forge.choices)
    token = models.CharField(max_length=255, unique=True)
    login = models.CharField(max_length=100)
    revoked = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_forge_display()} token of {self.login}"
