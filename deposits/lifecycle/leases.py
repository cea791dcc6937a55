"""Leases: which worker is on a target, and its signs of life.

A worker claims a target with a compare-and-set on the lease; while it works, a heartbeat
(and upload progress) keeps the lease alive. A killed worker stops beating, its lease runs
out, and the reconciler queues the target again.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from deposits.models import RemoteFile, State, Target
from deposits.repositories.base import FileState, Job, StepKind


def claim(target_id: int) -> str | None:
    """Take the target's lease if nobody holds it; None if someone does or it is not due.

    A queued target also waits while its account has MAX_ACTIVE_TARGETS_PER_ACCOUNT
    targets working: a backlog then finishes oldest first instead of every deposit
    crawling forward together on the shared rate budget (start_next_queued starts it).
    """
    now = timezone.now()
    row = Target.objects.filter(pk=target_id).values("state", "account_id").first()
    if row is None:
        return None
    if row["state"] == State.QUEUED and not room_to_start(row["account_id"]):
        return None
    token = uuid.uuid4().hex
    claimed = (
        Target.objects.filter(pk=target_id, state__in=[State.QUEUED, State.WORKING])
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(lease_token=token, lease_until=now + timedelta(seconds=settings.LEASE_SECONDS))
    )
    return token if claimed else None


def room_to_start(account_id: int) -> int:
    """How many more of the account's targets may start working now."""
    working = Target.objects.filter(account_id=account_id, state=State.WORKING).count()
    return max(0, settings.MAX_ACTIVE_TARGETS_PER_ACCOUNT - working)


def next_queued(account_id: int) -> list[int]:
    """The account's queued targets that may start now, longest waiting first."""
    room = room_to_start(account_id)
    if not room:
        return []
    queued = Target.objects.filter(account_id=account_id, state=State.QUEUED, lease_until=None)
    return list(queued.order_by("updated", "pk").values_list("pk", flat=True)[:room])


def nothing_sent(target: Target, *, kind: StepKind, marked: str) -> dict[str, Any]:
    """A step refused before any write left (our limiter, a held token, a 429 on a read)
    changed nothing on the repository: the fields that make its next attempt a first one,
    not a resumed one, which need not look before it acts (nor wait to look). The file
    marked for sending goes back to pending."""
    undo: dict[str, Any] = {"step_started": None}
    if kind == StepKind.CREATES_RECORD:
        undo.update(create_started_at=None, create_lands_by=None)
    if marked:
        RemoteFile.objects.filter(target=target, name=marked).update(status=FileState.PENDING)
    return undo


def release(target_id: int, token: str, **fields: object) -> None:
    Target.objects.filter(pk=target_id, lease_token=token).update(
        lease_token="", lease_until=None, updated=timezone.now(), **fields
    )


class Heartbeat:
    """Keeps the lease alive while this worker is alive, however long a call blocks.

    A killed worker stops beating, so its lease runs out and the reconciler resumes the
    target; a live worker waiting on a slow repository is never doubled.
    """

    def __init__(self, target_id: int, token: str) -> None:
        self.target_id = target_id
        self.token = token
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def run(self) -> None:
        interval = max(settings.LEASE_SECONDS / 3, 0.5)
        try:
            while not self.stop.wait(interval):
                Target.objects.filter(pk=self.target_id, lease_token=self.token).update(
                    lease_until=timezone.now() + timedelta(seconds=settings.LEASE_SECONDS)
                )
        finally:
            connections.close_all()


class ProgressWriter:
    """Progress callback: writes bytes sent and extends the lease, at most once a second."""

    def __init__(self, target: Target, token: str, job: Job, left_out: set[str]) -> None:
        self.target = target
        self.token = token
        self.last = 0.0
        done = [f for f in job.files if f.status == FileState.DONE and f.name not in left_out]
        pending = [f for f in job.pending_files() if f.name not in left_out]
        self.base = {
            "files_done": len(done),
            "files_total": len(done) + len(pending),
            "bytes_done": sum(f.size for f in done),  # the bar counts every file's bytes
            "bytes_total": sum(f.size for f in done + pending),
        }
        Target.objects.filter(pk=target.pk).update(progress=self.base)

    def __call__(self, name: str, sent: int) -> None:
        now = time.monotonic()
        if now - self.last < 1.0:
            return
        self.last = now
        lease = timezone.now() + timedelta(seconds=settings.LEASE_SECONDS)
        Target.objects.filter(pk=self.target.pk, lease_token=self.token).update(
            lease_until=lease, progress={**self.base, "file": name, "bytes_sent": sent}
        )
        RemoteFile.objects.filter(target=self.target, name=name).update(
            bytes_sent=sent, status=FileState.UPLOADING
        )
