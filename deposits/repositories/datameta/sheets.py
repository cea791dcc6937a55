"""A DataMeta target's sample table: rows cleaned, then stored as the target's options.

The rows live in ``Target.options["metadatasets"]`` (one dict per sample, keyed by the
site's field names; see ``connector``). They change through
``lifecycle.set_target_options`` like any repository's options: checked (not while a
worker is on the target), written to the audit trail, and followed by a re-validation
that moves the target between draft and ready.
"""

from __future__ import annotations

from typing import Any

from deposits import lifecycle
from deposits.lifecycle import NotAllowed, User
from deposits.models import LinkedAccount, Target

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
    cleaned = clean_rows(rows)
    if len(cleaned) > MAX_ROWS:
        raise NotAllowed(f"A submission can hold at most {MAX_ROWS} samples: split the sheet.")
    if (target.options.get("metadatasets") or []) == cleaned:
        return target
    count = f"{len(cleaned)} sample{'s' if len(cleaned) != 1 else ''}"
    return lifecycle.set_target_options(
        target, {"metadatasets": cleaned}, user=user, message=f"{how}: {count}", what="samples"
    )


def import_rows(
    target: Target, rows: list[dict[str, Any]], *, user: User, append: bool, source: str
) -> Target:
    """Rows from a sample sheet: replacing the table, or added below it."""
    current = list(target.options.get("metadatasets") or []) if append else []
    how = f"Added the samples of {source}" if append else f"Imported {source}"
    return save_rows(target, current + rows, user=user, how=how)


def refresh_fields(account: LinkedAccount, *, user: User) -> None:
    """Ask a worker to check the key and fetch the site's metadata fields again."""
    lifecycle.verify_account(account, user=user)
