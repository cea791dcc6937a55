from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.db import models

from deposits import metadata as md

from .teams import Team


def deposit_file_path(instance: DepositFile, filename: str) -> str:
    """Where the bytes are stored. The name people see is ``DepositFile.name``; the
    storage keeps what its rules allow of it, and a name of only symbols or emoji (which
    they reduce to nothing, or to a bare ".csv") is stored as "file" with its suffix."""
    stem, dot, suffix = get_valid_name_safe(filename).rpartition(".")
    if not dot:
        stem, suffix = suffix, ""
    safe = f"{stem or 'file'}{'.' + suffix if suffix else ''}"
    return f"deposits/{instance.deposit_id}/{instance.uid}/{safe}"


def get_valid_name_safe(filename: str) -> str:
    """The storage's own cleaning of a name, or "" where it would refuse it."""
    try:
        return str(default_storage.get_valid_name(filename))
    except SuspiciousFileOperation:
        return ""


class Deposit(models.Model):
    """The draft a team edits: neutral metadata (see deposits/metadata.py) plus files."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="deposits")
    title = models.CharField(max_length=500, blank=True, db_index=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # People told when it is published or fails (notifications); the author follows it
    # from the first submit or publish.
    followers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="followed_deposits"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated"]
        indexes = [models.Index(fields=["team", "-updated"])]

    def __str__(self) -> str:
        return self.title or f"Untitled deposit #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.title = md.title(self.metadata)[:500]
        super().save(*args, **kwargs)


class FileStatus(models.TextChoices):
    RECEIVING = "receiving", "Receiving"
    READY = "ready", "Ready"


class DepositFile(models.Model):
    """A file stored once, hashed while it was received."""

    deposit = models.ForeignKey(Deposit, on_delete=models.CASCADE, related_name="files")
    uid = models.UUIDField(unique=True)
    name = models.CharField(max_length=255)
    blob = models.FileField(upload_to=deposit_file_path, max_length=500, blank=True)
    size = models.BigIntegerField(default=0)
    received = models.BigIntegerField(default=0)
    md5 = models.CharField(max_length=32, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=16, choices=FileStatus.choices, default=FileStatus.RECEIVING
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["deposit", "name"], name="one_file_per_name")
        ]

    def __str__(self) -> str:
        return self.name
