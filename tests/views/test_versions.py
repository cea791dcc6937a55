"""What is not sent yet, discarding it, and deleting a deposit: who may, and when not."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deposits.lifecycle.versions import published_snapshot, unsent_changes
from deposits.models import Deposit, Event, Target
from tests.factories import AccountFactory, TargetFactory, add_file


def publish_here(target: Target, **fields: Any) -> Target:
    """Mark the target published with what the deposit holds now."""
    target.state, target.published_at, target.remote_id = "published", timezone.now(), "7"
    target.remote_state = "done"
    for name, value in fields.items():
        setattr(target, name, value)
    target.published_version = published_snapshot(target)
    target.save()
    return target


def test_a_repository_never_sent_the_description_misses_none_of_its_changes(
    team: Any, deposit: Any
) -> None:
    datameta = AccountFactory(team=team, kind="datameta", label="DataMeta")
    target = publish_here(TargetFactory(deposit=deposit, account=datameta))
    deposit.metadata = {**deposit.metadata, "version": "v9"}
    deposit.save()
    unsent = unsent_changes(target)
    assert unsent is not None and not unsent  # its samples and files are unchanged
    add_file(deposit, "AB12.fastq.gz", b"@r\nACGT\n")
    assert [c.name for c in unsent_changes(target).files] == ["AB12.fastq.gz"]  # type: ignore[union-attr]


def test_a_member_discards_local_edits_after_confirming(
    member_client: Client, deposit: Any, target: Any
) -> None:
    target = publish_here(target)
    before = deposit.metadata
    deposit.metadata = {**deposit.metadata, "version": "v2"}
    deposit.save()
    url = reverse("target-discard-local", args=[target.pk])
    asked = member_client.get(url).content.decode()
    assert "→ “v2”" in asked
    assert "The description goes back" in asked and "Nothing is sent" in asked
    assert Deposit.objects.get(pk=deposit.pk).metadata["version"] == "v2"  # not yet
    member_client.post(url, {"confirmed": "1"})
    assert Deposit.objects.get(pk=deposit.pk).metadata == before
    assert Event.objects.filter(target=target, kind="local_edits_discarded").exists()


def test_discarding_needs_a_published_version_and_no_worker(
    member_client: Client, deposit: Any, target: Any
) -> None:
    url = reverse("target-discard-local", args=[target.pk])
    page = member_client.post(url, {"confirmed": "1"}, follow=True).content.decode()
    assert "no published version to go back to" in page
    publish_here(target)
    Target.objects.filter(pk=target.pk).update(state="working")
    page = member_client.post(url, {"confirmed": "1"}, follow=True).content.decode()
    assert "working on this deposit" in page


def test_a_member_deletes_a_deposit_no_repository_holds(
    member_client: Client, deposit: Any, target: Any
) -> None:
    add_file(deposit, "notes.txt", b"notes\n")
    page = member_client.get(reverse("deposit", args=[deposit.pk])).content.decode()
    assert 'id="delete-deposit"' in page
    url = reverse("deposit-delete", args=[deposit.pk])
    assert "No repository holds anything of it" in member_client.get(url).content.decode()
    member_client.post(url)  # not confirmed: nothing happens
    assert Deposit.objects.filter(pk=deposit.pk).exists()
    response = member_client.post(url, {"confirmed": "1"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert not Deposit.objects.filter(pk=deposit.pk).exists()
    line = Event.objects.get(kind="deposit_deleted")
    assert line.deposit_id is None and line.team_id == deposit.team_id and line.actor


def test_a_deposit_a_repository_holds_is_never_deleted(
    member_client: Client, deposit: Any, target: Any
) -> None:
    url = reverse("deposit-delete", args=[deposit.pk])
    Target.objects.filter(pk=target.pk).update(remote_id="42", state="failed")
    page = member_client.post(url, {"confirmed": "1"}, follow=True).content.decode()
    assert "delete the remote draft first" in page and Deposit.objects.filter(pk=deposit.pk)
    assert 'id="delete-deposit"' not in page
    publish_here(Target.objects.get(pk=target.pk))
    page = member_client.post(url, {"confirmed": "1"}, follow=True).content.decode()
    assert "its history stays here" in page and Deposit.objects.filter(pk=deposit.pk)


def test_another_team_cannot_see_compare_discard_or_delete(
    stranger_client: Client, deposit: Any, target: Any
) -> None:
    publish_here(target)
    assert stranger_client.get(reverse("target-changes", args=[target.pk])).status_code == 404
    for url in (
        reverse("target-discard-local", args=[target.pk]),
        reverse("deposit-delete", args=[deposit.pk]),
    ):
        assert stranger_client.get(url).status_code == 404
        assert stranger_client.post(url, {"confirmed": "1"}).status_code == 404
    assert Deposit.objects.filter(pk=deposit.pk).exists()
