"""A team's review policy: which publishing needs a curator's approval, and who reviews."""

from __future__ import annotations

from typing import Any

from django import forms

from deposits.lifecycle.teams import POLICY_FIELDS
from deposits.models import Team


class TeamPolicyForm(forms.Form):
    """One checkbox per switch of the policy, worded as the model's help text."""

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {name: getattr(team, name) for name in POLICY_FIELDS})
        super().__init__(*args, **kwargs)
        for name in POLICY_FIELDS:
            self.fields[name] = forms.BooleanField(
                required=False, label=str(getattr(Team._meta.get_field(name), "help_text", name))
            )
