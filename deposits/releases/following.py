"""An imported release follows its deposit's targets to a published version.

``follow`` runs whenever one of the deposit's targets finishes an action (the worker's
hook queues the release's task again, ``after_target_finished``) and from the sweep: by
the team's policy, an open new-version draft is published, or the deposit is submitted
for review where a target needs a curator's approval, or it is left for a person; the
release ends published (with the new identifier) or failed (with the repository's
reason), and the deposit's author, followers and the team's admins are told.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from deposits.lifecycle import drafts, review
from deposits.lifecycle.policy import needs_review
from deposits.lifecycle.states import NotAllowed
from deposits.models import (
    Action,
    Identifier,
    Membership,
    NotificationKind,
    Release,
    ReleaseStatus,
    Role,
    State,
    Target,
)
from deposits.notifications import notify

from . import jobs

log = logging.getLogger(__name__)

RS = ReleaseStatus
# Releases whose targets are still on their way: ``follow`` moves them on.
FOLLOWED = {RS.PUBLISHING, RS.PREPARED, RS.IN_REVIEW}


def set_fields(release: Release, **fields: Any) -> None:
    Release.objects.filter(pk=release.pk).update(updated=timezone.now(), **fields)
    for name, value in fields.items():
        setattr(release, name, value)


def after_target_finished(target: Target) -> None:
    """A target of the deposit finished an action: move its releases on (those imported,
    and those waiting for the deposit to be free)."""
    releases = Release.objects.filter(source__deposit_id=target.deposit_id)
    for release in releases.filter(status__in=FOLLOWED).select_related("source"):
        follow(release)
    for pk in releases.filter(status=RS.WAITING).values_list("pk", flat=True):
        jobs.enqueue_import(pk)


def _planned(release: Release) -> dict[int, dict[str, Any]]:
    return {
        int(p["target"]): p
        for p in (release.changes or {}).get("targets", [])
        if p["step"] != "skip"
    }


def follow(release: Release) -> None:
    """Move an imported release on by what its targets are doing now."""
    with transaction.atomic():
        release = (
            # the release's row only: with the join PostgreSQL would also lock the source,
            # the deposit and the team, which the endpoint and the import lock too
            Release.objects.select_for_update(of=("self",))
            .select_related("source__deposit__team")
            .get(pk=release.pk)
        )
        if release.status not in FOLLOWED:
            return
        planned = _planned(release)
        if not planned:
            if release.status != RS.PREPARED:
                _prepared(release, "None of the deposit's repositories could take it now "
                          "(none is published or ready): publish it from the deposit page.")  # fmt: skip
            return
        targets = list(
            Target.objects.filter(pk__in=planned).select_related("account", "deposit__team")
        )
        if any(t.in_flight for t in targets):
            return  # the next finish comes back here
        since = release.imported_at or release.created
        failed = [t for t in targets if t.state == State.FAILED and t.updated >= since]
        if failed:
            where = failed[0].account.label
            fail_release(release, f"{where}: {failed[0].last_error or 'the repository refused it'}")
            return
        waiting = [t for t in targets if not _published_since(t, since)]
        if not waiting:
            _published(release, targets)
        elif release.status == RS.PUBLISHING:
            _publish(release, waiting)
        elif release.status == RS.IN_REVIEW and review.open_review(release.source.deposit) is None:
            if not any(t.state == State.APPROVED for t in waiting):
                _prepared(release, "A curator returned it: change what they asked, then publish "
                          "it from the deposit page.")  # fmt: skip
        elif release.status == RS.PREPARED and not release.finished_at:
            _prepared(release, "Review the changes and publish it from the deposit page.")


def _published_since(target: Target, since: Any) -> bool:
    return (
        target.state == State.PUBLISHED
        and target.published_at is not None
        and target.published_at >= since
    )


def _publish(release: Release, waiting: list[Target]) -> None:
    """Policy "publish": each open draft is published, or the deposit goes to review."""
    deposit = release.source.deposit
    drafty = [t for t in waiting if t.state == State.DRAFT]
    if drafty:
        t = drafty[0]
        first = "; ".join(str(p.get("message", "")) for p in t.problems[:3])
        fail_release(release, f"{t.account.label} needs fixes before the new version can be "
              f"published: {first}. Fix them on the deposit page and publish it there.")  # fmt: skip
        return
    reviewed = [t for t in waiting if needs_review(t)]
    try:
        if reviewed:
            if review.open_review(deposit) is None:
                review.submit(
                    deposit,
                    user=None,
                    message=f"Release {release.tag} of {release.source} was imported as a "
                    "new version.",
                    by=f"The release {release.tag} of {release.source}",
                )
            set_fields(release, status=RS.IN_REVIEW, message="Submitted for a curator's approval.")
        for target in waiting:
            if target not in reviewed and target.state == State.READY:
                action = review.reviewed_action(target) or Action.PUBLISH
                drafts.request(target, action, user=None)
    except NotAllowed as exc:
        fail_release(release, f"The new version could not be published: {exc}")


def _prepared(release: Release, what: str) -> None:
    set_fields(
        release,
        status=RS.PREPARED,
        finished_at=timezone.now(),
        message=f"New version {release.changes.get('version_after', '')} prepared. {what}",
    )
    _tell(release, NotificationKind.RELEASE_IMPORTED, release.message)


def _published(release: Release, targets: list[Target]) -> None:
    found = []
    for target in targets:
        ident = Identifier.objects.filter(target=target, scope="version").order_by("-created")
        latest = ident.first()
        if latest is not None:
            found.append(f"{latest.scheme.upper()} {latest.value}")
    shown = f"Published as {', '.join(found)}"
    set_fields(
        release,
        status=RS.PUBLISHED,
        finished_at=timezone.now(),
        message=shown if found else "Published",
    )
    _tell(
        release,
        NotificationKind.RELEASE_IMPORTED,
        f"Release {release.tag} of {release.source} became a new version of “"
        f"{release.source.deposit}”: {release.message}.",
    )


def fail_release(release: Release, message: str) -> None:
    set_fields(release, status=RS.FAILED, finished_at=timezone.now(), message=message)
    _tell(
        release,
        NotificationKind.RELEASE_FAILED,
        f"Release {release.tag} of {release.source} could not become a new version of “"
        f"{release.source.deposit}”: {message} Open the release to see what happened; once "
        "fixed, press Replay.",
    )


def _release_url(release: Release) -> str:
    try:
        return reverse("release", args=[release.pk])
    except NoReverseMatch:  # the release pages are not installed
        return reverse("deposit", args=[release.source.deposit_id])


def _tell(release: Release, kind: NotificationKind, message: str) -> None:
    """The deposit's author, its followers and the team's admins."""
    deposit = release.source.deposit
    admins = Membership.objects.filter(team_id=deposit.team_id, role=Role.ADMIN)
    people: list[AbstractBaseUser | None] = [
        deposit.created_by,
        *deposit.followers.all(),
        *(m.user for m in admins.select_related("user")),
    ]
    try:
        with transaction.atomic():
            notify(kind, deposit, people, message, url=_release_url(release))
    except Exception:
        log.exception("no notification made for release %s", release.pk)
