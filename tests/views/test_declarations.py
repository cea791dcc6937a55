"""The pages and the lifecycle use exactly what a connector declares: a minimal test-only
repository with no edit, its own wording, step labels and identifier scheme."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deposits import lifecycle
from deposits.models import Action, Identifier, State
from deposits.repositories import registry
from deposits.repositories.base import (
    ActionSpec,
    Connector,
    IdentifierScheme,
    LinkRole,
    Problem,
    RemotePhase,
    Step,
    StepKind,
)
from tests.factories import AccountFactory, TargetFactory


class MinimalConnector(Connector):
    kind: ClassVar[str] = "minimal"
    label: ClassVar[str] = "Minimal Archive"
    actions: ClassVar[tuple[ActionSpec, ...]] = (
        ActionSpec(
            "publish",
            "Deposit for good",
            frozenset({RemotePhase.NONE}),
            (
                Step(
                    "send", "Handing the parcel over", StepKind.SENDS_FILES, "Parcel {n} of {total}"
                ),
            ),
            consequences=("The Minimal Archive keeps the parcel forever.",),
        ),
        ActionSpec(
            "new_version",
            "Add a sequel",
            frozenset({RemotePhase.PUBLISHED}),
            (Step("sequel", "Writing the sequel"),),
        ),
    )
    identifier_schemes: ClassVar[tuple[IdentifierScheme, ...]] = (
        IdentifierScheme("ark", "ARK", "https://n2t.net/{value}", cited=True),
    )
    link_keys: ClassVar[dict[LinkRole, tuple[str, ...]]] = {LinkRole.RECORD: ("page",)}

    def validate(self, metadata: Any, options: Any, files: Any, schema: Any) -> list[Problem]:
        return []


@pytest.fixture
def minimal(team: Any) -> Iterator[Any]:
    registry.register(MinimalConnector())
    try:
        yield AccountFactory(team=team, kind="minimal", label="Parcel store")
    finally:
        registry.unregister("minimal")


def test_a_published_target_offers_only_the_declared_actions(
    owner_client: Client, deposit: Any, minimal: Any, settings: Any
) -> None:
    settings.ALLOWED_REPOSITORY_HOSTS = [*settings.ALLOWED_REPOSITORY_HOSTS, "archive.example"]
    target = TargetFactory(
        deposit=deposit,
        account=minimal,
        state=State.PUBLISHED,
        remote_id="r1",
        published_at=timezone.now(),
        remote_links={"page": "https://archive.example/r1", "html": "javascript:alert(1)"},
    )
    Identifier.objects.create(target=target, scheme="ark", value="ark:/1234/x", scope="version")
    assert lifecycle.allowed_actions(target) == [Action.NEW_VERSION]
    page = owner_client.get(reverse("deposit", args=[deposit.pk])).content.decode()
    card = page.split(f'id="target-{target.pk}"')[1].split("</article>")[0]
    assert "Add a sequel" in card
    assert "Edit published metadata" not in card and f'id="edit-{target.pk}"' not in card
    assert "ARK · This version" in card
    assert 'href="https://n2t.net/ark:/1234/x"' in card
    assert "View on Minimal Archive" in card and 'href="https://archive.example/r1"' in card
    assert "javascript:" not in card
    # an action the repository does not declare is refused, never queued
    with pytest.raises(lifecycle.NotAllowed, match="Minimal Archive has no 'Edit"):
        lifecycle.request(target, Action.EDIT, user=None)
    response = owner_client.get(reverse("target-action", args=[target.pk, "edit"]))
    assert response.status_code == 404


def test_the_confirmation_and_the_progress_use_the_declared_words(
    owner_client: Client, deposit: Any, minimal: Any
) -> None:
    target = TargetFactory(deposit=deposit, account=minimal, state=State.READY)
    body = owner_client.get(reverse("target-action", args=[target.pk, "publish"])).content.decode()
    assert "Deposit for good on Parcel store?" in body
    assert "The Minimal Archive keeps the parcel forever." in body
    target.state, target.steps, target.step_index = State.WORKING, ["send"], 0
    target.progress = {"files_done": 1, "files_total": 3}
    target.save()
    assert lifecycle.step_label(target) == "Parcel 2 of 3"
    card = owner_client.get(reverse("target-card", args=[target.pk])).content.decode()
    assert "Parcel 2 of 3" in card
