from __future__ import annotations

from django.db import models

from deposits.repositories.base import FileState

from .accounts import LinkedAccount
from .deposits import Deposit, DepositFile


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    READY = "ready", "Ready"
    AWAITING_REVIEW = "awaiting_review", "Awaiting review"
    APPROVED = "approved", "Approved"
    QUEUED = "queued", "Queued"
    WORKING = "working", "Working"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"


FINAL_STATES = {State.DRAFT, State.READY, State.PUBLISHED, State.FAILED}
IN_FLIGHT_STATES = {State.QUEUED, State.WORKING}


class Action(models.TextChoices):
    PUBLISH = "publish", "Publish"
    NEW_VERSION = "new_version", "New version"
    PUBLISH_VERSION = "publish_version", "Publish new version"
    DISCARD_VERSION = "discard_version", "Discard new version"
    EDIT = "edit", "Edit published metadata"
    DISCARD = "discard", "Discard edit"
    DELETE = "delete", "Delete remote draft"
    # Coscine mints no DOI: publication is a request to the institution's library.
    REQUEST_PUBLICATION = "request_publication", "Request publication"


class Target(models.Model):
    """One deposit sent to one linked account: its own remote record and lifecycle."""

    deposit = models.ForeignKey(Deposit, on_delete=models.CASCADE, related_name="targets")
    account = models.ForeignKey(LinkedAccount, on_delete=models.PROTECT, related_name="targets")
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    action = models.CharField(max_length=20, choices=Action.choices, default=Action.PUBLISH)
    # Ordered step names of the action in progress, and the index of the current one.
    steps = models.JSONField(default=list, blank=True)
    step_index = models.PositiveSmallIntegerField(default=0)
    # Written before a step's remote operation: equal to step_index on a re-run means the
    # last attempt may have done it without recording it (Job.resumed).
    step_started = models.PositiveSmallIntegerField(null=True, blank=True)
    progress = models.JSONField(default=dict, blank=True)
    # Repository-specific part with no neutral equivalent (e.g. Zenodo communities).
    options = models.JSONField(default=dict, blank=True)

    remote_id = models.CharField(max_length=200, blank=True)
    remote_state = models.CharField(max_length=50, blank=True)
    remote_links = models.JSONField(default=dict, blank=True)
    # Connector-private remote state (e.g. ids of staged DataMeta metadatasets).
    remote_data = models.JSONField(default=dict, blank=True)
    # Written before a remote draft is created; lets a re-run find the draft it made.
    create_marker = models.CharField(max_length=64, blank=True)
    create_started_at = models.DateTimeField(null=True, blank=True)
    # Until when a create that got no answer (a timeout, a reset, a killed worker) could
    # still land on the repository: before then a re-run only looks for its marker.
    create_lands_by = models.DateTimeField(null=True, blank=True)

    # Local validation problems and the repository's own errors:
    # [{"field": "creators", "message": "...", "source": "zenodo"|"portal"}]
    problems = models.JSONField(default=list, blank=True)
    last_error = models.TextField(blank=True)
    retryable = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)

    lease_token = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    published_at = models.DateTimeField(null=True, blank=True)
    # What the repository holds as the last published version (``lifecycle.published``):
    # its remote record (to come back to when a new-version draft is discarded) and the
    # metadata, options and files it was published with (to show what is not sent yet).
    published_version = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created"]
        constraints = [
            models.UniqueConstraint(fields=["deposit", "account"], name="one_target_per_account")
        ]
        indexes = [models.Index(fields=["state", "lease_until"])]

    def __str__(self) -> str:
        return f"{self.deposit} -> {self.account}"

    @property
    def current_step(self) -> str:
        if self.state == State.WORKING and self.step_index < len(self.steps):
            return str(self.steps[self.step_index])
        return ""

    @property
    def in_flight(self) -> bool:
        return self.state in IN_FLIGHT_STATES


RemoteFileStatus = FileState  # the connectors' own type; choices below label each value
REMOTE_FILE_CHOICES = [
    (FileState.PENDING.value, "Pending"),
    (FileState.UPLOADING.value, "Uploading"),
    (FileState.DONE.value, "Uploaded"),
    (FileState.DELETE.value, "To delete"),
    (FileState.FAILED.value, "Failed"),
]


class RemoteFile(models.Model):
    """One deposit file as the repository holds it for one target."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="remote_files")
    file = models.ForeignKey(
        DepositFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=255)
    remote_id = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=16, choices=REMOTE_FILE_CHOICES, default=FileState.PENDING.value
    )
    bytes_sent = models.BigIntegerField(default=0)
    remote_checksum = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["target", "name"], name="one_remote_file_per_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class Scope(models.TextChoices):
    VERSION = "version", "This version"
    CONCEPT = "concept", "All versions"


class Identifier(models.Model):
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="identifiers")
    scheme = models.CharField(max_length=40)
    value = models.CharField(max_length=300)
    url = models.URLField(max_length=500, blank=True)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.VERSION)
    created = models.DateTimeField(auto_now_add=True)
    # Identifiers the repository can be asked about (Coscine's Handles, GET /pids):
    # when last asked, and what is wrong with it ("" when it resolves).
    checked_at = models.DateTimeField(null=True, blank=True)
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["scope", "created"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "scheme", "value"], name="one_identifier_per_value"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}"
