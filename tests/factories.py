"""factory_boy factories for the product's models."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from deposits.metadata import to_record
from deposits.models import (
    Deposit,
    DepositFile,
    LinkedAccount,
    Membership,
    ReleaseSource,
    Subscription,
    Target,
    Team,
)

# The editor's view of the demo deposit; FULL_METADATA is the record stored for it.
FULL_VIEW: dict[str, Any] = {
    "title": "Soil moisture at the Lindenberg site, 2024",
    "resource_type": "dataset",
    "publication_date": "2025-01-15",
    "creators": [
        {
            "name": "Lovelace, Ada",
            "affiliation": "Analytical Engines Ltd",
            "orcid": "0000-0002-1825-0097",
        },
        {"name": "Hopper, Grace", "affiliation": "US Navy"},
    ],
    "description": "<p>Hourly soil moisture from <b>12</b> probes.</p>",
    "access_right": "open",
    "license": "cc-by-4.0",
    "keywords": ["soil", "moisture"],
    "version": "1.0",
    "language": "eng",
}
FULL_METADATA: dict[str, Any] = to_record(FULL_VIEW)


def record(**view: Any) -> dict[str, Any]:
    """The stored record for the editor's fields given, e.g. ``record(title="Soil")``."""
    return to_record(view)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("secret-pass-1")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = "member"


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LinkedAccount
        skip_postgeneration_save = True

    team = factory.SubFactory(TeamFactory)
    kind = "zenodo"
    label = "Zenodo (sandbox)"
    base_url = "http://127.0.0.1:8001/api"  # the Zenodo sandbox (ZENODO_SANDBOX_URL)
    status = "ok"

    @factory.post_generation
    def token(obj: LinkedAccount, create: bool, extracted: str | None, **kwargs: Any) -> None:
        obj.set_token(extracted or "test-token-" + uuid.uuid4().hex)
        if create:
            obj.save()


class DepositFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deposit

    team = factory.SubFactory(TeamFactory)
    metadata = factory.LazyFunction(lambda: dict(FULL_METADATA))


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    deposit = factory.SubFactory(DepositFactory)
    account = factory.SubFactory(AccountFactory)


class ReleaseSourceFactory(factory.django.DjangoModelFactory):
    """A GitHub release source of a deposit, its secret "test-webhook-secret"."""

    class Meta:
        model = ReleaseSource
        skip_postgeneration_save = True

    deposit = factory.SubFactory(DepositFactory)
    team = factory.LazyAttribute(lambda o: o.deposit.team)
    forge = "github"
    repository = factory.Sequence(lambda n: f"lab/analysis-{n}")
    api_url = "https://api.github.com"
    key = factory.LazyFunction(lambda: uuid.uuid4().hex)

    @factory.post_generation
    def secret(obj: ReleaseSource, create: bool, extracted: str | None, **kwargs: Any) -> None:
        obj.set_secret(extracted or "test-webhook-secret")
        if create:
            obj.save()


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A subscription to every event, its secret a fixed Standard Webhooks key."""

    class Meta:
        model = Subscription
        skip_postgeneration_save = True

    team = factory.SubFactory(TeamFactory)
    url = "https://hooks.example.org/portal"
    events = factory.LazyFunction(
        lambda: [
            "deposit.submitted",
            "deposit.returned",
            "deposit.approved",
            "deposit.published",
            "deposit.failed",
            "deposit.new_version",
            "release.imported",
        ]
    )

    @factory.post_generation
    def secret(obj: Subscription, create: bool, extracted: str | None, **kwargs: Any) -> None:
        obj.set_secret(extracted or "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        if create:
            obj.save()


def add_file(deposit: Deposit, name: str, content: bytes) -> DepositFile:
    """A ready deposit file with its hashes, stored through the default storage."""
    dfile = DepositFile(
        deposit=deposit,
        uid=uuid.uuid4(),
        name=name,
        size=len(content),
        received=len(content),
        md5=hashlib.md5(content).hexdigest(),
        sha256=hashlib.sha256(content).hexdigest(),
        status="ready",
    )
    dfile.blob.save(name, ContentFile(content), save=False)
    dfile.save()
    return dfile
