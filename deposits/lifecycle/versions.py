"""A target's published version: what it was published with, what changed here since,
the way back when a new-version draft is discarded, and a deposit's own removal.

``Target.published_version`` is written when an action that publishes finishes::

    {"remote_id", "remote_state", "remote_links", "remote_data",  # the record to return to
     "metadata", "options", "files": [{"name", "size", "md5"}],    # what it was sent with
     "version", "published_at"}
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from deposits.metadata.changes import FieldChange, FileChange, field_changes, file_changes
from deposits.models import Deposit, DepositFile, FileStatus, RemoteFile, State, Target
from deposits.repositories import registry
from deposits.repositories.base import FileState

from .drafts import edit_locked_reason, revalidate
from .states import NotAllowed, User, record_event

REMOTE_FIELDS = ("remote_id", "remote_state", "remote_links", "remote_data")


def file_list(deposit: Deposit) -> list[dict[str, Any]]:
    """The deposit's ready files as a version records them."""
    return [
        {"name": f.name, "size": f.size, "md5": f.md5}
        for f in deposit.files.all()
        if f.status == FileStatus.READY
    ]


def published_snapshot(target: Target) -> dict[str, Any]:
    """What the repository now holds as published for ``target`` (see the module doc)."""
    deposit = target.deposit
    return {
        **{name: getattr(target, name) for name in REMOTE_FIELDS},
        "metadata": deposit.metadata,
        "options": target.options,
        "files": file_list(deposit),
        "version": str(deposit.metadata.get("version") or ""),
        "published_at": timezone.now().isoformat(),
    }


def restored_fields(target: Target) -> dict[str, Any]:
    """The remote state of the last published version, to put back on the target."""
    snapshot = target.published_version or {}
    return {name: snapshot.get(name, getattr(target, name)) for name in REMOTE_FIELDS}


def restore_remote_files(target: Target) -> None:
    """After a new-version draft is gone: the files the published version holds."""
    target.remote_files.all().delete()
    files = {f.name: f for f in target.deposit.files.filter(status=FileStatus.READY)}
    for item in (target.published_version or {}).get("files", []):
        local = files.get(str(item["name"]))
        RemoteFile.objects.create(
            target=target,
            file=local if local is not None and local.md5 == item.get("md5") else None,
            name=str(item["name"]),
            status=FileState.DONE,
            remote_checksum=f"md5:{item.get('md5', '')}",
        )


@dataclass
class Unsent:
    """What the deposit here has that the published version (or open draft) does not."""

    version: str  # the published version's own version string ("v1.0"), or ""
    fields: list[FieldChange] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)
    options: list[str] = field(default_factory=list)  # option keys that differ

    def __bool__(self) -> bool:
        return bool(self.fields or self.files or self.options)


def unsent_changes(target: Target) -> Unsent | None:
    """The differences between the deposit and the target's published version, or None
    when the target has never been published (or the version was not recorded)."""
    snapshot = target.published_version or {}
    if target.published_at is None or "metadata" not in snapshot:
        return None
    before_options: dict[str, Any] = snapshot.get("options") or {}
    options = sorted(
        key
        for key in set(before_options) | set(target.options)
        if before_options.get(key) != target.options.get(key)
    )
    described = registry.get(target.account.kind).sends_description
    return Unsent(
        version=str(snapshot.get("version") or ""),
        fields=field_changes(snapshot["metadata"], target.deposit.metadata) if described else [],
        files=file_changes(snapshot.get("files") or [], file_list(target.deposit)),
        options=options,
    )


# --------------------------------------------------------------------------- people


def discard_local_edits(target: Target, *, user: User) -> list[str]:
    """Put the deposit's description, this target's options and its files back as the
    target's published version has them; returns what was undone, for the message.

    Files added since are removed; a file removed or replaced since cannot come back
    from here (the published record still holds it).
    """
    unsent = unsent_changes(target)
    if unsent is None:
        raise NotAllowed("This target has no published version to go back to.")
    reason = edit_locked_reason(target.deposit.targets.select_related("account"), "metadata")
    if reason:
        raise NotAllowed(reason)
    snapshot = target.published_version
    undone: list[str] = []
    with transaction.atomic():
        deposit = Deposit.objects.select_for_update().get(pk=target.deposit_id)
        if unsent.fields:
            deposit.metadata = snapshot["metadata"]
            deposit.save()
            undone.append(f"{len(unsent.fields)} field change(s)")
        if unsent.options:
            Target.objects.filter(pk=target.pk).update(options=snapshot.get("options") or {})
            undone.append("the repository options")
        added = [c.name for c in unsent.files if c.change == "added"]
        delete_files(DepositFile.objects.filter(deposit=deposit, name__in=added))
        if added:
            undone.append(f"{len(added)} added file(s)")
        record_event(
            target,
            "local_edits_discarded",
            user=user,
            message="Local edits discarded: back to the published version"
            + (f" {unsent.version}" if unsent.version else ""),
            data={"fields": [c.path for c in unsent.fields], "files_removed": added},
        )
    revalidate(target.deposit)
    return undone


def delete_deposit(deposit: Deposit, *, user: User) -> None:
    """Remove a deposit that no repository holds anything of; published records and
    remote drafts keep their history here, so they are refused with what to do."""
    targets = list(deposit.targets.select_related("account"))
    for target in targets:
        if target.published_at is not None or target.state == State.PUBLISHED:
            raise NotAllowed(
                f"{target.account.label} has published this deposit: its history stays here "
                "with the record's identifiers. Start a new version instead."
            )
        if target.remote_id or target.in_flight:
            raise NotAllowed(
                f"{target.account.label} holds a draft of this deposit: delete the remote "
                "draft first (on its card), then delete the deposit."
            )
    with transaction.atomic():
        title = str(deposit)
        delete_files(deposit.files.all())
        record_event(
            deposit,
            "deposit_deleted",
            user=user,
            message=f"Deleted the deposit “{title}”",
        )
        # the audit line outlives the deposit: it belongs to the team
        deposit.events.filter(kind="deposit_deleted").update(deposit=None)
        deposit.delete()


def delete_files(files: Iterable[DepositFile]) -> None:
    """Delete the rows now and their stored bytes once the transaction has committed."""
    files = list(files)
    blobs = [(f.blob.storage, str(f.blob.name)) for f in files if f.blob]
    for dfile in files:
        dfile.delete()

    def remove() -> None:
        for storage, name in blobs:
            storage.delete(name)

    transaction.on_commit(remove)
