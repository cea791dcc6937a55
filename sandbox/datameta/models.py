"""State of the DataMeta sandbox, shaped like DataMeta 1.1.1's own tables.

Every resource carries a UUID and, where the real server has one, a site id with the
prefixes of notes-datameta.md §10 (DMU users, DMG groups, DMS submissions, DMR
metadatasets, DMF files, DMP services). Metadata definitions, API keys and service
executions have only a UUID, as on the real server.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

SITE_PREFIXES = {
    "User": "DMU",
    "Group": "DMG",
    "Submission": "DMS",
    "MetaDataSet": "DMR",
    "File": "DMF",
    "Service": "DMP",
}
TOKEN_ALPHABET = string.ascii_letters + string.digits
# datameta.apikeys.max_expiration_period (notes §2): keys live at most this long.
MAX_KEY_DAYS = 30
# An announced file starts as an empty object (notes §20).
EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def new_token() -> str:
    """64 alphanumeric characters, like the real API keys and upload tokens (notes §2, §18)."""
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(64))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def storage_dir() -> Path:
    path = Path(settings.VAR_DIR) / "sandbox-datameta"
    path.mkdir(parents=True, exist_ok=True)
    return path


class SiteIdModel(models.Model):
    """A resource with a UUID and a human-readable site id (``DMF-06966242``)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site_id = models.CharField(max_length=12, unique=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if self.site_id:
            super().save(*args, **kwargs)  # type: ignore[arg-type]
            return
        prefix = SITE_PREFIXES[type(self).__name__]
        # Eight random digits collide rarely; retry inside a savepoint when they do.
        for _ in range(10):
            self.site_id = f"{prefix}-{secrets.randbelow(10**8):08d}"
            try:
                with transaction.atomic():
                    super().save(*args, **kwargs)  # type: ignore[arg-type]
                return
            except IntegrityError:
                if type(self).objects.filter(site_id=self.site_id).exists():  # type: ignore[attr-defined]
                    continue
                raise
        raise IntegrityError(f"no free site id for {prefix}")

    def identifier(self) -> dict[str, str]:
        return {"uuid": str(self.uuid), "site": self.site_id}


class Group(SiteIdModel):
    name = models.CharField(max_length=200, unique=True)

    def __str__(self) -> str:
        return self.name


class User(SiteIdModel):
    name = models.CharField(max_length=200)
    email = models.CharField(max_length=200, unique=True)
    # Salted SHA-256: sandbox passwords guard nothing, and Django's PBKDF2 would make
    # every seeded test database cost a second of hashing.
    password_hash = models.CharField(max_length=200, blank=True)
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="users")
    group_admin = models.BooleanField(default=False)
    site_admin = models.BooleanField(default=False)
    site_read = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.email

    def set_password(self, password: str) -> None:
        salt = secrets.token_hex(8)
        self.password_hash = f"{salt}${hash_token(salt + password)}"

    def check_password(self, password: str) -> bool:
        salt, _, digest = self.password_hash.partition("$")
        return bool(digest) and secrets.compare_digest(digest, hash_token(salt + password))


class LoginFailure(models.Model):
    """A wrong password or an expired key (notes §3): five within an hour disable the user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_failures")
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id} at {self.at}"


class ApiKey(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    token_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=200)
    expires = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.label

    @classmethod
    def issue(cls, user: User, label: str, expires: datetime | None) -> tuple[ApiKey, str]:
        token = new_token()
        key = cls.objects.create(
            user=user, token_hash=hash_token(token), label=label, expires=expires
        )
        return key, token

    def has_expired(self) -> bool:
        return self.expires is not None and timezone.now() >= self.expires


class Service(SiteIdModel):
    name = models.CharField(max_length=200, unique=True)
    users = models.ManyToManyField(User, related_name="services", blank=True)

    def __str__(self) -> str:
        return self.name


class MetaDatum(models.Model):
    """One metadata definition (notes §11); empty strings are stored as NULL."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    regex_description = models.TextField(null=True, blank=True)
    long_description = models.TextField(null=True, blank=True)
    example = models.TextField(default="", blank=True)
    regexp = models.TextField(null=True, blank=True)
    datetimefmt = models.CharField(max_length=100, null=True, blank=True)
    mandatory = models.BooleanField(default=False)
    order = models.IntegerField(default=0)
    isfile = models.BooleanField(default=False)
    submission_unique = models.BooleanField(default=False)
    site_unique = models.BooleanField(default=False)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="target_metadata"
    )

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class Submission(SiteIdModel):
    label = models.CharField(max_length=500, null=True, blank=True)
    date = models.DateTimeField(default=timezone.now)
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="submissions")

    def __str__(self) -> str:
        return self.site_id


class File(SiteIdModel):
    name = models.CharField(max_length=1000)
    checksum = models.CharField(max_length=1000)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="files")
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="files")
    content_uploaded = models.BooleanField(default=False)
    filesize = models.BigIntegerField(null=True, blank=True)
    upload_expires = models.DateTimeField()
    access_token_hash = models.CharField(max_length=64)
    # What the last upload received, computed while the bytes streamed to disk.
    uploaded_md5 = models.CharField(max_length=32, default=EMPTY_MD5)
    uploaded_size = models.BigIntegerField(default=0)
    modified = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name

    @property
    def path(self) -> Path:
        return storage_dir() / str(self.uuid)

    def is_submitted(self) -> bool:
        return self.records.filter(metadataset__submission__isnull=False).exists()


class MetaDataSet(SiteIdModel):
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="metadatasets")
    submission = models.ForeignKey(
        Submission, null=True, blank=True, on_delete=models.PROTECT, related_name="metadatasets"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.site_id


class MetaDatumRecord(models.Model):
    """One value of one metadataset; ``file`` is set when the submission links the file."""

    metadataset = models.ForeignKey(MetaDataSet, on_delete=models.CASCADE, related_name="records")
    metadatum = models.ForeignKey(MetaDatum, on_delete=models.CASCADE, related_name="records")
    value = models.TextField(null=True, blank=True)
    file = models.ForeignKey(
        File, null=True, blank=True, on_delete=models.PROTECT, related_name="records"
    )

    class Meta:
        ordering = ["metadatum__order", "metadatum_id"]
        constraints = [
            models.UniqueConstraint(fields=["metadataset", "metadatum"], name="dm_record_once")
        ]

    def __str__(self) -> str:
        return f"{self.metadatum_id}={self.value!r}"


class ServiceExecution(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="executions")
    metadataset = models.ForeignKey(
        MetaDataSet, on_delete=models.CASCADE, related_name="service_executions"
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="service_executions")
    datetime = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "metadataset"], name="dm_execute_once")
        ]

    def __str__(self) -> str:
        return str(self.uuid)


class DownloadToken(models.Model):
    """A pre-signed download URL (notes §25): reusable until it expires."""

    token = models.CharField(max_length=64, unique=True)
    file = models.ForeignKey(File, on_delete=models.CASCADE, related_name="download_tokens")
    expires = models.DateTimeField()

    def __str__(self) -> str:
        return self.token[:8]

    @classmethod
    def issue(cls, file: File, minutes: int) -> DownloadToken:
        return cls.objects.create(
            token=new_token(), file=file, expires=timezone.now() + timedelta(minutes=minutes)
        )


class ControlState(models.Model):
    """The one row the ``_control`` endpoint writes: pending faults and the service delay."""

    fault_mode = models.CharField(max_length=20, blank=True)  # "500", "html502", "slow"
    fault_remaining = models.IntegerField(default=0)
    fault_path = models.CharField(max_length=200, blank=True)
    fault_method = models.CharField(max_length=10, blank=True)
    slow_seconds = models.FloatField(default=2.0)
    service_delay = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return self.fault_mode or "no fault"

    @classmethod
    def get(cls) -> ControlState:
        state, _ = cls.objects.get_or_create(pk=1)
        return state


class RequestCounter(models.Model):
    """Requests seen per ``METHOD route`` (GET /_control shows them)."""

    key = models.CharField(max_length=100, unique=True)
    count = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
