"""Curation: submit for review, withdraw, approve, return, and the thread.

A target needs a curator's approval before it publishes when its linked account says so,
or the account follows the team's policy and the team's policy says so (``needs_review``).
Publishing such a target is refused (``drafts.request``); the author submits the deposit
instead. Its targets under review wait in ``awaiting_review``, the deposit's metadata and
files are locked for the author (a curator may still edit them) and a curator either
approves, which queues the publishing action for the workers, or returns it with a
reason, which unlocks it. To change something while it waits, the author withdraws the
request and submits again.

Every step writes the audit trail (an Event), an entry in the deposit's thread (a
Comment) and notifies whom it concerns.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from deposits import access
from deposits.models import (
    Action,
    Comment,
    CommentKind,
    Deposit,
    FileStatus,
    Membership,
    NotificationKind,
    ReviewRequest,
    ReviewState,
    Role,
    State,
    Target,
    WebhookEvent,
)
from deposits.notifications import notify
from deposits.outbound.events import emit
from deposits.repositories import registry

from .drafts import LOCAL_STATES, local_problems, queue_action, remote_phase, revalidate
from .policy import REVIEWED_ACTIONS, needs_review
from .states import NotAllowed, User, record_event, transition

MAX_MESSAGE = 5000


def open_review(deposit: Deposit) -> ReviewRequest | None:
    return deposit.reviews.filter(state=ReviewState.OPEN).first()


def reviewed_action(target: Target) -> Action | None:
    """The publishing action an approval would queue for ``target`` now, if any."""
    if target.state != State.READY:
        return None
    connector = registry.get(target.account.kind)
    offered = {Action(spec.action) for spec in connector.offered(remote_phase(target))}
    for action in REVIEWED_ACTIONS:
        if action in offered and target.state in LOCAL_STATES[action]:
            return action
    return None


def targets_needing_review(deposit: Deposit) -> list[Target]:
    """The deposit's targets whose next publishing needs approval (and is not done)."""
    targets = deposit.targets.select_related("account", "deposit__team")
    return [t for t in targets if needs_review(t) and t.state != State.PUBLISHED]


def submission_blockers(deposit: Deposit) -> list[str]:
    """Why the deposit cannot be submitted for review now ([] when it can)."""
    if open_review(deposit) is not None:
        return ["It is already awaiting review."]
    targets = targets_needing_review(deposit)
    if not targets:
        return ["None of its repositories needs a curator's approval: publish it directly."]
    reasons = []
    if deposit.files.filter(status=FileStatus.RECEIVING).exists():
        reasons.append("A file is still uploading: wait for it to finish (or delete it).")
    for target in targets:
        label = target.account.label
        if target.in_flight:
            reasons.append(f"{label} is working on this deposit: wait for it to finish.")
        elif target.state == State.DRAFT:
            count = len(target.problems)
            reasons.append(f"{label} needs {count} fix(es) first: see the problems listed.")
        elif target.state == State.FAILED:
            reasons.append(f"{label} failed: retry it or discard its draft first.")
        elif reviewed_action(target) is None:
            reasons.append(f"{label} has nothing to publish now.")
        elif target.account.needs_relink:
            reasons.append(f"The linked account {target.account} needs relinking first.")
    return reasons


def _deposit_url(deposit: Deposit) -> str:
    return reverse("deposit", args=[deposit.pk])


def _review_url(deposit: Deposit) -> str:
    return reverse("review", args=[deposit.pk])


def reviewers_of(deposit: Deposit) -> list[AbstractBaseUser]:
    """Who is told that a deposit awaits review: its team's curators and admins (and its
    members, where the policy lets members review)."""
    roles = [Role.CURATOR, Role.ADMIN]
    memberships = Membership.objects.filter(team_id=deposit.team_id).filter(
        Q(role__in=roles) | Q(team__members_review=True)
    )
    return [m.user for m in memberships.select_related("user")]


def _lock(deposit: Deposit) -> Deposit:
    """The deposit's row, locked: two submits (or an approve and a return) serialise."""
    return Deposit.objects.select_for_update().select_related("team").get(pk=deposit.pk)


def _text(value: str, what: str, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise NotAllowed(f"Write {what}.")
    if len(value) > MAX_MESSAGE:
        raise NotAllowed(f"Keep {what} under {MAX_MESSAGE} characters (it has {len(value)}).")
    return value


def submit(deposit: Deposit, *, user: User, message: str = "", by: str = "") -> ReviewRequest:
    """Ask the team's curators to review the deposit; its reviewed targets wait.

    ``by`` names who submitted it when no person did (an imported release)."""
    message = _text(message, "a message for the curator", required=False)
    with transaction.atomic():
        deposit = _lock(deposit)
        blockers = submission_blockers(deposit)
        if blockers:
            raise NotAllowed("Cannot submit for review yet. " + " ".join(blockers))
        targets = [t for t in targets_needing_review(deposit) if reviewed_action(t)]
        returned_before = deposit.reviews.filter(state=ReviewState.RETURNED).exists()
        review = ReviewRequest.objects.create(
            deposit=deposit,
            submitted_by=user if isinstance(user, AuthUser) else None,
            submitted_as=by[:300] if _person(user) is None else "",
            submitted_at=timezone.now(),
            actions={str(t.pk): str(reviewed_action(t)) for t in targets},
        )
        review.targets.set(targets)
        for target in targets:
            transition(target, State.AWAITING_REVIEW, user=user, message="Submitted for review")
        Comment.objects.create(
            deposit=deposit,
            review=review,
            author=_person(user),
            kind=CommentKind.SUBMITTED,
            body=message,
        )
        labels = ", ".join(t.account.label for t in targets)
        record_event(
            deposit,
            "review_resubmitted" if returned_before else "review_submitted",
            user=user,
            message=f"Submitted for review ({labels})" + (f": {message}" if message else ""),
            data={"review": review.pk, "targets": [t.pk for t in targets]},
        )
        if isinstance(user, AuthUser):
            deposit.followers.add(user)
        who = by if by and _person(user) is None else _name(user)
        notify(
            NotificationKind.REVIEW_REQUESTED,
            deposit,
            reviewers_of(deposit),
            f"{who} submitted “{deposit}” for review ({labels}).",
            url=_review_url(deposit),
            actor=user,
        )
        emit(WebhookEvent.SUBMITTED, deposit, data=_review_data(review))
    return review


def withdraw(deposit: Deposit, *, user: User) -> ReviewRequest:
    """The author takes the deposit back to change it; submitting again starts over."""
    with transaction.atomic():
        deposit = _lock(deposit)
        review = open_review(deposit)
        if review is None:
            raise NotAllowed("This deposit is not awaiting review.")
        _check_may_withdraw(review, user)
        _return_targets(review, user=user, message="Review request withdrawn")
        _decide(review, ReviewState.WITHDRAWN, user=user)
        record_event(
            deposit,
            "review_withdrawn",
            user=user,
            message="Review request withdrawn",
            data={"review": review.pk},
        )
    revalidate(deposit)
    return review


def approve(deposit: Deposit, *, user: User, message: str = "") -> ReviewRequest:
    """Approve the open request: each target under review is queued to publish."""
    message = _text(message, "a note", required=False)
    with transaction.atomic():
        deposit, review = _open_for_decision(deposit, user)
        _check_self_approval(review, user)
        targets = list(review.targets.select_related("account", "deposit__team"))
        problems = []
        for target in targets:
            found = local_problems(target)
            if found:
                problems.append(
                    f"{target.account.label}: " + "; ".join(p.message for p in found[:3])
                )
            if target.account.needs_relink:
                problems.append(
                    f"The linked account {target.account} needs relinking before anything "
                    "can be published with it."
                )
        if problems:
            raise NotAllowed(
                "It cannot be approved as it is: "
                + " ".join(problems)
                + " Return it to the author with what to fix, or fix it here."
            )
        who = _name(user)
        for target in targets:
            if target.state != State.AWAITING_REVIEW:
                continue
            transition(target, State.APPROVED, user=user, message=f"Approved by {who}")
            action = Action(review.actions.get(str(target.pk)) or Action.PUBLISH)
            queue_action(target, action, user=user, message=f"{action.label} after approval")
        _decide(review, ReviewState.APPROVED, user=user, reason=message)
        record_event(
            deposit,
            "review_approved",
            user=user,
            message=f"Approved by {who}" + (f": {message}" if message else ""),
            data={"review": review.pk},
        )
        notify(
            NotificationKind.APPROVED,
            deposit,
            [review.submitted_by],
            f"{who} approved “{deposit}”: it is being published."
            + (f" “{message}”" if message else ""),
            url=_deposit_url(deposit),
            actor=user,
        )
        emit(WebhookEvent.APPROVED, deposit, data=_review_data(review))
    return review


def return_to_author(deposit: Deposit, *, user: User, reason: str) -> ReviewRequest:
    """Send the deposit back to its author with what to fix (the reason is required)."""
    reason = _text(
        reason, "why you return it: the author needs the reason to fix it", required=True
    )
    with transaction.atomic():
        deposit, review = _open_for_decision(deposit, user)
        _return_targets(review, user=user, message="Returned to the author")
        _decide(review, ReviewState.RETURNED, user=user, reason=reason)
        who = _name(user)
        record_event(
            deposit,
            "review_returned",
            user=user,
            message=f"Returned by {who}: {reason}",
            data={"review": review.pk},
        )
        notify(
            NotificationKind.RETURNED,
            deposit,
            [review.submitted_by],
            f"{who} returned “{deposit}” to you: {reason}",
            url=_deposit_url(deposit),
            actor=user,
        )
        emit(WebhookEvent.RETURNED, deposit, data=_review_data(review))
    revalidate(deposit)
    return review


def add_comment(deposit: Deposit, *, user: User, body: str) -> Comment:
    """A message on the deposit's thread, told to the others taking part in it."""
    body = _text(body, "a message", required=True)
    with transaction.atomic():
        review = open_review(deposit)
        comment = Comment.objects.create(
            deposit=deposit,
            review=review,
            author=_person(user),
            kind=CommentKind.COMMENT,
            body=body,
        )
        record_event(deposit, "comment", user=user, message=body, data={"comment": comment.pk})
        notify(
            NotificationKind.COMMENT,
            deposit,
            thread_people(deposit),
            f"{_name(user)} wrote on “{deposit}”: {body[:200]}",
            url=_deposit_url(deposit) + "#thread",
            actor=user,
        )
    return comment


def record_curator_edit(deposit: Deposit, *, user: User, what: str) -> None:
    """A curator changed the deposit while reviewing it: say so in the thread."""
    Comment.objects.create(
        deposit=deposit,
        review=open_review(deposit),
        author=_person(user),
        kind=CommentKind.EDITED,
        body=what,
    )


def thread_people(deposit: Deposit) -> list[AbstractBaseUser]:
    """Everyone who has written on the deposit's thread, and those who follow it."""
    people = {c.author for c in deposit.comments.select_related("author") if c.author}
    people.update(deposit.followers.all())
    return sorted(people, key=lambda u: u.pk)


# --------------------------------------------------------------------------- helpers


def _review_data(review: ReviewRequest) -> dict[str, object]:
    """What a webhook says of the request: its id and the targets it concerns."""
    return {
        "review": {"id": review.pk, "targets": sorted(review.targets.values_list("pk", flat=True))}
    }


def _check_self_approval(review: ReviewRequest, user: User) -> None:
    team = review.deposit.team
    own = review.submitted_by_id and review.submitted_by_id == getattr(user, "pk", None)
    if own and not team.self_approval:
        raise NotAllowed(
            f"You submitted this deposit, and {team}'s policy needs someone else to "
            "approve it: ask another curator."
        )


def _check_may_withdraw(review: ReviewRequest, user: User) -> None:
    """Whoever submitted it, the deposit's creator, or a curator or admin of the team."""
    deposit = review.deposit
    pk = getattr(user, "pk", None)
    if pk is not None and pk in (review.submitted_by_id, deposit.created_by_id):
        return
    if access.can_review(user, deposit.team) or deposit.team_id in access.admin_team_ids(user):  # type: ignore[arg-type]
        return
    who = _name(review.submitted_by) if review.submitted_by else "whoever submitted it"
    raise PermissionDenied(
        f"Only {who}, the deposit's creator or a curator of {deposit.team} can withdraw "
        "this request."
    )


def _return_targets(review: ReviewRequest, *, user: User, message: str) -> None:
    for target in review.targets.select_related("account"):
        if target.state in (State.AWAITING_REVIEW, State.APPROVED):
            transition(target, State.DRAFT, user=user, message=message)


COMMENT_FOR = {
    ReviewState.APPROVED: CommentKind.APPROVED,
    ReviewState.RETURNED: CommentKind.RETURNED,
    ReviewState.WITHDRAWN: CommentKind.WITHDRAWN,
}


def _decide(review: ReviewRequest, state: ReviewState, *, user: User, reason: str = "") -> None:
    """Close the request as ``state`` and say so in the thread, with the curator's words."""
    review.state = state
    review.decided_by = _person(user)
    review.decided_at = timezone.now()
    review.reason = reason
    review.save(update_fields=["state", "decided_by", "decided_at", "reason"])
    Comment.objects.create(
        deposit=review.deposit,
        review=review,
        author=_person(user),
        kind=COMMENT_FOR[state],
        body=reason,
    )


def _open_for_decision(deposit: Deposit, user: User) -> tuple[Deposit, ReviewRequest]:
    """The deposit (locked) and its open request, for a reviewer to decide on."""
    deposit = _lock(deposit)
    access.require_reviewer(user, deposit.team)  # type: ignore[arg-type]
    review = open_review(deposit)
    if review is None:
        raise NotAllowed("This deposit is not awaiting review (it was withdrawn or decided).")
    return deposit, review


def _person(user: User) -> AuthUser | None:
    return user if isinstance(user, AuthUser) and user.is_authenticated else None


def _name(user: User) -> str:
    person = _person(user)
    if person is None:
        return "Someone"
    return person.get_full_name() or person.username
