"""The deposit page says, next to the file, that the portal's copy is damaged."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deposits import lifecycle
from deposits.models import Action, DepositFile, State, Target
from deposits.repositories import registry
from tests.factories import TargetFactory, add_file
from tests.lifecycle.conftest import ScriptedConnector
from tests.lifecycle.test_integrity import Repository, overwrite

pytestmark = pytest.mark.django_db

CONTENT = b"station,moisture\n" + b"lindenberg,0.31\n" * 100


def file_row(page: str, name: str) -> str:
    match = re.search(rf'<tr data-file="{re.escape(name)}".*?</tr>', page, re.S)
    assert match, f"no row for {name}"
    return match.group(0)


@pytest.fixture
def failed_on_a_damaged_copy(
    deposit: Any, zenodo_account: Any, member: Any, monkeypatch: pytest.MonkeyPatch
) -> Target:
    """A publish the worker gave up because the stored ``b.csv`` changed after upload."""
    connector = ScriptedConnector()
    monkeypatch.setattr(registry, "get", lambda kind: connector)
    Repository(connector)
    add_file(deposit, "a.csv", CONTENT)
    overwrite(add_file(deposit, "b.csv", CONTENT), CONTENT.upper())
    target: Any = TargetFactory(deposit=deposit, account=zenodo_account)
    lifecycle.revalidate(deposit)
    target.refresh_from_db()
    lifecycle.request(target, Action.PUBLISH, user=member)
    for _ in range(10):
        if not lifecycle.advance(target.pk).again:
            break
    target.refresh_from_db()
    assert target.state == State.FAILED
    return target


def test_the_file_row_shows_that_the_portals_copy_is_damaged(
    owner_client: Client, deposit: Any, failed_on_a_damaged_copy: Target
) -> None:
    page = owner_client.get(reverse("deposit", args=[deposit.pk])).content.decode()

    damaged = html.unescape(file_row(page, "b.csv"))
    assert "data-file-error" in damaged and 'role="alert"' in damaged
    assert "The portal's copy of “b.csv” is damaged: its bytes no longer match" in damaged
    assert "Nothing was sent. Remove the file from this deposit and upload it again" in damaged
    assert "data-file-error" not in file_row(page, "a.csv")
    # the same row when the file list alone is re-rendered (htmx, after a change)
    fragment = owner_client.get(
        reverse("file-list", args=[deposit.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert "copy of “b.csv” is damaged" in html.unescape(file_row(fragment, "b.csv"))


def test_the_message_goes_once_the_file_is_uploaded_again(
    owner_client: Client, deposit: Any, failed_on_a_damaged_copy: Target
) -> None:
    damaged = DepositFile.objects.get(deposit=deposit, name="b.csv")
    delete = owner_client.post(reverse("file-delete", args=[damaged.uid]), {"confirmed": "1"})
    assert delete.status_code == 302
    add_file(deposit, "b.csv", CONTENT)
    page = owner_client.get(reverse("deposit", args=[deposit.pk])).content.decode()
    assert "data-file-error" not in file_row(page, "b.csv")
