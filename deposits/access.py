"""Team scoping: every object a person reaches in the portal goes through these.

Another team's object answers 404, never 403, so ids do not reveal what exists.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from deposits.models import (
    Deposit,
    DepositFile,
    LinkedAccount,
    Membership,
    Release,
    ReleaseSource,
    Role,
    Subscription,
    Target,
    Team,
)

AnyUser = User | AnonymousUser


def teams_for(user: AnyUser) -> QuerySet[Team]:
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user)


def deposits_for(user: AnyUser) -> QuerySet[Deposit]:
    if not user.is_authenticated:
        return Deposit.objects.none()
    return Deposit.objects.filter(team__memberships__user=user)


def accounts_for(user: AnyUser) -> QuerySet[LinkedAccount]:
    if not user.is_authenticated:
        return LinkedAccount.objects.none()
    return LinkedAccount.objects.filter(team__memberships__user=user)


def targets_for(user: AnyUser) -> QuerySet[Target]:
    if not user.is_authenticated:
        return Target.objects.none()
    return Target.objects.filter(deposit__team__memberships__user=user)


def files_for(user: AnyUser) -> QuerySet[DepositFile]:
    if not user.is_authenticated:
        return DepositFile.objects.none()
    return DepositFile.objects.filter(deposit__team__memberships__user=user)


def sources_for(user: AnyUser) -> QuerySet[ReleaseSource]:
    """Release sources of the person's teams (every member sees them; admins manage)."""
    if not user.is_authenticated:
        return ReleaseSource.objects.none()
    return ReleaseSource.objects.filter(team__memberships__user=user)


def releases_for(user: AnyUser) -> QuerySet[Release]:
    if not user.is_authenticated:
        return Release.objects.none()
    return Release.objects.filter(source__team__memberships__user=user)


def subscriptions_for(user: AnyUser) -> QuerySet[Subscription]:
    """Webhook subscriptions of the person's teams (every member sees them; admins manage)."""
    if not user.is_authenticated:
        return Subscription.objects.none()
    return Subscription.objects.filter(team__memberships__user=user)


def get_source_for(user: AnyUser, pk: int) -> ReleaseSource:
    return get_object_or_404(sources_for(user).select_related("team", "deposit"), pk=pk)


def get_release_for(user: AnyUser, pk: int) -> Release:
    return get_object_or_404(
        releases_for(user).select_related("source", "source__team", "source__deposit"), pk=pk
    )


def get_subscription_for(user: AnyUser, pk: int) -> Subscription:
    return get_object_or_404(subscriptions_for(user).select_related("team"), pk=pk)


def get_team_for(user: AnyUser, pk: int) -> Team:
    return get_object_or_404(teams_for(user), pk=pk)


def get_deposit_for(user: AnyUser, pk: int) -> Deposit:
    return get_object_or_404(deposits_for(user).select_related("team"), pk=pk)


def get_account_for(user: AnyUser, pk: int) -> LinkedAccount:
    return get_object_or_404(accounts_for(user).select_related("team"), pk=pk)


def get_target_for(user: AnyUser, pk: int) -> Target:
    return get_object_or_404(
        targets_for(user).select_related("account", "deposit", "deposit__team"), pk=pk
    )


def get_file_for(user: AnyUser, uid: UUID) -> DepositFile:
    return get_object_or_404(files_for(user).select_related("deposit"), uid=uid)


# --------------------------------------------------------------------------- roles


def admin_team_ids(user: AnyUser) -> set[int]:
    """The teams whose shared things (linked accounts, policy) ``user`` may change."""
    if not user.is_authenticated:
        return set()
    if user.is_superuser:  # the site's operators: every team, as in the Django admin
        return set(Team.objects.values_list("pk", flat=True))
    return set(
        Membership.objects.filter(user=user, role=Role.ADMIN).values_list("team_id", flat=True)
    )


def require_admin(user: AnyUser, team: Team, what: str) -> None:
    """Refuse (403, with who to ask) unless ``user`` is an admin of ``team``."""
    if team.pk in admin_team_ids(user):
        return
    admins = Membership.objects.filter(team=team, role=Role.ADMIN).select_related("user")
    names = ", ".join(sorted(m.user.get_full_name() or m.user.username for m in admins))
    ask = f" Ask an admin ({names})." if names else " The team has no admin yet."
    raise PermissionDenied(f"Only an admin of {team} can {what}.{ask}")


# --------------------------------------------------------------------------- curation


def curator_team_ids(user: AnyUser) -> set[int]:
    """The teams whose deposits ``user`` may review: where they are a curator or an admin,
    or a member of a team whose policy lets members review. A superuser reviews all."""
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return set(Team.objects.values_list("pk", flat=True))
    return set(
        Membership.objects.filter(user=user)
        .filter(Q(role__in=[Role.CURATOR, Role.ADMIN]) | Q(team__members_review=True))
        .values_list("team_id", flat=True)
    )


def can_review(user: AnyUser, team: Team | int) -> bool:
    team_id = team if isinstance(team, int) else team.pk
    return team_id in curator_team_ids(user)


def reviewable_deposits_for(user: AnyUser) -> QuerySet[Deposit]:
    """Deposits a curator may open for review (their teams'; a superuser's: all)."""
    return Deposit.objects.filter(team_id__in=curator_team_ids(user))


def get_deposit_for_review(user: AnyUser, pk: int) -> Deposit:
    """The deposit, for someone who may review it; 404 otherwise (ids reveal nothing)."""
    return get_object_or_404(reviewable_deposits_for(user).select_related("team"), pk=pk)


def require_reviewer(user: AnyUser, team: Team) -> None:
    """Refuse (403, saying who can) unless ``user`` may review ``team``'s deposits."""
    if can_review(user, team):
        return
    raise PermissionDenied(
        f"Only a curator or an admin of {team} can review its deposits"
        + ("." if not team.members_review else ", or any member.")
    )
