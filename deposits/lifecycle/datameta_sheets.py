"""A DataMeta target's sample table: the one place its rows change.

The rows live in ``Target.options["metadatasets"]`` (one dict per sample, keyed by the
site's field names; see deposits/repositories/datameta.py). Changing them is checked
(not while a worker is on the target), written to the audit trail, and followed by a
re-validation that moves the target between draft and ready.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from deposits.models import LinkedAccount, RepositoryKind, Target

from .drafts import edit_locked_reason, revalidate
from .states import NotAllowed, User, enqueue_verify, record_event

# Big enough for any real sample sheet, small enough to keep a page renderable.
MAX_ROWS = 5000


def clean_rows(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Rows as stored: text values, trimmed, empty cells dropped, empty rows dropped."""
    cleaned = []
    for row in rows:
        values = {
            str(k): str(v).strip()
            for k, v in row.items()
            if k and v is not None and str(v).strip() != ""
        }
        if values:
            cleaned.append(values)
    return cleaned


def save_rows(
    target: Target,
    rows: list[dict[str, Any]],
    *,
    user: User,
    how: str = "Edited the sample table",
) -> Target:
    """Replace the target's sample rows; say what is still wrong through re-validation."""
    if target.account.kind != RepositoryKind.DATAMETA:
        raise NotAllowed("Only a DataMeta target has a sample table.")
    reason = edit_locked_reason([target], "samples")
    if reason:
        raise NotAllowed(reason)
    cleaned = clean_rows(rows)
    if len(cleaned) > MAX_ROWS:
        raise NotAllowed(f"A submission can hold at most {MAX_ROWS} samples: split the sheet.")
    with transaction.atomic():
        locked = Target.objects.select_for_update().get(pk=target.pk)
        if locked.in_flight:
            raise NotAllowed("A worker just started on this target: try again when it is done.")
        before = locked.options.get("metadatasets") or []
        if before == cleaned:
            return locked
        locked.options = {**locked.options, "metadatasets": cleaned}
        locked.save(update_fields=["options", "updated"])
        record_event(
            locked,
            "datameta_rows",
            user=user,
            message=f"{how}: {len(cleaned)} sample{'s' if len(cleaned) != 1 else ''}",
            data={"rows": len(cleaned), "before": len(before)},
        )
    revalidate(locked.deposit)
    locked.refresh_from_db()
    return locked


def import_rows(
    target: Target, rows: list[dict[str, Any]], *, user: User, append: bool, source: str
) -> Target:
    """Rows from a sample sheet: replacing the table, or added below it."""
    current = list(target.options.get("metadatasets") or []) if append else []
    how = f"Added the samples of {source}" if append else f"Imported {source}"
    return save_rows(target, current + rows, user=user, how=how)


def refresh_fields(account: LinkedAccount, *, user: User) -> None:
    """Ask a worker to check the key and fetch the site's metadata fields again."""
    enqueue_verify(account.pk)
