"""What the pages show about one target or one linked account, worked out once in Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deposits import lifecycle
from deposits.models import (
    Action,
    Event,
    Identifier,
    LinkedAccount,
    Scope,
    State,
    Target,
)
from deposits.models.accounts import AccountStatus
from deposits.repositories.base import Problem

from .citation import citation

# Actions that cannot be undone ask for an explicit confirmation first.
CONFIRM_ACTIONS = {Action.PUBLISH, Action.DISCARD, Action.DELETE}
DANGER_ACTIONS = {Action.DISCARD, Action.DELETE}
EVENTS_SHOWN = 15


@dataclass
class ActionButton:
    action: str
    label: str
    confirm: bool
    style: str


@dataclass
class Progress:
    step: str
    file: str
    files_done: int
    files_total: int
    bytes_sent: int
    bytes_total: int
    percent: int | None


@dataclass
class TargetCard:
    target: Target
    step: str
    polling: bool
    actions: list[ActionButton]
    can_retry: bool
    problems: list[Problem]
    progress: Progress | None
    doi_version: Identifier | None
    doi_concept: Identifier | None
    earlier_versions: list[Identifier]
    other_identifiers: list[Identifier]
    citation: str
    record_url: str
    latest_url: str
    events: list[Event] = field(default_factory=list)

    @property
    def pk(self) -> int:
        return self.target.pk


def _progress(target: Target, step: str) -> Progress | None:
    if target.state != State.WORKING:
        return None
    data: dict[str, Any] = target.progress or {}
    sent, total = int(data.get("bytes_sent") or 0), int(data.get("bytes_total") or 0)
    return Progress(
        step=step,
        file=str(data.get("file") or ""),
        files_done=int(data.get("files_done") or 0),
        files_total=int(data.get("files_total") or 0),
        bytes_sent=sent,
        bytes_total=total,
        percent=min(100, sent * 100 // total) if total else None,
    )


def _button(action: Action) -> ActionButton:
    style = "danger" if action in DANGER_ACTIONS else ""
    if action == Action.PUBLISH:
        style = "primary"
    return ActionButton(action.value, action.label, action in CONFIRM_ACTIONS, style)


def target_card(target: Target) -> TargetCard:
    identifiers = list(target.identifiers.all())
    dois = sorted(
        (i for i in identifiers if i.scheme == "doi"), key=lambda i: (i.created, i.pk), reverse=True
    )
    versions = [i for i in dois if i.scope == Scope.VERSION]
    version = versions[0] if versions else None
    concept = next((i for i in dois if i.scope == Scope.CONCEPT), None)
    step = lifecycle.step_label(target)
    links = target.remote_links or {}
    published = target.published_at is not None or target.state == State.PUBLISHED
    cited = version or concept
    year = target.published_at.strftime("%Y") if target.published_at else ""
    year = str(target.deposit.metadata.get("publication_date", ""))[:4] or year
    return TargetCard(
        target=target,
        step=step,
        polling=target.in_flight,
        actions=[_button(Action(a)) for a in lifecycle.allowed_actions(target)],
        can_retry=target.state == State.FAILED,
        problems=[Problem.from_dict(p) for p in target.problems],
        progress=_progress(target, step),
        doi_version=version,
        doi_concept=concept,
        earlier_versions=versions[1:],
        other_identifiers=[i for i in identifiers if i.scheme != "doi"],
        citation=citation(
            target.deposit.metadata,
            publisher=target.account.get_kind_display(),
            doi=cited.value if cited else "",
            year=year,
        )
        if published and cited
        else "",
        record_url=str(links.get("html") or links.get("record_html") or ""),
        latest_url=str(links.get("latest_html") or ""),
        events=list(target.events.select_related("actor")[:EVENTS_SHOWN]),
    )


@dataclass
class AccountCard:
    account: LinkedAccount
    budget: list[dict[str, Any]]
    polling: bool
    target_count: int


def account_card(account: LinkedAccount, target_count: int = 0) -> AccountCard:
    return AccountCard(
        account=account,
        budget=lifecycle.account_budget(account),
        polling=account.status == AccountStatus.UNVERIFIED,
        target_count=target_count,
    )
