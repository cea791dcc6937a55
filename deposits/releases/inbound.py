"""A release source's endpoint: deliveries checked, deduplicated and logged; releases
recorded once whichever way they came (a delivery, the periodic listing).

Every request to a known endpoint is one ``Delivery`` in the source's log, refused ones
included (the body is never kept). A release is answered with 202 at once: the import
is a worker's (``jobs.enqueue_import``, once the transaction commits).

Deduplication, in two layers:
* by delivery id: the first *verified* delivery with an id claims it (a unique
  constraint), so a redelivery or a replayed request creates nothing new. A forged
  request cannot take a real delivery's id first: it never gets that far.
* by release id: GitHub sends several events for one release (created, published,
  released); the first makes the ``Release``, the others find it.
Requests for one source are serialized by a lock on its row, so two identical
deliveries at the same instant still make one release and one accepted delivery.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from deposits.models import (
    Delivery,
    DeliveryOutcome,
    MissedRelease,
    Release,
    ReleaseFoundBy,
    ReleaseSource,
    ReleaseStatus,
)
from deposits.sizes import human_size

from . import forges, jobs
from .forges import Incoming, Refused, ReleaseInfo

log = logging.getLogger(__name__)

# The newest deliveries kept in each source's log; older ones are pruned as new ones come.
DELIVERY_LOG_KEEP = 500

Reply = tuple[int, dict[str, Any]]


@dataclass
class _Entry:
    """The Delivery row being written for one request."""

    source: ReleaseSource
    delivery_id: str
    event: str
    body_size: int
    started: float = field(default_factory=time.monotonic)

    def fields(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "event": self.event,
            "body_size": min(self.body_size, 2**31 - 1),
            "duration_ms": int((time.monotonic() - self.started) * 1000),
        }


def receive(key: str, headers: Mapping[str, str], body: bytes, *, method: str = "POST") -> Reply:
    """The endpoint's whole work: (HTTP status, JSON reply) for one request.

    ``body`` is what the view read: at most RELEASE_WEBHOOK_MAX_BYTES + 1 bytes, or
    nothing when the declared Content-Length was already too large."""
    source = ReleaseSource.objects.filter(key=key).first()
    if source is None:
        return 404, _said(
            "No release source has this endpoint: copy the endpoint URL again from the "
            "release source's page in the portal."
        )
    lowered = {k.lower(): v for k, v in headers.items()}
    kind = forges.get(source.forge)
    entry = _Entry(source, kind.delivery_id(lowered), kind.event(lowered), _size(lowered, body))
    try:
        _admit(source, kind, lowered, body, method=method, size=entry.body_size)
    except Refused as refused:
        return _refused(entry, refused, verified=False)
    try:
        incoming = kind.parse(lowered, body)
    except Refused as refused:
        return _refused(entry, refused, verified=True)
    return _process(entry, incoming)


def _size(headers: Mapping[str, str], body: bytes) -> int:
    declared = headers.get("content-length", "").strip()
    return max(len(body), int(declared) if declared.isdigit() else 0)


def _admit(
    source: ReleaseSource,
    kind: forges.ForgeKind,
    headers: Mapping[str, str],
    body: bytes,
    *,
    method: str,
    size: int,
) -> None:
    if method.upper() != "POST":
        raise Refused(
            405,
            f"This endpoint takes POST requests from {kind.label}'s webhook, not {method}.",
        )
    limit = settings.RELEASE_WEBHOOK_MAX_BYTES
    if size > limit:
        raise Refused(
            413,
            f"The request is larger than {human_size(limit)}, more than any release event: "
            "set the webhook to send Releases only.",
        )
    if not source.enabled:
        raise Refused(
            409,
            f"This release source ({source}) is switched off, so releases are not taken: "
            "an admin of the team can switch it on again, then redeliver.",
        )
    kind.verify(source.secret, headers, body)


# --------------------------------------------------------------------------- writing the log


def _refused(entry: _Entry, refused: Refused, *, verified: bool) -> Reply:
    row = {
        **entry.fields(),
        "verified": verified,
        "outcome": DeliveryOutcome.REFUSED,
        "http_status": refused.status,
        "message": refused.message,
    }
    with transaction.atomic():
        try:
            # a verified request keeps its id; a repeat of it (redelivered, refused again)
            # cannot claim it twice and is logged without
            with transaction.atomic():
                Delivery.objects.create(**row, delivery_id=entry.delivery_id)
        except IntegrityError:
            Delivery.objects.create(**row, delivery_id="")
        _prune(entry.source.pk)
    log.info("release hook %s refused %s: %s", entry.source.pk, refused.status, refused.message)
    return refused.status, _said(refused.message)


def _process(entry: _Entry, incoming: Incoming) -> Reply:
    with transaction.atomic():
        _lock(entry.source)
        row = _claim(entry, incoming)
        if row is None:
            return _duplicate_delivery(entry, incoming)
        status, reply, outcome, release = _handle(entry.source, incoming)
        Delivery.objects.filter(pk=row.pk).update(
            outcome=outcome,
            http_status=status,
            message=reply["message"],
            release=release,
            duration_ms=entry.fields()["duration_ms"],
        )
        _prune(entry.source.pk)
    return status, reply


def _claim(entry: _Entry, incoming: Incoming) -> Delivery | None:
    """The delivery's row, claiming its id; None if a verified delivery holds it."""
    try:
        with transaction.atomic():
            return Delivery.objects.create(
                **entry.fields(),
                delivery_id=entry.delivery_id,
                verified=True,
                action=incoming.action,
                outcome=DeliveryOutcome.ACCEPTED,
                http_status=202,
            )
    except IntegrityError:
        return None


def _duplicate_delivery(entry: _Entry, incoming: Incoming) -> Reply:
    first = (
        Delivery.objects.filter(source=entry.source, delivery_id=entry.delivery_id, verified=True)
        .order_by("received_at", "pk")
        .first()
    )
    when = f" at {first.received_at:%Y-%m-%d %H:%M:%S} UTC" if first else ""
    message = f"Delivery {entry.delivery_id} was already received{when}: nothing new was done."
    Delivery.objects.create(
        **entry.fields(),
        delivery_id=entry.delivery_id,
        verified=True,
        action=incoming.action,
        outcome=DeliveryOutcome.DUPLICATE,
        http_status=200,
        message=message,
        release=first.release if first else None,
    )
    _prune(entry.source.pk)
    return 200, _said(message, ok=True)


def _handle(
    source: ReleaseSource, incoming: Incoming
) -> tuple[int, dict[str, Any], DeliveryOutcome, Release | None]:
    if incoming.ping:
        message = (
            f"pong: the release source {source} is connected; its published releases "
            f"become new versions of the deposit.{incoming.warning}"
        )
        return 200, _said(message, ok=True), DeliveryOutcome.PING, None
    info = incoming.release
    if info is None or not incoming.imports:
        known = (
            Release.objects.filter(source=source, release_id=info.release_id).first()
            if info
            else None
        )
        message = (
            f"The {incoming.event} action {incoming.action!r} changes nothing here: only "
            "published releases become versions."
        )
        return 200, _said(message, ok=True), DeliveryOutcome.IGNORED, known
    release, created = record_release(source, info, found_by=ReleaseFoundBy.WEBHOOK)
    if not created:
        message = f"Release {release.tag} was already received: nothing new was done."
        return 200, _about(release, message), DeliveryOutcome.DUPLICATE, release
    if release.status == ReleaseStatus.IGNORED:
        return 200, _about(release, release.message), DeliveryOutcome.IGNORED, release
    message = f"Release {release.tag} received: a worker will import it as a new version."
    return 202, _about(release, message), DeliveryOutcome.ACCEPTED, release


def _said(message: str, *, ok: bool = False) -> dict[str, Any]:
    return {"ok": ok, "message": message}


def _about(release: Release, message: str) -> dict[str, Any]:
    return {"ok": True, "release": release.tag, "status": release.status, "message": message}


def _lock(source: ReleaseSource) -> None:
    # FOR NO KEY UPDATE: it still admits the key-share locks that inserting a row which
    # points at the source takes, so two requests cannot deadlock on each other.
    ReleaseSource.objects.select_for_update(no_key=True).filter(pk=source.pk).first()


def _prune(source_id: int) -> None:
    stale = Delivery.objects.filter(source_id=source_id).order_by("-pk")
    stale_ids = list(stale.values_list("pk", flat=True)[DELIVERY_LOG_KEEP:])
    if stale_ids:
        Delivery.objects.filter(pk__in=stale_ids).delete()


# --------------------------------------------------------------------------- releases


def record_release(
    source: ReleaseSource, info: ReleaseInfo, *, found_by: ReleaseFoundBy
) -> tuple[Release, bool]:
    """The source's release with ``info.release_id``, made if it is new: RECEIVED and
    queued for import, IGNORED (a draft or pre-release the source does not take, the
    reason in its message), FLAGGED (found by the listing, the source's policy being to
    flag) or KNOWN (found by the first listing: it existed when the source was linked).
    An existing release is returned unchanged, ``created`` False; except one ignored as
    a draft or pre-release that no longer is one, which is taken up as if it were new
    (``created`` True): GitHub keeps a draft's release id when it is published.
    """
    with transaction.atomic():
        _lock(source)
        existing = Release.objects.filter(source=source, release_id=info.release_id).first()
        if existing is not None:
            return existing, _take_up(source, existing, info, found_by)
        status, message = _first_status(source, info, found_by)
        try:
            with transaction.atomic():
                release = Release.objects.create(
                    source=source,
                    found_by=found_by,
                    status=status,
                    message=message,
                    **_release_fields(info),
                )
        except IntegrityError:  # made meanwhile (a database without row locks)
            return Release.objects.get(source=source, release_id=info.release_id), False
        if status == ReleaseStatus.RECEIVED:
            jobs.enqueue_import(release.pk)
    return release, True


def _release_fields(info: ReleaseInfo) -> dict[str, Any]:
    return {
        "release_id": info.release_id,
        "tag": info.tag,
        "name": info.name,
        "draft": info.draft,
        "prerelease": info.prerelease,
        "archive_url": info.archive_url,
        "html_url": info.html_url,
        "released_at": info.released_at,
    }


def _ignored_because(source: ReleaseSource, draft: bool, prerelease: bool) -> str:
    if draft and not source.include_drafts:
        return "draft"
    if prerelease and not source.include_prereleases:
        return "pre-release"
    return ""


def _first_status(
    source: ReleaseSource, info: ReleaseInfo, found_by: ReleaseFoundBy
) -> tuple[ReleaseStatus, str]:
    reason = _ignored_because(source, info.draft, info.prerelease)
    if reason:
        return ReleaseStatus.IGNORED, (
            f"A {reason}: ignored, as this source does not import {reason}s. To import "
            f"it, let the source take {reason}s and press Replay."
        )
    if found_by == ReleaseFoundBy.BASELINE:
        return ReleaseStatus.KNOWN, (
            "It existed when the source was linked, so it was not imported; press Replay "
            "to import it."
        )
    if found_by == ReleaseFoundBy.LISTING and source.missed == MissedRelease.FLAG:
        return ReleaseStatus.FLAGGED, (
            "Found by the periodic listing: no webhook delivery brought it. This source "
            "flags missed releases: press Replay to import it."
        )
    if found_by == ReleaseFoundBy.LISTING:
        return ReleaseStatus.RECEIVED, (
            "Found by the periodic listing (no webhook delivery brought it); waiting for a "
            "worker to import it."
        )
    return ReleaseStatus.RECEIVED, "Received; waiting for a worker to import it."


def _take_up(
    source: ReleaseSource, release: Release, info: ReleaseInfo, found_by: ReleaseFoundBy
) -> bool:
    """Take up a release ignored as a draft or pre-release that no longer is one."""
    if release.status != ReleaseStatus.IGNORED:
        return False
    if not _ignored_because(source, release.draft, release.prerelease):
        return False  # ignored for another reason (a person's), not ours to undo
    if _ignored_because(source, info.draft, info.prerelease):
        return False
    status, message = _first_status(source, info, found_by)
    changed = Release.objects.filter(Q(pk=release.pk) & Q(status=ReleaseStatus.IGNORED)).update(
        status=status, message=message, found_by=found_by, **_release_fields(info)
    )
    if not changed:
        return False
    release.refresh_from_db()
    if status == ReleaseStatus.RECEIVED:
        jobs.enqueue_import(release.pk)
    return True
