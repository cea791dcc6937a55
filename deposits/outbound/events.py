"""``emit``: called inside the transaction that made the news (a submit, a publish, an
imported release); one OutboundDelivery per enabled subscription of the deposit's team
that wants the event, sent by a worker once the transaction commits."""

from __future__ import annotations

from typing import Any

from deposits.models import Deposit, OutboundDelivery, Target, WebhookEvent


def emit(
    event: WebhookEvent,
    deposit: Deposit,
    *,
    target: Target | None = None,
    data: dict[str, Any] | None = None,
) -> list[OutboundDelivery]:
    """Queue ``event`` about ``deposit`` (and ``target``) for the team's subscriptions.

    Never raises into the caller's work: a failure to queue is logged (the news itself
    must not be undone by a webhook).
    """
    return []  # the outbound helper implements this
