from __future__ import annotations

from django.conf import settings
from django.db import models


class ReleasePublish(models.TextChoices):
    PUBLISH = (
        "publish",
        "Publish the new version at once (or submit it for review, where review is required)",
    )
    PREPARE = "prepare", "Prepare the new version; a person publishes it"


class Team(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    # Review policy (``lifecycle.review``): whether publishing needs a curator's approval
    # (each linked account may say otherwise), whether an author may approve their own
    # deposit, and whether plain members may review (open the queue, approve, return).
    review_required = models.BooleanField(
        default=False,
        help_text="Publishing to this team's repositories needs a curator's approval first "
        "(each linked account can override this).",
    )
    self_approval = models.BooleanField(
        default=False,
        help_text="A curator may approve a deposit they submitted themselves.",
    )
    members_review = models.BooleanField(
        default=False,
        help_text="Members (not only curators and admins) may open the review queue, "
        "approve and return deposits.",
    )
    # What a release from a linked code forge becomes (``deposits/releases/``): published
    # at once (or sent for review, where review is required), or prepared for a person.
    release_publish = models.CharField(
        max_length=10,
        choices=ReleasePublish.choices,
        default=ReleasePublish.PUBLISH,
        help_text="What a release from a linked GitHub or GitLab repository becomes.",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    MEMBER = "member", "Member"
    CURATOR = "curator", "Curator"
    ADMIN = "admin", "Admin"


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="one_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"
