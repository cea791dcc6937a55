"""What the Zenodo sandbox stores: accounts, depositions, files, and its own knobs.

One ``Deposition`` row is one record version (deposit id == record id, notes §1.10); the
versions of one work share a ``Concept``. File bytes live on disk (see ``storage``), the
rows only describe them. The knobs, faults, counters and rate-limit hits are rows too, so
every thread and process serving the sandbox sees the same state.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class RecordId(models.Model):
    """One row per allocated record id: concepts and versions share a single sequence.

    Zenodo allocates the concept id just before the first version's id (notes §1.6,
    "concept recid = first version id - 1"), and some clients rely on it.
    """

    def __str__(self) -> str:
        return str(self.pk)

    @classmethod
    def allocate(cls) -> int:
        return cls.objects.create().pk


class Account(models.Model):
    """A sandbox user; its id is the ``owner`` integer of the depositions it creates."""

    name = models.CharField(max_length=150, unique=True)

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A personal access token, accepted as ``Authorization: Bearer`` or ``?access_token=``."""

    key = models.CharField(max_length=100, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tokens")
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"token of {self.account}"


class Concept(models.Model):
    """All versions of one work (``conceptrecid``); gets its DOI at the first publish."""

    id = models.PositiveBigIntegerField(primary_key=True)
    doi = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"concept {self.pk}"


class Deposition(models.Model):
    """One record version: a draft, a published record, or a published record being edited.

    ``metadata`` is what the deposit API shows and ``PUT`` replaces (the draft while one is
    open); ``published_metadata`` is what ``/api/records/<id>`` shows, and what ``discard``
    of an edit session goes back to.
    """

    id = models.PositiveBigIntegerField(primary_key=True)
    concept = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="versions")
    owner = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="depositions")
    bucket = models.UUIDField(default=uuid.uuid4, unique=True)
    metadata = models.JSONField(default=dict)
    published_metadata = models.JSONField(null=True, blank=True)
    is_published = models.BooleanField(default=False)
    has_draft = models.BooleanField(default=True)
    doi = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    modified = models.DateTimeField(default=timezone.now)
    published = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"deposition {self.pk}"

    @property
    def state(self) -> str:
        """``unsubmitted`` | ``inprogress`` | ``done``, never ``error`` (notes §1.3)."""
        if not self.is_published:
            return "unsubmitted"
        return "inprogress" if self.has_draft else "done"

    @classmethod
    def published_record(cls, record_id: int) -> Deposition | None:
        """The published record ``record_id`` (with its concept), or None."""
        found = cls.objects.select_related("concept").filter(pk=record_id, is_published=True)
        return found.first()

    def newest_version(self) -> Deposition:
        """The most recently published version of this work (``links.latest``)."""
        versions = Deposition.objects.filter(concept_id=self.concept_id, is_published=True)
        return versions.order_by("-published").first() or self

    def next_draft(self) -> Deposition | None:
        """The open new-version draft of this work, if any (one per concept, notes §1.6)."""
        return Deposition.objects.filter(concept_id=self.concept_id, is_published=False).first()

    def touch(self) -> None:
        self.modified = timezone.now()


class DepositFile(models.Model):
    """A file of a deposition's bucket; ``version_id`` names the bytes on disk."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    deposition = models.ForeignKey(Deposition, on_delete=models.CASCADE, related_name="files")
    key = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    md5 = models.CharField(max_length=32)
    mimetype = models.CharField(max_length=100, default="application/octet-stream")
    version_id = models.UUIDField(default=uuid.uuid4, unique=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "key"]
        constraints = [
            models.UniqueConstraint(fields=["deposition", "key"], name="sandbox_zenodo_unique_key")
        ]

    def __str__(self) -> str:
        return self.key


class Knobs(models.Model):
    """The one row of runtime overrides set through ``/_control`` (see ``faults.Config``)."""

    overrides = models.JSONField(default=dict)

    def __str__(self) -> str:
        return "sandbox knobs"


class Fault(models.Model):
    """A queued misbehaviour: the next ``remaining`` matching requests get it."""

    class Kind(models.TextChoices):
        ERROR = "error", "JSON error reply (500 with error_id by default)"
        GATEWAY = "gateway", "HTML gateway page from the proxy (502/503/504)"
        RESET = "reset", "connection reset in the middle of a bucket upload"
        SLOW = "slow", "reply after a delay"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    remaining = models.PositiveIntegerField(default=1)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=300, blank=True, help_text="regex searched in the path")
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True)
    delay_seconds = models.FloatField(default=0)
    after_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.kind} x{self.remaining}"


class Counter(models.Model):
    """A named tally the benchmarks read back (requests per endpoint, 429s, files...)."""

    name = models.CharField(max_length=200, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class RateKey(models.Model):
    """One row per rate-limited caller, locked while its window is counted."""

    key = models.CharField(max_length=200, primary_key=True)

    def __str__(self) -> str:
        return self.key


class RateHit(models.Model):
    """One accepted request of a caller, at epoch seconds ``at`` (a moving window)."""

    key = models.CharField(max_length=200)
    at = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["key", "at"], name="sandbox_zenodo_ratehit_at")]

    def __str__(self) -> str:
        return f"{self.key}@{self.at}"
