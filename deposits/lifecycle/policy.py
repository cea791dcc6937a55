"""Which publishing needs a curator's approval first (the team's and the account's say)."""

from __future__ import annotations

from deposits.models import Action, ReviewRule, Target

# The actions that need approval where review is required: the ones that make a record
# (or a new version of it) public. Edits of a published record's metadata do not.
REVIEWED_ACTIONS = (Action.PUBLISH, Action.PUBLISH_VERSION)


def needs_review(target: Target) -> bool:
    """The linked account's rule, or (when it follows the team) the team's policy."""
    rule = target.account.review
    if rule == ReviewRule.REQUIRED:
        return True
    if rule == ReviewRule.NOT_REQUIRED:
        return False
    return bool(target.deposit.team.review_required)
