"""Linked accounts: a team's repository credentials, their status and rate budget.

A token goes in through a password field and never comes back out: pages show only
``token_hint``, and the token field is never rendered with a value. A card warns a week
before its key expires, and says once it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deposits import access, lifecycle
from deposits.forms import AccountForm
from deposits.forms.accounts import format_windows
from deposits.lifecycle.teams import set_account_review
from deposits.models import LinkedAccount

from .cards import account_card
from .request import HtmxHttpRequest

# How long before a key expires its card warns (README: "warns a week before"; DataMeta
# keys last at most 30 days).
KEY_WARNING = timedelta(days=7)


@dataclass(frozen=True)
class KeyExpiry:
    """What an account's card says about its key's expiry."""

    expires_at: datetime
    expired: bool


def key_expiry(account: LinkedAccount) -> KeyExpiry | None:
    """The warning for the card: the key expires within KEY_WARNING, or has expired;
    None when it expires later or the repository gives no expiry."""
    if account.expires_at is None:
        return None
    now = timezone.now()
    if account.expires_at - now > KEY_WARNING:
        return None
    return KeyExpiry(account.expires_at, expired=account.expires_at <= now)


@require_GET
@login_required
def account_list(request: HtmxHttpRequest) -> HttpResponse:
    accounts = (
        access.accounts_for(request.user)
        .select_related("team")
        .annotate(target_count=Count("targets"))
        .order_by("team__name", "label")
    )
    teams = access.teams_for(request.user)
    managed = access.admin_team_ids(request.user)
    return render(
        request,
        "accounts.html",
        {
            "cards": [(account_card(a, a.target_count), key_expiry(a)) for a in accounts],
            "has_team": teams.exists(),
            "many_teams": teams.count() > 1,
            "manageable": managed,
            "policy_teams": [t for t in teams if t.pk in managed],
        },
    )


@require_GET
@login_required
def account_card_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One account's card; polled while its token waits for verification."""
    account = access.get_account_for(request.user, pk)
    return render(
        request,
        "accounts.html#account-card",
        {
            "card": account_card(account, account.targets.count()),
            "expiry": key_expiry(account),
            "manageable": access.admin_team_ids(request.user),
        },
    )


@sensitive_post_parameters("token")
@require_http_methods(["GET", "POST"])
@login_required
def account_new(request: HtmxHttpRequest) -> HttpResponse:
    teams = list(access.teams_for(request.user))
    if not teams:
        messages.error(request, "You are not in a team yet: ask an administrator to add you.")
        return redirect("accounts")
    managed = access.admin_team_ids(request.user)
    if not managed:
        access.require_admin(request.user, teams[0], "link repository accounts")
    teams = [t for t in teams if t.pk in managed]
    choices = [(t.pk, t.name) for t in teams]
    form = AccountForm(request.POST or None, teams=choices)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        team = next((t for t in teams if t.pk == data.get("team")), teams[0])
        try:
            account = lifecycle.link_account(
                team,
                kind=data["kind"],
                label=data["label"],
                base_url=data["base_url"],
                token=data["token"],
                rate_windows=data["rate_windows"] or None,
                user=request.user,
            )
            set_account_review(account, user=request.user, rule=data["review"])
        except lifecycle.NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Linked {account.label}. Checking the token now…")
            return redirect("accounts")
    return render(request, "account-form.html", {"form": form, "account": None})


@sensitive_post_parameters("token")
@require_http_methods(["GET", "POST"])
@login_required
def account_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    account = access.get_account_for(request.user, pk)
    access.require_admin(request.user, account.team, "change its linked accounts")
    initial = {
        "label": account.label,
        "base_url": account.base_url,
        "rate_windows": format_windows(
            account.effective_rate_windows() if account.rate_windows else []
        ),
        "review": account.review,
    }
    form = AccountForm(request.POST or None, initial=initial, account=account)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lifecycle.update_account(
                account,
                user=request.user,
                label=data["label"],
                base_url=data["base_url"],
                token=data["token"] or None,
                rate_windows=data["rate_windows"],
            )
            set_account_review(account, user=request.user, rule=data["review"])
        except lifecycle.NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved {account.label}.")
            return redirect("accounts")
    return render(request, "account-form.html", {"form": form, "account": account})


@require_POST
@login_required
def account_verify(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    account = access.get_account_for(request.user, pk)
    if lifecycle.verify_account(account, user=request.user):
        messages.info(request, f"Checking the token of {account.label}…")
    else:
        # One check at a time: a second click sends nothing (a repository may count each
        # refused request as a failed login).
        messages.info(
            request,
            f"A check of {account.label} is already under way; its result shows here in a "
            "moment. Nothing more was sent.",
        )
    return redirect("accounts")


@require_http_methods(["GET", "POST"])
@login_required
def account_unlink(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    account = access.get_account_for(request.user, pk)
    access.require_admin(request.user, account.team, "unlink its linked accounts")
    if request.method == "GET" or not request.POST.get("confirmed"):
        return render(
            request,
            "confirm.html",
            {
                "title": f"Unlink {account.label}?",
                "consequences": [
                    "The token is deleted from this portal; the account itself stays on "
                    f"{account.get_kind_display()}.",
                    "Deposits can no longer be sent through it; link it again to use it.",
                ],
                "action_url": reverse("account-unlink", args=[account.pk]),
                "cancel_url": reverse("accounts"),
                "confirm_label": "Unlink account",
                "danger": True,
                "irreversible": True,
            },
        )
    try:
        lifecycle.unlink_account(account, user=request.user)
    except lifecycle.NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Unlinked {account.label}.")
    return redirect("accounts")
