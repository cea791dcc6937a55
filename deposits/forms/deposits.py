"""Starting a deposit and choosing where it goes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from deposits import metadata as md
from deposits.models import LinkedAccount, State, Team
from deposits.repositories import registry


class AccountChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: LinkedAccount) -> str:
        return f"{obj.label} ({obj.get_kind_display()})"


class NewDepositForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    title = forms.CharField(max_length=500)
    resource_type = forms.ChoiceField(
        label="Resource type", choices=[("", "Choose…"), *md.RESOURCE_TYPES], required=False
    )
    accounts = AccountChoiceField(
        label="Send to",
        queryset=LinkedAccount.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="You can change this later.",
    )

    def __init__(self, *args: Any, teams: QuerySet[Team], team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]
        self.fields["team"].initial = team.pk
        self.fields["accounts"].queryset = team.accounts.all()  # type: ignore[attr-defined]
        self.fields["accounts"].initial = [a.pk for a in team.accounts.all()]
        self.fields["team"].widget.attrs["data-team-select"] = ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        team, accounts = data.get("team"), data.get("accounts") or []
        if team and any(account.team_id != team.pk for account in accounts):
            raise forms.ValidationError("Choose linked accounts of the deposit's team.")
        return data


class TargetsForm(forms.Form):
    accounts = AccountChoiceField(
        label="Send to",
        queryset=LinkedAccount.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, team: Team, chosen: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["accounts"].queryset = team.accounts.all()  # type: ignore[attr-defined]
        self.fields["accounts"].initial = chosen


class DashboardFilters(forms.Form):
    q = forms.CharField(label="Search titles", required=False, max_length=200)
    state = forms.ChoiceField(
        label="State", required=False, choices=[("", "Any state"), *State.choices]
    )
    kind = forms.ChoiceField(
        label="Repository",
        required=False,
        choices=lambda: [("", "Any repository"), *registry.choices()],
    )
    team = forms.TypedChoiceField(label="Team", required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(team.pk, team.name) for team in teams]
        if len(choices) > 1:
            self.fields["team"].choices = [("", "All teams"), *choices]  # type: ignore[attr-defined]
        else:
            del self.fields["team"]

    def value(self, name: str) -> Any:
        return self.cleaned_data.get(name) if self.is_valid() else None
