"""The curator's side: the review queue of their teams, and one deposit's review page
(what it describes, its files, what changed since it was published, each repository's
verdict, the thread) with the decisions: approve, or return it to the author."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from deposits import access, lifecycle
from deposits.forms.metadata import field_label
from deposits.lifecycle import review as reviews
from deposits.lifecycle.drafts import local_problems
from deposits.metadata import sanitize_html
from deposits.metadata.changes import flat_view
from deposits.models import Deposit, ReviewRequest, ReviewState, Target
from deposits.repositories.base import Problem

from .cards import VersionChanges, target_card
from .figures import figures_for, waited
from .request import HtmxHttpRequest

RECENT_SHOWN = 20
# The description fields hold (sanitized) HTML: shown as such, not as tags.
HTML_FIELDS = {"description", "method", "notes"}

NOT_A_CURATOR = (
    "Only curators and admins of a team (or its members, where the team's policy lets "
    "members review) can open the review queue."
)


def not_a_curator(user: Any) -> str:
    names = ", ".join(str(team) for team in access.teams_for(user))
    if not names:
        return f"{NOT_A_CURATOR} You are in no team yet."
    return f"{NOT_A_CURATOR} You are a member of {names}: ask its admin if you should review."


# --------------------------------------------------------------------------- readiness


@dataclass
class Readiness:
    """One target under review, checked against its repository's rules."""

    target: Target
    local: list[Problem]  # our check of the repository's rules, now
    remote: list[Problem]  # what the repository itself said on the last attempt

    @property
    def label(self) -> str:
        return self.target.account.label

    @property
    def count(self) -> int:
        return len(self.local) + len(self.remote)

    @property
    def summary(self) -> str:
        if not self.count:
            return "Ready"
        return f"{self.count} problem{'s' if self.count != 1 else ''}"


def readiness(target: Target) -> Readiness:
    remote = [Problem.from_dict(p) for p in target.problems if p.get("source") != "portal"]
    return Readiness(target, local_problems(target), remote)


# --------------------------------------------------------------------------- queue


@dataclass
class QueueRow:
    review: ReviewRequest
    waited: str
    targets: list[Readiness]

    @property
    def deposit(self) -> Deposit:
        return self.review.deposit


def open_reviews(team_ids: set[int]) -> Any:
    return ReviewRequest.objects.filter(state=ReviewState.OPEN, deposit__team_id__in=team_ids)


@require_GET
@login_required
def review_queue(request: HtmxHttpRequest) -> HttpResponse:
    team_ids = access.curator_team_ids(request.user)
    if not team_ids:
        raise PermissionDenied(not_a_curator(request.user))
    now = timezone.now()
    waiting = (
        open_reviews(team_ids)
        .select_related("deposit__team", "submitted_by")
        .prefetch_related("targets__account", "targets__deposit")
        .order_by("submitted_at", "pk")
    )
    rows = [
        QueueRow(
            review=review,
            waited=waited(now - review.submitted_at),
            targets=[readiness(t) for t in review.targets.all()],
        )
        for review in waiting
    ]
    decided = (
        ReviewRequest.objects.filter(
            deposit__team_id__in=team_ids,
            state__in=[ReviewState.APPROVED, ReviewState.RETURNED],
        )
        .select_related("deposit__team", "submitted_by", "decided_by")
        .order_by("-decided_at", "-pk")[:RECENT_SHOWN]
    )
    return render(
        request,
        "curation/queue.html",
        {
            "rows": rows,
            "decided": list(decided),
            "figures": figures_for(team_ids, now),
        },
    )


# --------------------------------------------------------------------------- review page


@dataclass
class MetadataRow:
    path: str
    label: str
    value: str | SafeString


def metadata_rows(record: dict[str, Any]) -> list[MetadataRow]:
    rows = []
    for path, value in flat_view(record).items():
        shown: str | SafeString = value
        if path in HTML_FIELDS:
            # sanitize_html keeps only the editor's harmless tags
            shown = mark_safe(sanitize_html(value))  # noqa: S308
        rows.append(MetadataRow(path, field_label(path), shown))
    return rows


@dataclass
class TargetReview:
    """What the review page shows for one target: the verdict and what changed."""

    readiness: Readiness
    changes: VersionChanges | None  # None: never published before
    repository: str

    @property
    def target(self) -> Target:
        return self.readiness.target


def _reviewable(request: HtmxHttpRequest, pk: int) -> Deposit:
    """A member of the deposit's team who may not review is told so (403); anyone else
    outside the curator's teams gets a 404, as for every other team's object."""
    visible = access.deposits_for(request.user).filter(pk=pk).select_related("team").first()
    if visible is not None:
        access.require_reviewer(request.user, visible.team)
    return access.get_deposit_for_review(request.user, pk)


def review_context(request: HtmxHttpRequest, deposit: Deposit, **extra: Any) -> dict[str, Any]:
    review = reviews.open_review(deposit)
    targets: list[Target]
    if review is not None:
        targets = list(review.targets.select_related("account", "deposit"))
    else:
        targets = list(deposit.targets.select_related("account", "deposit"))
    shown = []
    for target in targets:
        card = target_card(target)
        shown.append(TargetReview(readiness(target), card.changes, card.repository))
    own = bool(review and review.submitted_by_id == request.user.pk)
    return {
        "deposit": deposit,
        "review": review,
        "targets": shown,
        "metadata": metadata_rows(deposit.metadata),
        "files": list(deposit.files.order_by("name")),
        "thread": list(deposit.comments.select_related("author")),
        "past": list(
            deposit.reviews.exclude(state=ReviewState.OPEN)
            .select_related("decided_by", "submitted_by")
            .order_by("-submitted_at")
        ),
        "waited": waited(timezone.now() - review.submitted_at) if review else "",
        "own_submission": own and not deposit.team.self_approval,
        "can_edit": access.deposits_for(request.user).filter(pk=deposit.pk).exists(),
        **extra,
    }


@require_GET
@login_required
def review_page(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deposit = _reviewable(request, pk)
    return render(request, "curation/review.html", review_context(request, deposit))


def _refused(request: HtmxHttpRequest, deposit: Deposit, exc: Exception, slot: str) -> HttpResponse:
    """The page again, the reason next to the control that was used; nothing changed.
    What the curator wrote stays in its field."""
    message = str(exc.args[0]) if exc.args else str(exc)
    typed = {f"typed_{k}": request.POST.get(k, "") for k in ("reason", "message", "body")}
    context = review_context(request, deposit, **{slot: message}, **typed)
    context["decision_error"] = message if slot != "comment_error" else ""
    return render(request, "curation/review.html", context, status=400)


@require_POST
@login_required
def review_approve(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deposit = _reviewable(request, pk)
    try:
        review = reviews.approve(
            deposit, user=request.user, message=request.POST.get("message", "")
        )
    except (lifecycle.NotAllowed, PermissionDenied) as exc:
        return _refused(request, deposit, exc, "approve_error")
    labels = ", ".join(t.account.label for t in review.targets.select_related("account"))
    messages.success(
        request, f"Approved “{deposit}”: it is queued to publish on {labels}. The author is told."
    )
    return redirect("review-queue")


@require_POST
@login_required
def review_return(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deposit = _reviewable(request, pk)
    reason = request.POST.get("reason", "")
    if not reason.strip():
        error = lifecycle.NotAllowed(
            "Write why you return it: the author needs the reason to fix it."
        )
        return _refused(request, deposit, error, "return_error")
    try:
        review = reviews.return_to_author(deposit, user=request.user, reason=reason)
    except (lifecycle.NotAllowed, PermissionDenied) as exc:
        return _refused(request, deposit, exc, "return_error")
    author = review.submitted_by
    who = (author.get_full_name() or author.username) if author else "the author"
    messages.success(request, f"Returned “{deposit}” to {who} with your reason.")
    return redirect("review-queue")


@require_POST
@login_required
def review_comment(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deposit = _reviewable(request, pk)
    try:
        reviews.add_comment(deposit, user=request.user, body=request.POST.get("body", ""))
    except lifecycle.NotAllowed as exc:
        return _refused(request, deposit, exc, "comment_error")
    messages.success(request, "Your message is on the thread.")
    return redirect(reverse("review", args=[deposit.pk]) + "#thread")
