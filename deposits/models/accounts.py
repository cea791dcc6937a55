from __future__ import annotations

from django.db import models
from django.utils import timezone

from deposits import secrets
from deposits.repositories import registry
from deposits.repositories.limiter import RateWindow

from .teams import Team


class AccountStatus(models.TextChoices):
    UNVERIFIED = "unverified", "Not yet verified"
    OK = "ok", "Working"
    FAILING = "failing", "Relink needed"


class CheckState(models.TextChoices):
    """Whether a verification of the token is asked for or under way (one at a time)."""

    IDLE = "", "No check under way"
    PENDING = "pending", "Check asked for"
    RUNNING = "running", "Checking"


class ReviewRule(models.TextChoices):
    """Whether publishing through one linked account needs a curator's approval."""

    TEAM = "", "As the team's policy says"
    REQUIRED = "required", "Always needs approval"
    NOT_REQUIRED = "not_required", "Never needs approval"


class LinkedAccount(models.Model):
    """A team's credentials for one repository instance."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="accounts")
    # the registered repositories (deposits/repositories/registry.py)
    kind = models.CharField(max_length=16, choices=registry.choices)
    label = models.CharField(max_length=200)
    base_url = models.URLField(help_text="The repository's API root, e.g. https://zenodo.org/api")
    token_encrypted = models.TextField(editable=False)
    token_hint = models.CharField(max_length=16, editable=False, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    identity = models.CharField(max_length=300, blank=True, help_text="Whose token this is")
    status = models.CharField(
        max_length=16, choices=AccountStatus.choices, default=AccountStatus.UNVERIFIED
    )
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The repository refused this token (an authentication failure): from then on no
    # request goes out with it -- verification, rules, workers all wait -- until a person
    # relinks it or presses Check now (some repositories disable a user after a few).
    held_since = models.DateTimeField(null=True, blank=True)
    check_state = models.CharField(
        max_length=8, choices=CheckState.choices, default=CheckState.IDLE, blank=True
    )
    check_requested_at = models.DateTimeField(null=True, blank=True)
    review = models.CharField(
        max_length=16, choices=ReviewRule.choices, default=ReviewRule.TEAM, blank=True
    )
    # [{"limit": 100, "seconds": 60}, {"limit": 5000, "seconds": 3600}]; empty = kind default
    rate_windows = models.JSONField(default=list, blank=True)
    settings = models.JSONField(default=dict, blank=True)
    # The rules the repository publishes (DataMeta metadata definitions ...), fetched by a
    # worker when linked and on a schedule; schema_digest changes when they change.
    schema = models.JSONField(default=dict, blank=True)
    schema_digest = models.CharField(max_length=64, blank=True)
    schema_fetched_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team", "label"]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_kind_display()})"

    @property
    def token(self) -> str:
        return secrets.decrypt(self.token_encrypted)

    def set_token(self, token: str) -> None:
        self.token_encrypted = secrets.encrypt(token)
        self.token_hint = secrets.mask(token)

    @property
    def needs_relink(self) -> bool:
        expired = self.expires_at is not None and self.expires_at <= timezone.now()
        return self.held or self.status == AccountStatus.FAILING or expired

    @property
    def held(self) -> bool:
        """No request may go out with the token: it failed to authenticate."""
        return self.held_since is not None

    @property
    def checking(self) -> bool:
        """A check of the token is asked for or under way."""
        return self.check_state != CheckState.IDLE

    @property
    def limiter_key(self) -> str:
        from urllib.parse import urlsplit

        return f"{urlsplit(self.base_url).netloc}:{self.pk}"

    def effective_rate_windows(self) -> list[RateWindow]:
        if self.rate_windows:
            return [RateWindow.from_json(w) for w in self.rate_windows]
        return list(registry.get(self.kind).default_rate_windows)
