"""Linking a repository account. The token field is write-only: never rendered back."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from deposits.models import LinkedAccount, ReviewRule
from deposits.repositories import registry
from deposits.repositories.limiter import RateWindow

WINDOW_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*s?\s*$")


def linkable_kinds() -> list[tuple[str, str]]:
    """The repository kinds that have a connector, with their display names."""
    return registry.choices()


def format_windows(windows: list[RateWindow]) -> str:
    return ", ".join(f"{w.limit}/{w.seconds}s" for w in windows)


class RateWindowsField(forms.CharField):
    """ "100/60s, 5000/3600s" (requests per seconds) <-> [RateWindow(100, 60), ...]"""

    def to_python(self, value: Any) -> list[RateWindow]:  # type: ignore[override]
        text = super().to_python(value)
        windows = []
        for part in re.split(r"[,\n;]+", text or ""):
            if not part.strip():
                continue
            match = WINDOW_RE.match(part)
            if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
                raise forms.ValidationError(
                    f"“{part.strip()}” is not a window: write requests/seconds, "
                    "e.g. 100/60s, 5000/3600s."
                )
            windows.append(RateWindow(int(match.group(1)), int(match.group(2))))
        return windows


class AccountForm(forms.Form):
    kind = forms.ChoiceField(label="Repository")
    label = forms.CharField(
        max_length=200, help_text="A name your team recognises, e.g. “Zenodo (lab account)”."
    )
    base_url = forms.URLField(
        label="API base URL",
        required=False,
        assume_scheme="https",
        help_text="Leave empty for the repository's public service.",
    )
    token = forms.CharField(
        label="Access token",
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted and never shown again.",
    )
    rate_windows = RateWindowsField(
        label="Rate limits",
        required=False,
        help_text="Requests per window, e.g. 100/60s, 5000/3600s. Empty: the repository's default.",
    )
    review = forms.ChoiceField(
        label="Curator's approval",
        choices=ReviewRule.choices,
        required=False,
        help_text="Whether publishing through this account waits for a curator's approval.",
    )

    def __init__(
        self,
        *args: Any,
        account: LinkedAccount | None = None,
        teams: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["kind"].choices = linkable_kinds()  # type: ignore[attr-defined]
        if teams is not None and len(teams) > 1:
            self.fields["team"] = forms.TypedChoiceField(
                label="Team", choices=teams, coerce=int, help_text="Who may use this account."
            )
            self.order_fields(["team"])
        if account is not None:
            del self.fields["kind"]
            self.fields["token"].required = False
            self.fields[
                "token"
            ].help_text = (
                f"Leave empty to keep the current token ({account.token_hint or 'hidden'})."
            )

    def clean_base_url(self) -> str:
        url: str = self.cleaned_data.get("base_url") or ""
        kind = self.cleaned_data.get("kind") or (self.account.kind if self.account else "")
        if not url and kind:
            url = registry.get(kind).default_base_url
        if not url:
            raise forms.ValidationError("Give the repository's API base URL.")
        return url.rstrip("/")
