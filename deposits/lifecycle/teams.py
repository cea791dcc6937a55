"""A team's review policy, and each linked account's say in it.

Who must approve before a target publishes is read by ``policy.needs_review``; this is
the one place it changes, always by an admin and always written to the audit trail.
"""

from __future__ import annotations

from django.contrib.auth.models import User as AuthUser
from django.db import transaction

from deposits import access
from deposits.models import Event, LinkedAccount, ReleasePublish, ReviewRule, Team

from .states import NotAllowed, User

# The policy's switches, as the audit trail names them.
POLICY_FIELDS: dict[str, str] = {
    "review_required": "publishing needs a curator's approval",
    "self_approval": "a curator may approve their own deposit",
    "members_review": "members may review",
}
# The policy's choice for releases from linked code forges (``deposits/releases/``).
RELEASE_FIELD = "release_publish"
RELEASE_WORDS = "releases from linked code forges"


def _actor(user: User) -> AuthUser | None:
    return user if isinstance(user, AuthUser) and user.is_authenticated else None


def set_team_policy(team: Team, *, user: User, **changes: bool | str) -> list[str]:
    """Change the team's policy (its review switches, and ``release_publish``: what a
    release from a linked code forge becomes); returns the names of what changed."""
    unknown = sorted(set(changes) - set(POLICY_FIELDS) - {RELEASE_FIELD})
    if unknown:
        raise NotAllowed(f"The review policy has no setting {', '.join(unknown)}.")
    wanted: dict[str, bool | str] = {
        name: bool(value) for name, value in changes.items() if name in POLICY_FIELDS
    }
    if RELEASE_FIELD in changes:
        wanted[RELEASE_FIELD] = _release_publish(changes[RELEASE_FIELD])
    access.require_admin(user, team, "change its review policy")  # type: ignore[arg-type]
    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        changed = {name: value for name, value in wanted.items() if getattr(locked, name) != value}
        if not changed:
            return []
        for name, value in changed.items():
            setattr(locked, name, value)
            setattr(team, name, value)
        locked.save(update_fields=list(changed))
        Event.objects.create(
            team=locked,
            kind="policy",
            actor=_actor(user),
            actor_label="" if _actor(user) else "system",
            message=f"Review policy changed: {_policy_words(changed)}",
            data={"changed": changed},
        )
    return sorted(changed)


def _release_publish(value: bool | str) -> str:
    try:
        return ReleasePublish(str(value)).value
    except ValueError:
        raise NotAllowed(
            f"“{value}” is not a choice for {RELEASE_WORDS}: choose one of "
            + ", ".join(f"“{label}”" for label in ReleasePublish.labels)
            + "."
        ) from None


def _policy_words(changed: dict[str, bool | str]) -> str:
    words = []
    for name, value in changed.items():
        if name == RELEASE_FIELD:
            words.append(f"{RELEASE_WORDS}: {ReleasePublish(str(value)).label}")
        else:
            words.append(f"{POLICY_FIELDS[name]}: {'yes' if value else 'no'}")
    return "; ".join(words)


def set_account_review(account: LinkedAccount, *, user: User, rule: str) -> bool:
    """Whether publishing through ``account`` needs approval (or follows the team's
    policy). Returns whether it changed."""
    try:
        rule = ReviewRule(rule or ReviewRule.TEAM)
    except ValueError:
        raise NotAllowed(
            f"“{rule}” is not a review rule: choose one of "
            + ", ".join(str(label) for label in ReviewRule.labels)
            + "."
        ) from None
    access.require_admin(user, account.team, "change its linked accounts")  # type: ignore[arg-type]
    with transaction.atomic():
        locked = LinkedAccount.objects.select_for_update().get(pk=account.pk)
        if locked.review == rule:
            return False
        before = ReviewRule(locked.review)
        LinkedAccount.objects.filter(pk=locked.pk).update(review=rule.value)
        account.review = rule.value
        Event.objects.create(
            team_id=locked.team_id,
            kind="policy",
            actor=_actor(user),
            actor_label="" if _actor(user) else "system",
            message=f"{locked.label}: review changed from “{before.label}” to “{rule.label}”",
            data={"account": locked.pk, "review": [before.value, rule.value]},
        )
    return True
