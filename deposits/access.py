"""Team scoping: every object a person reaches in the portal goes through these.

Another team's object answers 404, never 403, so ids do not reveal what exists.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from deposits.models import Deposit, DepositFile, LinkedAccount, Target, Team

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
