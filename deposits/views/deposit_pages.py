"""A deposit's own page: its targets, files and the metadata editor that saves as you type."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from deposits import access, lifecycle
from deposits.forms import MetadataEditor, NewDepositForm, TargetsForm
from deposits.forms.metadata import GROUPS, LICENSES, edit_rows, place_problems
from deposits.metadata import to_record
from deposits.models import Deposit, State, Target
from deposits.uploads import files_locked_reason

from .cards import target_card
from .files import file_rows
from .panels import panels
from .request import HtmxHttpRequest
from .review import ReviewPanel, review_panel
from .versions import can_delete

HISTORY_SHOWN = 20


def _targets(deposit: Deposit) -> list[Target]:
    return list(
        deposit.targets.select_related("account", "deposit").prefetch_related("identifiers")
    )


def _editor(deposit: Deposit, data: Any = None) -> MetadataEditor:
    return MetadataEditor(data, metadata=deposit.metadata)


def metadata_locked_reason(targets: list[Target], *, reviewer: bool = False) -> str:
    return lifecycle.edit_locked_reason(targets, "metadata", reviewer=reviewer)


def published_note(targets: list[Target]) -> str:
    published = [t.account.label for t in targets if t.state == State.PUBLISHED]
    if not published:
        return ""
    return (
        f"Published on {', '.join(published)}: the records there keep their files and "
        "metadata until you choose New version (files and metadata) or Edit published "
        "metadata (metadata only)."
    )


def page_context(
    deposit: Deposit,
    targets: list[Target],
    editor: MetadataEditor | None = None,
    *,
    reviewer: bool = False,
    review: ReviewPanel | None = None,
) -> dict[str, Any]:
    editor = editor or _editor(deposit)
    # A target's options have their place in its repository's panel.
    by_field = {
        path: problems
        for path, problems in lifecycle.problems_by_field(deposit).items()
        if not path.startswith("options.")
    }
    placed = place_problems(by_field, [*editor.paths(), "files"])
    chosen = [t.account_id for t in targets]
    return {
        "deposit": deposit,
        "editor": editor,
        "form": editor.form,
        "slots": editor.slots(placed, "files", ""),
        "cards": [target_card(t) for t in targets],
        "panels": panels(targets),
        "files": file_rows(deposit),
        "files_locked": files_locked_reason(deposit),
        "metadata_locked": metadata_locked_reason(targets, reviewer=reviewer),
        "published_note": published_note(targets),
        "targets_form": TargetsForm(team=deposit.team, chosen=chosen),
        "history": deposit.events.filter(target=None).select_related("actor")[:HISTORY_SHOWN],
        "licenses": LICENSES,
        "can_delete": can_delete(targets),
        "review": review or review_panel(deposit),
    }


# --------------------------------------------------------------------------- pages


@require_http_methods(["GET", "POST"])
@login_required
def deposit_new(request: HtmxHttpRequest) -> HttpResponse:
    teams = access.teams_for(request.user)
    if not teams:
        return render(request, "deposit-new.html", {"form": None})
    chosen = request.POST.get("team") or request.GET.get("team")
    team = next((t for t in teams if str(t.pk) == chosen), teams[0])
    data = request.POST if request.method == "POST" else None
    form = NewDepositForm(data, teams=teams, team=team)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            deposit = Deposit.objects.create(
                team=form.cleaned_data["team"],
                created_by=request.user,
                metadata=to_record(
                    {
                        "title": form.cleaned_data["title"].strip(),
                        "resource_type": form.cleaned_data["resource_type"],
                        "access_right": "open",
                    }
                ),
            )
            lifecycle.record_event(deposit, "created", user=request.user, message="Created")
            for account in form.cleaned_data["accounts"]:
                lifecycle.add_target(deposit, account, user=request.user)
            lifecycle.revalidate(deposit)
        return redirect("deposit", pk=deposit.pk)
    template = "deposit-new.html"
    if request.htmx and request.method == "GET":
        template += "#new-deposit-form"  # the team changed: its accounts
    return render(request, template, {"form": form})


@require_GET
@login_required
def deposit_page(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deposit = access.get_deposit_for(request.user, pk)
    reviewer = access.can_review(request.user, deposit.team)
    # The review first: read before the cards, a decision made meanwhile shows as still
    # open (so the panel keeps watching, and sees it), never as decided over stale cards.
    review = review_panel(deposit)
    context = page_context(deposit, _targets(deposit), reviewer=reviewer, review=review)
    return render(request, "deposit.html", context)


@require_POST
@login_required
def deposit_metadata(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Save the editor (htmx posts it as people type) and say what is still missing.

    ``row`` = "add:<group>" or "remove:<group>:<index>" adds or removes a row of a
    repeating group; the group is rendered again with its rows renumbered.
    """
    deposit = access.get_deposit_for(request.user, pk)
    targets = _targets(deposit)
    row_op = request.POST.get("row", "")
    data = edit_rows(request.POST, row_op) if row_op else request.POST
    editor = _editor(deposit, data)
    # A curator may correct a deposit they review; its author waits for their answer.
    reviewer = access.can_review(request.user, deposit.team)
    locked = metadata_locked_reason(targets, reviewer=reviewer)
    saved = False
    if not locked and editor.is_valid():
        try:
            lifecycle.save_metadata(
                deposit, editor.to_metadata, user=request.user, reviewer=reviewer
            )
        except lifecycle.NotAllowed as exc:  # a worker took it since the check above
            locked = str(exc)
        else:
            saved = True
        deposit.refresh_from_db()
        targets = _targets(deposit)
    context = page_context(deposit, targets, editor, reviewer=reviewer)
    context["saved"], context["locked"] = saved, locked
    if locked:
        context["save_status"] = f"Not saved: {locked}"
    elif saved:
        context["save_status"] = f"Saved at {timezone.localtime():%H:%M:%S}."
    else:
        count = editor.error_count()
        context["save_status"] = (
            f"Not saved: fix the {count} field{'s' if count != 1 else ''} marked below."
        )
    if not request.htmx:
        if saved and not row_op:
            messages.success(request, "Saved.")
            return redirect("deposit", pk=deposit.pk)
        if locked:
            messages.error(request, locked)
        return render(request, "deposit.html", context)
    group_key = row_op.split(":")[1] if ":" in row_op else ""
    if group_key in GROUPS:
        context["group"] = editor.group(group_key)
        group_path = GROUPS[group_key].path
        context["slots_oob"] = [
            s for p, s in context["slots"].items() if not p.startswith(group_path)
        ]
        response = render(request, "deposit.html#metadata-row-response", context)
    else:
        context["slots_oob"] = list(context["slots"].values())
        response = render(request, "deposit.html#metadata-feedback", context)
    if saved:
        trigger_client_event(response, "deposit-changed")
    return response


@require_POST
@login_required
def deposit_targets(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Choose the linked accounts the deposit goes to."""
    deposit = access.get_deposit_for(request.user, pk)
    targets = _targets(deposit)
    form = TargetsForm(request.POST, team=deposit.team, chosen=[t.account_id for t in targets])
    if form.is_valid():
        wanted = {account.pk: account for account in form.cleaned_data["accounts"]}
        for target in targets:
            if target.account_id not in wanted:
                try:
                    lifecycle.remove_target(target, user=request.user)
                    messages.success(request, f"{target.account.label} removed.")
                except lifecycle.NotAllowed as exc:
                    messages.error(request, str(exc))
        have = {t.account_id for t in targets}
        for account_pk, account in wanted.items():
            if account_pk not in have:
                try:
                    lifecycle.add_target(deposit, account, user=request.user)
                    messages.success(request, f"{account.label} added.")
                except lifecycle.NotAllowed as exc:
                    messages.error(request, str(exc))
        lifecycle.revalidate(deposit)
    else:
        messages.error(request, "Choose linked accounts of this deposit's team.")
    return redirect("deposit", pk=deposit.pk)
