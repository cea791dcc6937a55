"""Bulk actions: one curator's action on many deposits, previewed first, then run.

Each action says what it acts on in a deposit (the deposit itself, each of its targets, or
its team's linked accounts), who may run it, what it would do to each item (``plan``: a
dry run that changes nothing) and how it does it, through the lifecycle function a person
would use for one item, so the checks and the audit trail are the same.

``run`` takes the preview a person saw (each item's fingerprint) and re-checks every item
at run time, each in its own transaction: an item that changed since the preview is
skipped with what it is now, one item's failure never stops the others, and each item
ends done, skipped (with why) or failed (with the error).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from deposits import access
from deposits import metadata as md
from deposits.forms.groups import FundingForm
from deposits.metadata.vocabulary import FUNDER_NAMES
from deposits.models import (
    Action,
    Deposit,
    Event,
    LinkedAccount,
    ReviewRequest,
    State,
    Target,
)
from deposits.repositories import registry
from deposits.repositories.base import RemotePhase

from . import describing, review
from .accounts import request_check
from .drafts import (
    allowed_actions,
    edit_locked_reason,
    local_problems,
    remote_phase,
    request,
    retry,
    set_target_options,
)
from .states import Conflict, NotAllowed, QueueUnreachable

log = logging.getLogger(__name__)

Person = AuthUser | AnonymousUser

DEFAULT_STALE_DAYS = 30
MAX_KEYWORD = 200
MAX_ITEMS = 500  # deposits in one bulk action
_COMMUNITY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_FUNDER_DOI = re.compile(r"^10\.13039/[\w.-]+$")


# --------------------------------------------------------------------------- shapes


@dataclass(frozen=True)
class Item:
    """One thing an action acts on: a deposit, one of its targets, or a linked account."""

    key: str  # "deposit:12", "target:34", "account:5"; "missing:7" for an id not found
    deposit: Deposit | None = None
    target: Target | None = None
    account: LinkedAccount | None = None

    @property
    def label(self) -> str:
        if self.account is not None:
            return f"{self.account} · {self.account.team}"
        if self.target is not None:
            return f"{self.target.deposit} → {self.target.account.label}"
        if self.deposit is not None:
            return str(self.deposit)
        return f"Deposit #{self.key.partition(':')[2]}"

    @property
    def deposit_id(self) -> int | None:
        if self.deposit is not None:
            return self.deposit.pk
        if self.target is not None:
            return self.target.deposit_id
        return None


@dataclass(frozen=True)
class Check:
    """What an action would do to one item now: ``will`` act (``message`` says what) or
    not (``message`` says why); ``state`` is what the check looked at, for the preview's
    fingerprint (an item whose state differs at run time changed since the preview)."""

    will: bool
    message: str
    state: str = ""


@dataclass(frozen=True)
class ItemPlan:
    key: str
    label: str
    deposit_id: int | None
    will: bool
    message: str
    fingerprint: str
    found: bool = True


DONE, SKIPPED, FAILED = "done", "skipped", "failed"


@dataclass(frozen=True)
class ItemResult:
    key: str
    label: str
    deposit_id: int | None
    status: str  # done / skipped / failed
    message: str


@dataclass
class Params:
    """The action's parameter, checked (``clean_params``)."""

    reason: str = ""
    keyword: str = ""
    community: str = ""
    grant: dict[str, str] = field(default_factory=dict)
    days: int = DEFAULT_STALE_DAYS


@dataclass(frozen=True)
class BulkAction:
    name: str
    label: str
    help: str
    param: str  # which of Params it needs ("" for none)
    items: Callable[[list[Deposit], list[LinkedAccount]], list[Item]]
    may: Callable[[Person, Item], str]  # "" or why this person may not
    check: Callable[[Item, Params], Check]  # changes nothing
    do: Callable[[Item, Params, Person], str]  # what was done
    # With the task queue down, what ``do`` committed is undone (a check not sent) rather
    # than left for the reconciler to send (a queued target).
    needs_queue: bool = False


# --------------------------------------------------------------------------- items


def _deposits(deposits: list[Deposit], accounts: list[LinkedAccount]) -> list[Item]:
    return [Item(f"deposit:{d.pk}", deposit=d) for d in deposits]


def _targets(deposits: list[Deposit], accounts: list[LinkedAccount]) -> list[Item]:
    out = []
    for deposit in deposits:
        targets = list(deposit.targets.select_related("account", "deposit__team"))
        if not targets:
            out.append(Item(f"deposit:{deposit.pk}", deposit=deposit))
        out += [Item(f"target:{t.pk}", target=t) for t in targets]
    return out


def _accounts(deposits: list[Deposit], accounts: list[LinkedAccount]) -> list[Item]:
    """The linked accounts of the deposits' teams, and those chosen by themselves."""
    teams = sorted({d.team_id for d in deposits})
    of_teams = LinkedAccount.objects.filter(team_id__in=teams).select_related("team")
    chosen = {a.pk: a for a in of_teams.order_by("team__name", "label")}
    chosen.update({a.pk: a for a in accounts if a.pk not in chosen})
    return [Item(f"account:{a.pk}", account=a) for a in chosen.values()]


def _reload(item: Item) -> Item:
    """The item as it is now (read again at run time; None parts stay None)."""
    if item.account is not None:
        account = LinkedAccount.objects.select_related("team").filter(pk=item.account.pk).first()
        return Item(item.key, account=account) if account else Item(item.key)
    if item.target is not None:
        target = (
            Target.objects.select_for_update()
            .select_related("account", "deposit__team")
            .filter(pk=item.target.pk)
            .first()
        )
        return Item(item.key, target=target) if target else Item(item.key)
    if item.deposit is not None:
        deposit = (
            Deposit.objects.select_for_update()
            .select_related("team")
            .filter(pk=item.deposit.pk)
            .first()
        )
        return Item(item.key, deposit=deposit) if deposit else Item(item.key)
    return item


# --------------------------------------------------------------------------- who may


def _reviewer(user: Person, item: Item) -> str:
    team_id = (
        item.deposit.team_id
        if item.deposit is not None
        else item.target.deposit.team_id
        if item.target is not None
        else None
    )
    if team_id is not None and access.can_review(user, team_id):
        return ""
    return "Only a curator of its team can do this."


def _admin(user: Person, item: Item) -> str:
    assert item.account is not None
    if item.account.team_id in access.admin_team_ids(user):
        return ""
    return f"Only an admin of {item.account.team} can re-verify its linked accounts."


# --------------------------------------------------------------------------- review


def _review_state(deposit: Deposit, request_: ReviewRequest | None) -> str:
    if request_ is None:
        return f"no open review; updated {deposit.updated.isoformat()}"
    return f"review {request_.pk} open; updated {deposit.updated.isoformat()}"


def _check_review(item: Item, params: Params, *, approving: bool) -> Check:
    deposit = item.deposit
    if deposit is None:
        return Check(False, "Not found.")
    open_ = review.open_review(deposit)
    state = _review_state(deposit, open_)
    if open_ is None:
        return Check(False, "Not awaiting review (it was withdrawn or decided).", state)
    targets = list(open_.targets.select_related("account", "deposit__team"))
    labels = ", ".join(t.account.label for t in targets) or "no repository"
    if not approving:
        return Check(True, f"Will be returned to its author with your reason ({labels}).", state)
    problems = []
    for target in targets:
        found = local_problems(target)
        if found:
            problems.append(f"{target.account.label}: " + "; ".join(p.message for p in found[:3]))
        if target.account.needs_relink:
            problems.append(f"The linked account {target.account} needs relinking first.")
    if problems:
        return Check(
            False,
            "Cannot be approved as it is: " + " ".join(problems) + " Return it instead.",
            state,
        )
    actions = ", ".join(
        f"{t.account.label}: {Action(open_.actions.get(str(t.pk)) or Action.PUBLISH).label}"
        for t in targets
    )
    return Check(True, f"Will be approved and queued ({actions}).", state)


def _may_approve(user: Person, item: Item) -> str:
    refused = _reviewer(user, item)
    if refused or item.deposit is None:
        return refused
    open_ = review.open_review(item.deposit)
    team = item.deposit.team
    own = open_ is not None and open_.submitted_by_id and open_.submitted_by_id == user.pk
    if own and not team.self_approval:
        return (
            f"You submitted it, and {team}'s policy needs someone else to approve it: "
            "ask another curator."
        )
    return ""


def _approve(item: Item, params: Params, user: Person) -> str:
    assert item.deposit is not None
    review.approve(item.deposit, user=user)
    return "Approved: the workers publish it now."


def _return(item: Item, params: Params, user: Person) -> str:
    assert item.deposit is not None
    review.return_to_author(item.deposit, user=user, reason=params.reason)
    return "Returned to its author with your reason."


# --------------------------------------------------------------------------- targets


def _target_state(target: Target) -> str:
    return f"{target.state}; updated {target.updated.isoformat()}; options {target.options}"


def _no_target(item: Item) -> Check:
    return Check(False, "No repository is chosen for it.")


def _check_retry(item: Item, params: Params) -> Check:
    target = item.target
    if target is None:
        return _no_target(item)
    state = _target_state(target)
    if target.state != State.FAILED:
        return Check(False, f"Not failed ({target.get_state_display().lower()}).", state)
    if target.account.needs_relink:
        return Check(False, f"Relink {target.account} first: its token failed or expired.", state)
    error = f" (it failed: {target.last_error[:200]})" if target.last_error else ""
    return Check(True, f"Will be retried from its first step{error}.", state)


def _retry(item: Item, params: Params, user: Person) -> str:
    assert item.target is not None
    retry(item.target, user=user)
    return "Queued again: a worker retries it."


def _check_discard(item: Item, params: Params) -> Check:
    target = item.target
    if target is None:
        return _no_target(item)
    state = _target_state(target)
    connector = registry.get(target.account.kind)
    if connector.action_spec(Action.DELETE) is None:
        return Check(False, f"{connector.label} offers no way to delete a draft from here.", state)
    if remote_phase(target) != RemotePhase.DRAFT:
        return Check(False, "It has no unpublished draft on the repository.", state)
    age = timezone.now() - target.updated
    if age < timedelta(days=params.days):
        return Check(
            False,
            f"Its draft changed {age.days} day(s) ago: not stale (older than {params.days}).",
            state,
        )
    if Action.DELETE not in allowed_actions(target):
        return Check(
            False,
            f"Its draft cannot be deleted while it is {target.get_state_display().lower()}.",
            state,
        )
    label = connector.action_spec(Action.DELETE).label  # type: ignore[union-attr]
    return Check(
        True,
        f"{label}: untouched for {age.days} days; the deposit here stays as it is.",
        state,
    )


def _discard(item: Item, params: Params, user: Person) -> str:
    assert item.target is not None
    request(item.target, Action.DELETE, user=user)
    return "Queued: a worker deletes the remote draft."


def _communities(target: Target) -> list[str]:
    return [
        str(c.get("identifier") if isinstance(c, dict) else c)
        for c in target.options.get("communities") or []
    ]


def _check_community(item: Item, params: Params) -> Check:
    target = item.target
    if target is None:
        return _no_target(item)
    state = _target_state(target)
    connector = registry.get(target.account.kind)
    if "communities" not in connector.option_keys:
        return Check(False, f"{connector.label} has no communities.", state)
    if params.community in _communities(target):
        return Check(False, f"Already submitted to the community {params.community}.", state)
    locked = edit_locked_reason([target], "communities")
    if locked:
        return Check(False, locked, state)
    later = (
        " The published record shows it after an edit or a new version."
        if target.state == State.PUBLISHED
        else ""
    )
    return Check(True, f"Will add the community {params.community}.{later}", state)


def _add_community(item: Item, params: Params, user: Person) -> str:
    assert item.target is not None
    communities = [*_communities(item.target), params.community]
    set_target_options(
        item.target,
        {"communities": communities},
        user=user,
        message=f"Communities: {', '.join(communities)} (bulk action)",
        what="communities",
    )
    return f"Community {params.community} added."


# --------------------------------------------------------------------------- metadata


def _metadata_state(deposit: Deposit) -> str:
    digest = hashlib.sha256(repr(sorted(deposit.metadata.items())).encode()).hexdigest()[:16]
    return f"metadata {digest}; updated {deposit.updated.isoformat()}"


def _metadata_locked(deposit: Deposit) -> str:
    targets = list(deposit.targets.select_related("account"))
    return edit_locked_reason(targets, "metadata", reviewer=True)


def _published_note(deposit: Deposit) -> str:
    published = [t.account.label for t in deposit.targets.all() if t.state == State.PUBLISHED]
    if not published:
        return ""
    return (
        f" Published on {', '.join(published)}: the record there changes only with Edit "
        "published metadata or a new version."
    )


def _check_keyword(item: Item, params: Params) -> Check:
    deposit = item.deposit
    if deposit is None:
        return Check(False, "Not found.")
    state = _metadata_state(deposit)
    have = {k.casefold() for k in md.keywords(deposit.metadata)}
    if params.keyword.casefold() in have:
        return Check(False, f"Already has the keyword “{params.keyword}”.", state)
    locked = _metadata_locked(deposit)
    if locked:
        return Check(False, locked, state)
    note = _published_note(deposit)
    return Check(True, f"Will add the keyword “{params.keyword}”.{note}", state)


def _same_grant(row: dict[str, Any], grant: dict[str, str]) -> bool:
    return str(row.get("award_number") or "").strip().casefold() == grant[
        "award_number"
    ].casefold() and (
        (grant["funder_doi"] and str(row.get("funder_doi") or "").strip() == grant["funder_doi"])
        or (
            not grant["funder_doi"]
            and str(row.get("funder_name") or "").strip().casefold()
            == grant["funder_name"].casefold()
        )
    )


def _grant_label(grant: dict[str, str]) -> str:
    funder = grant["funder_name"] or FUNDER_NAMES.get(grant["funder_doi"], grant["funder_doi"])
    return f"{funder} {grant['award_number']}"


def _check_grant(item: Item, params: Params) -> Check:
    deposit = item.deposit
    if deposit is None:
        return Check(False, "Not found.")
    state = _metadata_state(deposit)
    rows = md.to_view(deposit.metadata).get("funding") or []
    if any(_same_grant(row, params.grant) for row in rows):
        return Check(False, f"Already has the grant {_grant_label(params.grant)}.", state)
    locked = _metadata_locked(deposit)
    if locked:
        return Check(False, locked, state)
    note = _published_note(deposit)
    return Check(True, f"Will add the grant {_grant_label(params.grant)}.{note}", state)


def save_metadata(
    deposit: Deposit,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    user: Person,
    what: str,
) -> None:
    """Change the metadata through the editor's view of it (what the view does not show is
    kept), as a reviewer may: the portal's own save (``describing.save_metadata``)."""
    describing.save_metadata(
        deposit,
        lambda old: md.to_record(change(md.to_view(old)), old),
        user=user,
        reviewer=True,
        note=f"{what} (bulk action)",
    )


def _add_keyword(item: Item, params: Params, user: Person) -> str:
    assert item.deposit is not None

    def change(view: dict[str, Any]) -> dict[str, Any]:
        view["keywords"] = [*(view.get("keywords") or []), params.keyword]
        return view

    save_metadata(
        item.deposit,
        change,
        user=user,
        what=f"added the keyword “{params.keyword}”",
    )
    return f"Keyword “{params.keyword}” added."


def _add_grant(item: Item, params: Params, user: Person) -> str:
    assert item.deposit is not None
    row = {k: v for k, v in params.grant.items() if v}

    def change(view: dict[str, Any]) -> dict[str, Any]:
        view["funding"] = [*(view.get("funding") or []), row]
        return view

    label = _grant_label(params.grant)
    save_metadata(item.deposit, change, user=user, what=f"added the grant {label}")
    return f"Grant {label} added."


# --------------------------------------------------------------------------- accounts


def _check_reverify(item: Item, params: Params) -> Check:
    account = item.account
    if account is None:
        return Check(False, "Not found.")
    state = f"check {account.check_state or 'idle'}; status {account.status}"
    if account.checking:
        return Check(False, "A check of its token is already asked for or under way.", state)
    held = " Its token is paused: this tries it once." if account.held else ""
    return Check(True, f"Will check its token and the repository's rules.{held}", state)


def _reverify(item: Item, params: Params, user: Person) -> str:
    account = item.account
    assert account is not None
    if not request_check(account.pk):
        raise NotAllowed("A check of its token was asked for meanwhile: nothing more is sent.")
    Event.objects.create(
        team_id=account.team_id,
        actor=user if isinstance(user, AuthUser) else None,
        kind="bulk",
        message=f"Re-verification of {account} asked (bulk action)",
        data={"action": "reverify", "account": account.pk},
    )
    return "Check asked for: the account's card shows the result."


# --------------------------------------------------------------------------- registry


ACTIONS: dict[str, BulkAction] = {
    a.name: a
    for a in (
        BulkAction(
            "approve",
            "Approve",
            "Deposits awaiting review are approved; the workers then publish them.",
            "",
            _deposits,
            _may_approve,
            lambda item, params: _check_review(item, params, approving=True),
            _approve,
        ),
        BulkAction(
            "return",
            "Return to the author",
            "Deposits awaiting review go back to their authors with your reason.",
            "reason",
            _deposits,
            _reviewer,
            lambda item, params: _check_review(item, params, approving=False),
            _return,
        ),
        BulkAction(
            "retry",
            "Retry failed targets",
            "Each failed repository of the deposits is tried again from its first step.",
            "",
            _targets,
            _reviewer,
            _check_retry,
            _retry,
        ),
        BulkAction(
            "reverify",
            "Re-verify linked accounts",
            "The linked accounts of the deposits' teams check their tokens again "
            "(team admins only).",
            "",
            _accounts,
            _admin,
            _check_reverify,
            _reverify,
            needs_queue=True,
        ),
        BulkAction(
            "discard",
            "Discard stale remote drafts",
            "Unpublished drafts on the repositories not changed for the days you give are "
            "deleted there; the deposits here stay.",
            "days",
            _targets,
            _reviewer,
            _check_discard,
            _discard,
        ),
        BulkAction(
            "keyword",
            "Add a keyword",
            "The keyword is added to each deposit's metadata.",
            "keyword",
            _deposits,
            _reviewer,
            _check_keyword,
            _add_keyword,
        ),
        BulkAction(
            "community",
            "Add a community",
            "The community is added to each repository that has communities (Zenodo).",
            "community",
            _targets,
            _reviewer,
            _check_community,
            _add_community,
        ),
        BulkAction(
            "grant",
            "Add a grant",
            "The grant (funder and award number) is added to each deposit's funding.",
            "grant",
            _deposits,
            _reviewer,
            _check_grant,
            _add_grant,
        ),
    )
}


def get(name: str) -> BulkAction:
    try:
        return ACTIONS[name]
    except KeyError:
        raise NotAllowed("Choose one of the bulk actions listed.") from None


# --------------------------------------------------------------------------- parameters


def clean_params(action: BulkAction, raw: Mapping[str, Any]) -> Params:
    """The action's parameter from what a person typed, or NotAllowed saying what to fix."""
    params = Params()
    cleaner = _CLEANERS.get(action.param)
    if cleaner is not None:
        setattr(params, action.param, cleaner(raw))
    return params


def _text(raw: Mapping[str, Any], name: str) -> str:
    return str(raw.get(name) or "").strip()


def _clean_reason(raw: Mapping[str, Any]) -> str:
    reason = _text(raw, "reason")
    if not reason:
        raise NotAllowed("Write why you return them: the authors need the reason to fix it.")
    if len(reason) > review.MAX_MESSAGE:
        raise NotAllowed(f"Keep the reason under {review.MAX_MESSAGE} characters.")
    return reason


def _clean_keyword(raw: Mapping[str, Any]) -> str:
    keyword = " ".join(_text(raw, "keyword").split())
    if not keyword:
        raise NotAllowed("Write the keyword to add.")
    if len(keyword) > MAX_KEYWORD:
        raise NotAllowed(f"Keep the keyword under {MAX_KEYWORD} characters.")
    return keyword


def _clean_community(raw: Mapping[str, Any]) -> str:
    community = _text(raw, "community").lower().rstrip("/").rsplit("/", 1)[-1]
    if not _COMMUNITY.match(community):
        raise NotAllowed(
            "Give the community's id: the short name from its address, e.g. 'ecfunded' "
            "for zenodo.org/communities/ecfunded."
        )
    return community


def _clean_days(raw: Mapping[str, Any]) -> int:
    value = _text(raw, "days") or str(DEFAULT_STALE_DAYS)
    if not value.isdigit() or not 1 <= int(value) <= 3650:
        raise NotAllowed("Give the number of days a draft has not changed, e.g. 30.")
    return int(value)


def _clean_grant(raw: Mapping[str, Any]) -> dict[str, str]:
    # The portal's own funding row, so a grant added here is what the editor would store.
    form = FundingForm(
        {name: str(raw.get(name) or "") for name in ("funder_doi", "funder_name", "award_number")}
    )
    if not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items())
        raise NotAllowed(f"Check the grant: {errors}")
    row = {k: str(form.cleaned_data.get(k) or "").strip() for k in form.fields}
    doi = row["funder_doi"]
    for prefix in ("https://doi.org/", "http://doi.org/", "http://dx.doi.org/", "doi:"):
        if doi.lower().startswith(prefix):
            doi = doi[len(prefix) :]
    row["funder_doi"] = doi
    if not row["award_number"]:
        raise NotAllowed("Give the grant's award number.")
    if not doi and not row["funder_name"]:
        raise NotAllowed("Give the funder: its Crossref Funder DOI or its name.")
    if doi and not _FUNDER_DOI.match(doi):
        raise NotAllowed(
            "Give the funder as its Crossref Funder Registry DOI, e.g. 10.13039/501100000780 "
            "for the European Commission (or leave it empty and give its name)."
        )
    if doi and not row["funder_name"]:
        row["funder_name"] = FUNDER_NAMES.get(doi, "")
    return row


_CLEANERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "reason": _clean_reason,
    "keyword": _clean_keyword,
    "community": _clean_community,
    "grant": _clean_grant,
    "days": _clean_days,
}


# --------------------------------------------------------------------------- plan and run


def parse_ids(value: str | Iterable[str]) -> list[int]:
    """Ids from "1,2,3" or a list of strings; anything else is left out."""
    parts = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    seen: dict[int, None] = {}
    for part in parts:
        part = part.strip()
        if part.isdigit():
            seen[int(part)] = None
    return list(seen)[:MAX_ITEMS]


@dataclass(frozen=True)
class Selection:
    """What ``user`` may act on among the ids asked for, and the ids not found (another
    team's deposit is "not found" like one that does not exist)."""

    deposits: list[Deposit]
    accounts: list[LinkedAccount]
    missing: list[ItemPlan]


def selection(
    user: Person, deposit_ids: Iterable[int], account_ids: Iterable[int] = ()
) -> Selection:
    ids, account_ids = list(deposit_ids), list(account_ids)
    teams = access.curator_team_ids(user)
    found = {
        d.pk: d
        for d in Deposit.objects.filter(team_id__in=teams, pk__in=ids).select_related("team")
    }
    accounts = {
        a.pk: a
        for a in LinkedAccount.objects.filter(team_id__in=teams, pk__in=account_ids).select_related(
            "team"
        )
    }
    missing = [_not_found("deposit", pk) for pk in ids if pk not in found]
    missing += [_not_found("linked account", pk) for pk in account_ids if pk not in accounts]
    return Selection(
        [found[i] for i in ids if i in found],
        [accounts[i] for i in account_ids if i in accounts],
        missing,
    )


def _fingerprint(action: BulkAction, item: Item, check: Check) -> str:
    text = f"{action.name}|{item.key}|{check.will}|{check.message}|{check.state}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _plan_item(action: BulkAction, user: Person, item: Item, params: Params) -> ItemPlan:
    if item.deposit is None and item.target is None and item.account is None:
        check = Check(False, "It no longer exists: it was deleted meanwhile.")
        return ItemPlan(
            item.key, item.label, None, False, check.message, _fingerprint(action, item, check)
        )
    refused = action.may(user, item)
    try:
        check = Check(False, refused) if refused else action.check(item, params)
    except Exception as exc:  # a repository's validation broke: that item only
        log.exception("bulk %s: planning %s failed", action.name, item.key)
        check = Check(False, f"Could not be checked: {exc}")
    return ItemPlan(
        item.key,
        item.label,
        item.deposit_id,
        check.will,
        check.message,
        _fingerprint(action, item, check),
    )


def _not_found(what: str, pk: int) -> ItemPlan:
    return ItemPlan(
        f"missing-{what.replace(' ', '-')}:{pk}",
        f"{what.capitalize()} #{pk}",
        None,
        False,
        f"Not found: no {what} with this number that you may act on.",
        "",
        found=False,
    )


def plan(
    action: BulkAction,
    user: Person,
    *,
    deposit_ids: Iterable[int],
    params: Params,
    account_ids: Iterable[int] = (),
) -> list[ItemPlan]:
    """The dry run: for each item, what the action would do or why it would skip it.

    Reads only: nothing is written, queued or sent."""
    chosen = selection(user, deposit_ids, account_ids)
    items = action.items(chosen.deposits, chosen.accounts)
    return [_plan_item(action, user, item, params) for item in items] + chosen.missing


def run(
    action: BulkAction,
    user: Person,
    *,
    deposit_ids: Iterable[int],
    params: Params,
    preview: Mapping[str, str],
    account_ids: Iterable[int] = (),
) -> list[ItemResult]:
    """Do the action to each item the preview (``key -> fingerprint``) showed, if it has
    not changed since; each item in its own transaction, whatever happens to the others."""
    chosen = selection(user, deposit_ids, account_ids)
    items = action.items(chosen.deposits, chosen.accounts)
    results = [_run_item(action, user, item, params, preview) for item in items]
    return results + [ItemResult(p.key, p.label, None, SKIPPED, p.message) for p in chosen.missing]


def _run_item(
    action: BulkAction, user: Person, item: Item, params: Params, preview: Mapping[str, str]
) -> ItemResult:
    label, deposit_id = item.label, item.deposit_id

    def result(status: str, message: str) -> ItemResult:
        return ItemResult(item.key, label, deposit_id, status, message)

    try:
        with transaction.atomic():
            current = _reload(item)
            now = _plan_item(action, user, current, params)
            seen = preview.get(item.key)
            if seen is None:
                return result(
                    SKIPPED, f"Changed since the preview: it was not in it. {now.message}"
                )
            if seen != now.fingerprint:
                return result(SKIPPED, f"Changed since the preview: {now.message}")
            if not now.will:
                return result(SKIPPED, now.message)
            return result(DONE, action.do(current, params, user))
    except QueueUnreachable as exc:  # committed: the reconciler sends it later, or undone
        return result(FAILED if action.needs_queue else DONE, str(exc))
    except (NotAllowed, Conflict, PermissionDenied) as exc:
        return result(FAILED, str(exc) or "Refused.")
    except Exception as exc:
        log.exception("bulk %s: %s failed", action.name, item.key)
        return result(FAILED, f"It failed: {exc}. The other items went on; try this one again.")
