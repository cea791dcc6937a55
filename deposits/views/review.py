"""The member's side of review on a deposit's page: submit, withdraw, and the thread.

Every form posts and redirects without JavaScript. With htmx the panel swaps in place: a
refusal shows next to the form (keeping what was typed), a success refreshes the page's
live part (``target-finished``) so the cards follow. While a request is open the panel
watches for a curator's answer (``review_watch``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from deposits import access
from deposits.lifecycle import review as reviews
from deposits.lifecycle.states import NotAllowed
from deposits.models import Comment, Deposit, ReviewRequest, ReviewState, State, Target

from .request import HtmxHttpRequest


@dataclass
class ReviewPanel:
    """What the review panel shows, worked out once."""

    deposit: Deposit
    shown: bool
    status: str  # "none", "open", "returned", "approved", "withdrawn"
    review: ReviewRequest | None  # the open request, or the latest one
    targets: list[Target]  # the targets whose publishing needs approval
    reviewed: list[str]  # labels of the targets in the request shown
    blockers: list[str]
    comments: list[Comment]
    state_stamp: str  # changes when the request changes (state, targets)
    thread_stamp: str  # changes when the thread gets an entry
    error: str = ""  # a refusal, shown next to the form that caused it
    error_for: str = ""  # "submit", "withdraw", "comment"
    typed: dict[str, str] = field(default_factory=dict)

    @property
    def open(self) -> bool:
        return self.status == "open"

    @property
    def can_submit(self) -> bool:
        return not self.open and not self.blockers

    @property
    def submitted_at(self) -> datetime | None:
        return self.review.submitted_at if self.review else None

    @property
    def submitted_by(self) -> str:
        person = self.review.submitted_by if self.review else None
        return (person.get_full_name() or person.username) if person else "someone"

    @property
    def decided_by(self) -> str:
        person = self.review.decided_by if self.review else None
        return (person.get_full_name() or person.username) if person else "a curator"


def _status(review: ReviewRequest | None, targets: list[Target]) -> str:
    if review is None:
        return "none"
    if review.state == ReviewState.APPROVED:
        # Approved, then changed again (a new version): that needs approval anew.
        again = any(t.state in (State.DRAFT, State.READY) for t in targets)
        return "none" if again else "approved"
    return str(review.state)


def review_panel(deposit: Deposit) -> ReviewPanel:
    targets = reviews.targets_needing_review(deposit)
    latest = deposit.reviews.select_related("submitted_by", "decided_by").order_by(
        "-submitted_at", "-pk"
    )
    review = latest.first()
    status = _status(review, targets)
    comments = list(deposit.comments.select_related("author"))
    states = ",".join(f"{t.pk}:{t.state}" for t in deposit.targets.order_by("pk"))
    return ReviewPanel(
        deposit=deposit,
        shown=bool(targets) or review is not None,
        status=status,
        review=review,
        targets=targets,
        reviewed=[t.account.label for t in review.targets.select_related("account")]
        if review is not None
        else [],
        blockers=[] if status == "open" else reviews.submission_blockers(deposit),
        comments=comments,
        state_stamp=f"{review.pk if review else 0}-{review.state if review else ''}-{states}",
        thread_stamp=str(comments[-1].pk if comments else 0),
    )


def _panel_response(
    request: HtmxHttpRequest, deposit: Deposit, fragment: str = "review-panel", **extra: Any
) -> HttpResponse:
    panel = review_panel(deposit)
    for name, value in extra.items():
        setattr(panel, name, value)
    return render(request, f"review-panel.html#{fragment}", {"review": panel, "deposit": deposit})


def _done(request: HtmxHttpRequest, deposit: Deposit, message: str) -> HttpResponse:
    messages.success(request, message)
    if not request.htmx:
        return redirect("deposit", pk=deposit.pk)
    response = _panel_response(request, deposit)
    # The cards, the locked editor and the messages follow: the live part fetches itself.
    response["HX-Trigger"] = "target-finished"
    return response


def _refused(
    request: HtmxHttpRequest, deposit: Deposit, error: str, *, what: str, typed: dict[str, str]
) -> HttpResponse:
    if not request.htmx:
        messages.error(request, error)
        return redirect("deposit", pk=deposit.pk)
    return _panel_response(request, deposit, error=error, error_for=what, typed=typed)


@require_POST
@login_required
def review_submit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deposit = access.get_deposit_for(request.user, pk)
    message = request.POST.get("message", "")
    try:
        review = reviews.submit(deposit, user=request.user, message=message)
    except (NotAllowed, PermissionDenied) as exc:
        return _refused(request, deposit, str(exc), what="submit", typed={"message": message})
    labels = ", ".join(t.account.label for t in review.targets.select_related("account"))
    return _done(
        request,
        deposit,
        f"Submitted for review ({labels}). The team's curators have been told; you will "
        "see their answer here.",
    )


@require_POST
@login_required
def review_withdraw(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deposit = access.get_deposit_for(request.user, pk)
    try:
        reviews.withdraw(deposit, user=request.user)
    except (NotAllowed, PermissionDenied) as exc:
        return _refused(request, deposit, str(exc), what="withdraw", typed={})
    return _done(
        request,
        deposit,
        "Review request withdrawn: you can change the deposit again, then submit it again.",
    )


@require_POST
@login_required
def review_comment(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deposit = access.get_deposit_for(request.user, pk)
    body = request.POST.get("body", "")
    try:
        reviews.add_comment(deposit, user=request.user, body=body)
    except (NotAllowed, PermissionDenied) as exc:
        return _refused(request, deposit, str(exc), what="comment", typed={"body": body})
    if not request.htmx:
        messages.success(request, "Message sent.")
        return redirect(reverse("deposit", args=[deposit.pk]) + "#thread")
    return _panel_response(request, deposit)


@require_GET
@login_required
def review_panel_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The panel, or one part of it (``part``=readiness: the blockers and the button,
    fetched again whenever the deposit changes)."""
    deposit = access.get_deposit_for(request.user, pk)
    part = request.GET.get("part")
    fragment = {"readiness": "review-readiness", "thread": "thread-entries"}.get(
        part or "", "review-panel"
    )
    return _panel_response(request, deposit, fragment)


@require_GET
@login_required
def review_watch(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Polled while a request is open: has a curator answered, or written?

    A change of the request (approved, returned) refreshes the page's live part, so the
    cards follow; a new entry in the thread refreshes the thread only (what is being
    typed in the message box stays).
    """
    deposit = access.get_deposit_for(request.user, pk)
    panel = review_panel(deposit)
    response = render(
        request, "review-panel.html#review-watch", {"review": panel, "deposit": deposit}
    )
    if request.GET.get("state") != panel.state_stamp:
        response["HX-Trigger"] = "target-finished"
    elif request.GET.get("thread") != panel.thread_stamp:
        response["HX-Trigger"] = "thread-changed"
    return response
