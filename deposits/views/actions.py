"""What people ask of one target: publish, new version, edit, discard, delete, retry.

Actions that cannot be undone render a confirmation page first; only a post carrying
``confirmed`` from that page goes ahead.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deposits import access, lifecycle
from deposits.lifecycle.states import QueueUnreachable
from deposits.models import Action, Target
from deposits.repositories import registry

from .cards import target_card
from .request import HtmxHttpRequest
from .versions import change_lines


def _card_or_page(request: HtmxHttpRequest, target: Target) -> HttpResponse:
    if request.htmx:
        return render(request, "deposit.html#target-card", {"card": target_card(target)})
    return redirect("deposit", pk=target.deposit_id)


@require_GET
@login_required
def target_card_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One target's card; polled every 2s while queued or working, then no more."""
    target = access.get_target_for(request.user, pk)
    response = render(request, "deposit.html#target-card", {"card": target_card(target)})
    if request.GET.get("polling") and not target.in_flight:
        # The card (with its DOI) swaps in place; the rest of the page was worked out
        # while the worker was on it (files and metadata locked, banners, the other
        # targets), so it fetches itself again: what it shows comes from the state now.
        response["HX-Trigger"] = "target-finished"
    return response


@require_http_methods(["GET", "POST"])
@login_required
def target_action(request: HtmxHttpRequest, pk: int, action: str) -> HttpResponse:
    target = access.get_target_for(request.user, pk)
    try:
        chosen = Action(action)
    except ValueError:
        raise Http404("No such action") from None
    spec = registry.get(target.account.kind).action_spec(chosen)
    if spec is None:
        raise Http404(f"{target.account.get_kind_display()} has no such action")
    needs_confirmation = spec.confirm and not request.POST.get("confirmed")
    if request.method == "GET" or needs_confirmation:
        # what is not sent yet, for an action that sends the description
        changes = target_card(target).changes if spec.sends_deposit else None
        return render(
            request,
            "confirm.html",
            {
                "deposit": target.deposit,
                "title": f"{spec.label} on {target.account.label}?",
                "consequences": list(spec.consequences),
                "changes": change_lines(changes, files_sent=chosen != Action.EDIT),
                "action_url": reverse("target-action", args=[target.pk, chosen.value]),
                "confirm_label": f"{spec.label} now",
                "danger": spec.danger,
                "irreversible": spec.danger or spec.publishes,
                "action": chosen.value,
                "cancel_url": reverse("deposit", args=[target.deposit_id]),
            },
        )
    try:
        lifecycle.request(target, chosen, user=request.user)
    except lifecycle.NotAllowed as exc:
        messages.error(request, str(exc))
    except QueueUnreachable:
        messages.warning(request, queued_while_down(f"{spec.label}: queued", target))
    else:
        messages.success(request, f"{spec.label}: queued for {target.account.label}.")
    return _card_or_page(request, target)


def queued_while_down(what: str, target: Target) -> str:
    """The request is committed (the target is queued) but its task was not sent."""
    return (
        f"{what} for {target.account.label}. The workers cannot be reached right now "
        "(the task queue is down): it starts by itself when they are back. Nothing was lost."
    )


@require_POST
@login_required
def target_retry(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    target = access.get_target_for(request.user, pk)
    try:
        lifecycle.retry(target, user=request.user)
    except lifecycle.NotAllowed as exc:
        messages.error(request, str(exc))
    except QueueUnreachable:
        messages.warning(request, queued_while_down("Retry: queued", target))
    else:
        messages.success(request, f"Trying {target.account.label} again.")
    return _card_or_page(request, target)
