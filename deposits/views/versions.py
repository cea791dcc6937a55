"""What differs from a published version, and undoing here: discard local edits, delete a
deposit no repository holds anything of."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from deposits import access, lifecycle
from deposits.lifecycle.versions import delete_deposit, discard_local_edits
from deposits.models import Deposit, Target

from .cards import VersionChanges, target_card
from .request import HtmxHttpRequest


@require_GET
@login_required
def target_changes_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The comparison of a published target with the deposit here (refreshed on saves)."""
    target = access.get_target_for(request.user, pk)
    return render(request, "deposit.html#target-changes", {"card": target_card(target)})


def change_lines(changes: VersionChanges | None, *, files_sent: bool = True) -> list[str]:
    """The comparison in a few lines, for a confirmation page."""
    if changes is None or not changes.any:
        return []
    lines = [f"{row.label}: “{row.before or '—'}” → “{row.after or '—'}”" for row in changes.fields]
    for change in changes.files:
        lines.append(f"File {change.name}: {change.change}")
    if changes.options:
        lines.append("Repository options: " + ", ".join(changes.options))
    if not files_sent and changes.files:
        lines.append(
            "File changes are not sent by an edit of the published record: they need a new version."
        )
    return lines


def _confirm(request: HtmxHttpRequest, deposit: Deposit, **context: Any) -> HttpResponse:
    return render(
        request,
        "confirm.html",
        {"deposit": deposit, "cancel_url": reverse("deposit", args=[deposit.pk]), **context},
    )


def _discard_consequences(target: Target, changes: VersionChanges | None) -> list[str]:
    where = target.account.label
    version = f" {changes.version}" if changes and changes.version else ""
    lines = []
    if changes and changes.fields:
        lines.append(
            f"The description goes back to what the published version{version} on {where} "
            "has (for every repository this deposit goes to)."
        )
    if changes and changes.options:
        lines.append(f"The {target.account.get_kind_display()} options go back as published.")
    if changes and changes.files:
        lines.append(
            "Files added since it was published are removed from this deposit. Files "
            f"removed or replaced since cannot come back from here: {where} still holds "
            "them in the published version."
        )
    return [*lines, "Nothing is sent to any repository."]


@require_http_methods(["GET", "POST"])
@login_required
def target_discard_local(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    target: Target = access.get_target_for(request.user, pk)
    if request.method == "GET" or not request.POST.get("confirmed"):
        card = target_card(target)
        return _confirm(
            request,
            target.deposit,
            title=f"Discard the changes not sent to {target.account.label}?",
            consequences=_discard_consequences(target, card.changes),
            changes=change_lines(card.changes),
            action_url=reverse("target-discard-local", args=[target.pk]),
            confirm_label="Discard the changes",
            danger=True,
            irreversible=True,
            action="discard-local",
        )
    try:
        undone = discard_local_edits(target, user=request.user)
    except lifecycle.NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            "Discarded "
            + (", ".join(undone) or "nothing (there were no changes)")
            + f": the deposit matches the published version on {target.account.label}.",
        )
    return redirect("deposit", pk=target.deposit_id)


@require_http_methods(["GET", "POST"])
@login_required
def deposit_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deposit = access.get_deposit_for(request.user, pk)
    if request.method == "GET" or not request.POST.get("confirmed"):
        return _confirm(
            request,
            deposit,
            title=f"Delete “{deposit}”?",
            consequences=[
                "The deposit, its description and its files are deleted from the portal.",
                "No repository holds anything of it, so nothing is deleted anywhere else.",
                "The team's history keeps one line saying who deleted it and when.",
            ],
            action_url=reverse("deposit-delete", args=[deposit.pk]),
            confirm_label="Delete the deposit",
            danger=True,
            irreversible=True,
            action="delete-deposit",
        )
    try:
        delete_deposit(deposit, user=request.user)
    except lifecycle.NotAllowed as exc:
        messages.error(request, str(exc))
        return redirect("deposit", pk=deposit.pk)
    messages.success(request, f"Deleted the deposit “{deposit}”.")
    return redirect("dashboard")


def can_delete(targets: list[Target]) -> bool:
    """Offer "Delete this deposit" only when no repository holds anything of it."""
    return all(not t.remote_id and t.published_at is None and not t.in_flight for t in targets)
