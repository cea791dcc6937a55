"""What the pages show about one target or one linked account, worked out once in Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deposits import lifecycle
from deposits import metadata as md
from deposits.forms.metadata import field_label
from deposits.lifecycle.review import reviewed_action
from deposits.lifecycle.versions import unsent_changes
from deposits.links import identifier_link, safe_link
from deposits.metadata.changes import FileChange
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
from deposits.repositories.base import ActionSpec, LinkRole, Problem, RemotePhase, StepKind

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
    # Why nothing moves right now (the rate budget, a 429) and when it moves again
    waiting: str = ""
    next_attempt_at: datetime | None = None


@dataclass
class ChangeRow:
    path: str
    label: str
    before: str
    after: str


@dataclass
class VersionChanges:
    """What the deposit here has that the target's published version does not."""

    version: str  # the published version's version string ("v1.0"), or ""
    fields: list[ChangeRow]
    files: list[FileChange]
    options: list[str]
    draft: bool  # a draft of the new version is open on the repository

    @property
    def any(self) -> bool:
        return bool(self.fields or self.files or self.options)

    @property
    def summary(self) -> str:
        """ "2 fields and 1 file changed"."""
        parts = [
            f"{len(self.fields)} field{'s' if len(self.fields) != 1 else ''}"
            if self.fields
            else "",
            f"{len(self.files)} file{'s' if len(self.files) != 1 else ''}" if self.files else "",
            "repository options" if self.options else "",
        ]
        return " and ".join(p for p in parts if p) + " changed"


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
    badge_label: str  # the badge's left half: "DOI", "Handle"
    doi_version: ShownIdentifier | None
    doi_concept: ShownIdentifier | None
    earlier_versions: list[ShownIdentifier]
    other_identifiers: list[ShownIdentifier]
    badge: bool  # the cited identifier resolves publicly: a badge and a citation
    citation: str
    record_url: str
    latest_url: str
    repository: str
    phase: str = ""
    changes: VersionChanges | None = None  # None: never published
    draft_url: str = ""  # the open new-version draft on the repository
    events: list[Event] = field(default_factory=list)
    # Publishing is what comes next, and it waits for a curator's approval.
    needs_approval: bool = False

    @property
    def pk(self) -> int:
        return self.target.pk


def _progress(target: Target, step: str) -> Progress | None:
    """Bytes and file counts while files move; only the step's label otherwise."""
    if target.state != State.WORKING:
        return None
    data: dict[str, Any] = target.progress or {}
    name = target.current_step
    sending = bool(name) and registry.get(target.account.kind).step(name).kind == (
        StepKind.SENDS_FILES
    )
    total = int(data.get("bytes_total") or 0) if sending else 0
    sent = min(total, int(data.get("bytes_done") or 0) + int(data.get("bytes_sent") or 0))
    files_total = int(data.get("files_total") or 0) if sending else 0
    return Progress(
        step=step,
        file=str(data.get("file") or "") if sending else "",
        files_done=min(int(data.get("files_done") or 0), max(files_total - 1, 0)),
        files_total=files_total,
        bytes_sent=sent,
        bytes_total=total,
        percent=min(100, sent * 100 // total) if total else None,
        waiting=str(data.get("waiting") or ""),
        next_attempt_at=target.next_attempt_at if data.get("waiting") else None,
    )


def _button(spec: ActionSpec) -> ActionButton:
    style = "danger" if spec.danger else ""
    if spec.action in (Action.PUBLISH, Action.PUBLISH_VERSION):
        style = "primary"
    return ActionButton(spec.action, spec.label, spec.confirm, style)


def _changes(target: Target, phase: RemotePhase) -> VersionChanges | None:
    unsent = unsent_changes(target)
    if unsent is None:
        return None
    return VersionChanges(
        version=unsent.version,
        fields=[ChangeRow(c.path, field_label(c.path), c.before, c.after) for c in unsent.fields],
        files=unsent.files,
        options=unsent.options,
        draft=phase == RemotePhase.VERSION_DRAFT,
    )


def target_card(target: Target) -> TargetCard:
    connector = registry.get(target.account.kind)
    phase = lifecycle.remote_phase(target)
    snapshot = target.published_version or {}
    shown = []
    for ident in target.identifiers.all():
        scheme = connector.scheme(ident.scheme)
        url = identifier_link(ident, scheme)
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
    # while a new version is a draft, the record is the published version's
    links = (snapshot.get("remote_links") or {}) if phase == RemotePhase.VERSION_DRAFT else {}
    links = links or target.remote_links or {}
    published = target.published_at is not None or target.state == State.PUBLISHED
    named = version or concept
    resolvable = bool(cited_scheme and cited_scheme.resolver)
    year = target.published_at.strftime("%Y") if target.published_at else ""
    year = md.date(snapshot.get("metadata") or target.deposit.metadata)[:4] or year
    return TargetCard(
        target=target,
        step=step,
        polling=target.in_flight,
        actions=[_button(spec) for spec in lifecycle.offered_actions(target)],
        can_retry=target.state == State.FAILED,
        problems=[Problem.from_dict(p) for p in target.problems],
        progress=_progress(target, step),
        cited_label=cited_scheme.label if cited_scheme else "",
        badge_label=(cited_scheme.short or cited_scheme.label) if cited_scheme else "",
        doi_version=version,
        doi_concept=concept,
        earlier_versions=versions[1:],
        other_identifiers=[i for s, i in shown if s is not cited_scheme],
        badge=resolvable and named is not None,
        citation=citation(
            snapshot.get("metadata") or target.deposit.metadata,
            publisher=connector.label,
            doi=named.value,
            url=named.url or (cited_scheme.url(named.value) if cited_scheme else ""),
            year=year,
        )
        if published and named is not None and resolvable
        else "",
        record_url=safe_link(connector.link(LinkRole.RECORD, links)),
        latest_url=safe_link(connector.link(LinkRole.LATEST, links)),
        repository=connector.label,
        phase=phase.value,
        changes=_changes(target, phase),
        draft_url=safe_link(connector.link(LinkRole.RECORD, target.remote_links or {}))
        if phase == RemotePhase.VERSION_DRAFT
        else "",
        events=list(target.events.select_related("actor")[:EVENTS_SHOWN]),
        needs_approval=reviewed_action(target) is not None and lifecycle.needs_review(target),
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
