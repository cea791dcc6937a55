"""What the pages show about one target or one linked account, worked out once in Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deposits import lifecycle
from deposits import metadata as md
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
from deposits.repositories import registry
from deposits.repositories.base import ActionSpec, LinkRole, Problem

from .citation import citation

EVENTS_SHOWN = 15


@dataclass
class ActionButton:
    action: str
    label: str
    confirm: bool
    style: str


@dataclass
class ShownIdentifier:
    """An identifier as the card shows it: its repository's label and resolver."""

    identifier: Identifier
    label: str
    url: str

    @property
    def value(self) -> str:
        return self.identifier.value

    @property
    def scheme(self) -> str:
        return self.identifier.scheme

    @property
    def scope(self) -> str:
        return self.identifier.scope

    def get_scope_display(self) -> str:
        return str(self.identifier.get_scope_display())


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
    cited_label: str  # "DOI": what the version / all versions identifiers are
    doi_version: ShownIdentifier | None
    doi_concept: ShownIdentifier | None
    earlier_versions: list[ShownIdentifier]
    other_identifiers: list[ShownIdentifier]
    badge: bool  # the cited identifier resolves publicly: a badge and a citation
    citation: str
    record_url: str
    latest_url: str
    repository: str
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


def _button(spec: ActionSpec) -> ActionButton:
    style = "danger" if spec.danger else ""
    if spec.action == Action.PUBLISH:
        style = "primary"
    return ActionButton(spec.action, spec.label, spec.confirm, style)


def _safe_link(url: str) -> str:
    """A repository's link, shown only if it is http(s): it is untrusted input."""
    return url if url.lower().startswith(("https://", "http://")) else ""


def target_card(target: Target) -> TargetCard:
    connector = registry.get(target.account.kind)
    shown = []
    for ident in target.identifiers.all():
        scheme = connector.scheme(ident.scheme)
        url = _safe_link(ident.url or scheme.url(ident.value))
        shown.append((scheme, ShownIdentifier(ident, scheme.label_for(ident.scheme), url)))
    cited_scheme = next((s for s in connector.identifier_schemes if s.cited), None)
    cited = sorted(
        (i for s, i in shown if s is cited_scheme),
        key=lambda i: (i.identifier.created, i.identifier.pk),
        reverse=True,
    )
    versions = [i for i in cited if i.scope == Scope.VERSION]
    version = versions[0] if versions else None
    concept = next((i for i in cited if i.scope == Scope.CONCEPT), None)
    step = lifecycle.step_label(target)
    links = target.remote_links or {}
    published = target.published_at is not None or target.state == State.PUBLISHED
    named = version or concept
    resolvable = bool(cited_scheme and cited_scheme.resolver)
    year = target.published_at.strftime("%Y") if target.published_at else ""
    year = md.date(target.deposit.metadata)[:4] or year
    return TargetCard(
        target=target,
        step=step,
        polling=target.in_flight,
        actions=[_button(spec) for spec in lifecycle.offered_actions(target)],
        can_retry=target.state == State.FAILED,
        problems=[Problem.from_dict(p) for p in target.problems],
        progress=_progress(target, step),
        cited_label=cited_scheme.label if cited_scheme else "",
        doi_version=version,
        doi_concept=concept,
        earlier_versions=versions[1:],
        other_identifiers=[i for s, i in shown if s is not cited_scheme],
        badge=resolvable and named is not None,
        citation=citation(
            target.deposit.metadata,
            publisher=connector.label,
            doi=named.value,
            year=year,
        )
        if published and named is not None and resolvable
        else "",
        record_url=_safe_link(connector.link(LinkRole.RECORD, links)),
        latest_url=_safe_link(connector.link(LinkRole.LATEST, links)),
        repository=connector.label,
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
