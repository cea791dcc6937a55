"""The one place a deposit's neutral metadata changes: the portal's editor, the admin's
(the same form) and bulk actions all save through ``save_metadata``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from deposits.metadata import to_view
from deposits.models import Deposit, Event

from . import review
from .drafts import edit_locked_reason, revalidate
from .states import NotAllowed, User, record_event

# Saves within this long of the previous one, by the same person, extend its audit line.
EDIT_SESSION = timedelta(minutes=10)


def save_metadata(
    deposit: Deposit,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    user: User,
    reviewer: bool = False,
    note: str = "",
) -> list[str]:
    """Replace the metadata with ``change(current)`` and return the fields that changed
    (named as the editor names them), or refuse while a worker (or, unless ``reviewer``,
    a curator) has the deposit.

    Under the deposit's row lock; written to the audit trail (one line per editing session;
    a ``note``, e.g. from a bulk action, always gets a line of its own) and, when a reviewer
    changes a deposit under review, to its thread. Validated again after.
    """
    with transaction.atomic():
        locked = Deposit.objects.select_for_update().get(pk=deposit.pk)
        reason = edit_locked_reason(
            locked.targets.select_related("account"), "metadata", reviewer=reviewer
        )
        if reason:
            raise NotAllowed(reason)
        old = locked.metadata
        new = change(old)
        before, after = to_view(old), to_view(new)
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        if changed:
            locked.metadata = new
            locked.save()
            what = f"Edited {', '.join(changed)}" + (f": {note}" if note else "")
            _note_edit(locked, changed, what, user=user, session=not note)
            if reviewer and review.open_review(locked) is not None:
                review.record_curator_edit(locked, user=user, what=what)
    deposit.refresh_from_db()
    revalidate(deposit)
    return changed


def _note_edit(
    deposit: Deposit, changed: list[str], message: str, *, user: User, session: bool
) -> None:
    """One audit line per editing session, not one per keystroke pause."""
    last = deposit.events.filter(target=None).first()
    if (
        session
        and last is not None
        and last.kind == "metadata_edited"
        and last.actor_id == getattr(user, "pk", None)
        and not last.data.get("note")
        and last.created >= timezone.now() - EDIT_SESSION
    ):
        fields = sorted(set(last.data.get("fields", [])) | set(changed))
        Event.objects.filter(pk=last.pk).update(
            data={"fields": fields}, message=f"Edited {', '.join(fields)}"
        )
        return
    record_event(
        deposit,
        "metadata_edited",
        user=user,
        message=message,
        data={"fields": changed, **({"note": message} if not session else {})},
    )
