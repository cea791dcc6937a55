"""State of the Coscine sandbox: users and their API tokens, projects, resources, the
files and metadata graph versions stored in them, publication requests, and the
control switches (faults, replaced profiles) tests drive through ``/_control/``.

Fixed catalogue entries (resource types, visibilities, disciplines, licences) are not
tables: Coscine's are the same for everyone, so ``catalog.py`` holds them.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def storage_dir() -> Path:
    path = Path(settings.VAR_DIR) / "sandbox-coscine"
    path.mkdir(parents=True, exist_ok=True)
    return path


class User(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    name = models.CharField(max_length=200, unique=True)
    display_name = models.CharField(max_length=200)
    email = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A token as users make them in their profile: a name and an expiry date."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=200)
    token_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()

    def __str__(self) -> str:
        return self.name

    def has_expired(self) -> bool:
        return self.expires <= timezone.now()


class Project(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    display_name = models.CharField(max_length=25)
    description = models.TextField()
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="projects")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    organization = models.CharField(max_length=200)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.slug


class Resource(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="resources")
    creator = models.ForeignKey(User, on_delete=models.CASCADE, related_name="resources")
    type_key = models.CharField(max_length=20)  # catalog.RESOURCE_TYPES key (general type)
    name = models.CharField(max_length=200)
    display_name = models.CharField(max_length=25)
    description = models.TextField()
    keywords = models.JSONField(default=list)
    license_id = models.CharField(max_length=36, blank=True)
    usage_rights = models.CharField(max_length=200, blank=True)
    visibility_id = models.CharField(max_length=36)
    discipline_ids = models.JSONField(default=list)
    profile_uri = models.CharField(max_length=500)
    fixed_values = models.JSONField(default=dict)
    quota_gib = models.IntegerField(default=0)
    archived = models.BooleanField(default=False)
    deleted = models.BooleanField(default=False)  # its PID then answers 410
    bucket = models.CharField(max_length=63, blank=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name

    @property
    def pid(self) -> str:
        return f"21.11102/{self.uuid}"


class StoredFile(models.Model):
    """A file stored through the REST storage endpoints (S3 resources keep theirs in S3)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=1000)
    size = models.BigIntegerField()
    created = models.DateTimeField(default=timezone.now)
    changed = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["resource", "path"], name="coscine_file_path")
        ]

    def __str__(self) -> str:
        return self.path

    @property
    def data_path(self) -> Path:
        digest = hashlib.sha256(self.path.encode()).hexdigest()
        folder = storage_dir() / str(self.resource.uuid)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / digest


class MetadataVersion(models.Model):
    """One PUT of a file's metadata graph; each PUT makes a new version."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="metadata")
    path = models.CharField(max_length=1000)
    version = models.BigIntegerField()  # Unix milliseconds, as Coscine's version numbers
    turtle = models.TextField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["version"]

    def __str__(self) -> str:
        return f"{self.path}@{self.version}"


class PublicationRequest(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="publications")
    creator = models.ForeignKey(User, on_delete=models.CASCADE, related_name="publications")
    service_ror = models.CharField(max_length=200)
    resource_ids = models.JSONField(default=list)
    message = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.uuid)


class ProfileOverride(models.Model):
    """A profile's Turtle replaced through ``/_control/`` (wins over the file)."""

    uri = models.CharField(max_length=500, unique=True)
    turtle = models.TextField()

    def __str__(self) -> str:
        return self.uri


class ControlState(models.Model):
    """The armed fault: a reply for the next ``fault_remaining`` API requests."""

    fault_status = models.IntegerField(default=0)
    fault_html = models.BooleanField(default=False)
    fault_retry_after = models.CharField(max_length=20, blank=True)
    fault_remaining = models.IntegerField(default=0)
    fault_path = models.CharField(max_length=500, blank=True)
    fault_method = models.CharField(max_length=10, blank=True)  # only this method ("" any)
    # seconds the matching request waits before it is read and answered (a slow Coscine;
    # with fault_status 0 it is then answered normally)
    fault_delay = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"fault {self.fault_status} x{self.fault_remaining}"

    @classmethod
    def get(cls) -> ControlState:
        state, _ = cls.objects.get_or_create(pk=1)
        return state
