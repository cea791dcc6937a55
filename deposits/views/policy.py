"""A team's own settings: its review policy, and what a release from a linked code forge
becomes (admins only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from deposits import access
from deposits.forms.policy import TeamPolicyForm
from deposits.lifecycle.states import NotAllowed
from deposits.lifecycle.teams import POLICY_FIELDS, RELEASE_FIELD, set_team_policy
from deposits.models import Event, LinkedAccount, ReleasePublish, Team

from .request import HtmxHttpRequest

HISTORY_SHOWN = 10


class PolicyForm(TeamPolicyForm):
    """The review switches, and what a release from a linked code forge becomes."""

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, team=team, **kwargs)
        self.initial.setdefault(RELEASE_FIELD, team.release_publish)
        self.fields[RELEASE_FIELD] = forms.ChoiceField(
            label="Releases from linked code forges",
            choices=ReleasePublish.choices,
            widget=forms.RadioSelect,
            help_text="What a release from a linked GitHub or GitLab repository becomes.",
        )


@require_http_methods(["GET", "POST"])
@login_required
def team_policy(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    team = access.get_team_for(request.user, pk)
    access.require_admin(request.user, team, "change its review policy")
    form = PolicyForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        try:
            changed = set_team_policy(
                team,
                user=request.user,
                **{name: form.cleaned_data[name] for name in [*POLICY_FIELDS, RELEASE_FIELD]},
            )
        except (NotAllowed, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Saved the review policy of {team}." if changed else "Nothing changed.",
            )
            return redirect("team-policy", pk=team.pk)
    return render(
        request,
        "team-policy.html",
        {
            "team": team,
            "form": form,
            "accounts": LinkedAccount.objects.filter(team=team).order_by("label"),
            "history": Event.objects.filter(team=team, kind="policy").select_related("actor")[
                :HISTORY_SHOWN
            ],
        },
    )
