"""Published identifiers that stop resolving: asked after periodically, flagged, told.

Only repositories that can be asked (``Connector.checks_identifiers``: Coscine answers
``GET /api/v2/pids/{prefix}/{suffix}`` with 410 once a resource is deleted). A flagged
identifier keeps its value and shows what is wrong next to it on the deposit page; the
team's admins and the deposit's followers are told once, when it first goes wrong.
"""

from __future__ import annotations

import logging

from django.urls import reverse
from django.utils import timezone

from deposits import notifications
from deposits.models import Identifier, NotificationKind, State, Target
from deposits.models.teams import Membership, Role
from deposits.repositories import registry
from deposits.repositories.base import RepositoryError
from deposits.repositories.limiter import Priority

from .holds import may_send
from .jobs import build_client

log = logging.getLogger(__name__)


def check_all() -> int:
    """Beat: queue a check of every published target whose repository can be asked.
    Returns how many were queued."""
    from celery import current_app

    kinds = [kind for kind, c in registry.connectors().items() if c.checks_identifiers]
    targets = Target.objects.filter(
        account__kind__in=kinds, state=State.PUBLISHED, account__held_since__isnull=True
    ).values_list("pk", flat=True)
    queued = 0
    for pk in targets:
        current_app.send_task(
            "deposits.tasks.check_target_identifiers",
            args=[pk],
            queue=Priority.BACKGROUND.queue,
        )
        queued += 1
    return queued


def check(target_id: int) -> list[Identifier]:
    """Worker side: ask the repository about each of the target's identifiers. Returns
    those found wrong this time that were fine before (their people are told)."""
    target = Target.objects.select_related("account", "deposit").filter(pk=target_id).first()
    if target is None or not may_send(target.account_id):
        return []
    connector = registry.get(target.account.kind)
    if not connector.checks_identifiers:
        return []
    client = build_client(target.account, target, priority=Priority.BACKGROUND)
    newly_wrong = []
    for identifier in target.identifiers.all():
        try:
            problem = connector.check_identifier(client, identifier.scheme, identifier.value)
        except RepositoryError as exc:  # cannot say now: asked again next time
            log.info("identifier %s not checked: %s", identifier, exc.message)
            continue
        if problem and not identifier.problem:
            newly_wrong.append(identifier)
        identifier.problem = problem
        identifier.checked_at = timezone.now()
        identifier.save(update_fields=["problem", "checked_at"])
    for identifier in newly_wrong:
        _tell(target, identifier)
    return newly_wrong


def _tell(target: Target, identifier: Identifier) -> None:
    deposit = target.deposit
    label = registry.get(target.account.kind).scheme(identifier.scheme).label
    admins = [
        m.user
        for m in Membership.objects.filter(team_id=deposit.team_id, role=Role.ADMIN).select_related(
            "user"
        )
    ]
    notifications.notify(
        NotificationKind.IDENTIFIER_GONE,
        deposit,
        [*admins, deposit.created_by, *deposit.followers.all()],
        f"The {label} {identifier.value} of “{deposit}” on {target.account.label}: "
        f"{identifier.problem}",
        url=reverse("deposit", args=[deposit.pk]),
    )
