"""The repeating groups of the metadata (creators, dates, locations, ...): one small form
per row, and adding or removing a row in posted data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms
from django.http import QueryDict

from deposits import metadata as md

from .fields import choices, date, iso, named, text

ORCID_HELP = "16 digits, e.g. 0000-0002-1825-0097"
# What a related identifier names: any of the portal's resource types, subtypes included.
RELATED_TYPES = [(t.id, t.label) for t in md.TYPE_BY_ID.values()]


class RowForm(forms.Form):
    """One row of a repeating group; ``path_prefix`` is set to e.g. "creators.0."."""

    path_prefix = ""
    date_fields: ClassVar[tuple[str, ...]] = ()

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if value in ("", None):
                continue
            if name in self.date_fields:
                value = iso(value)
            elif isinstance(value, str):
                value = value.strip()
                if name == "orcid":
                    value = md.normalize_orcid(value) or value
            row[name] = value
        return row


class PersonForm(RowForm):
    name = text("Name", "Family name, given names", placeholder="Family, Given")
    affiliation = text("Affiliation")
    ror = text("Affiliation's ROR id", "Optional, from ror.org", placeholder="https://ror.org/0…")
    orcid = text("ORCID iD", ORCID_HELP, inputmode="numeric")
    gnd = text("GND", "Optional")

    def clean_ror(self) -> str:
        value = str(self.cleaned_data.get("ror") or "").strip()
        if value and not md.ROR_RE.match(value.lower()):
            raise forms.ValidationError(
                "That is not a ROR id: look the institution up on ror.org and paste its "
                "address, e.g. https://ror.org/00g30e956."
            )
        return md.normalize_ror(value)


class ContributorForm(PersonForm):
    type = forms.ChoiceField(
        label="Role", required=False, choices=choices(named(md.CONTRIBUTOR_TYPES))
    )


class SupervisorForm(RowForm):
    name = text("Name", "Family name, given names", placeholder="Family, Given")
    affiliation = text("Affiliation")
    orcid = text("ORCID iD", ORCID_HELP, inputmode="numeric")


class RelatedIdentifierForm(RowForm):
    identifier = text("Identifier", "A DOI, URL, arXiv id, ...")
    relation = forms.ChoiceField(
        label="Relation", required=False, choices=choices(named(md.RELATION_CHOICES))
    )
    resource_type = forms.ChoiceField(
        label="Resource type", required=False, choices=choices(RELATED_TYPES)
    )
    scheme = text("Scheme", "Optional: doi, url, arxiv, ...")


class SubjectForm(RowForm):
    term = text("Term")
    identifier = text("Identifier", "e.g. a URL in a controlled vocabulary")
    scheme = text("Scheme", "e.g. url")


class FundingForm(RowForm):
    funder_doi = text("Funder DOI", "e.g. 10.13039/501100000780 (European Commission)")
    funder_name = text("Funder name", "Optional for the common funders; DataCite asks for it")
    award_number = text("Award number")


class DateRowForm(RowForm):
    date_fields = ("start", "end")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "The end is before the start: swap them, or correct one.")
        return data

    start = date()
    end = date()
    type = forms.ChoiceField(label="Type", required=False, choices=choices(named(md.DATE_TYPES)))
    description = text("Description")


class LocationForm(RowForm):
    place = text("Place")
    lat = forms.FloatField(
        label="Latitude",
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    lon = forms.FloatField(
        label="Longitude",
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    description = text("Description")


@dataclass(frozen=True)
class Group:
    key: str  # the formset prefix
    path: str  # where the rows live in the metadata
    label: str
    row_label: str
    form: type[RowForm]
    help_text: str = ""
    empty_row: bool = False  # show one empty row when there are none yet


GROUPS: dict[str, Group] = {
    group.key: group
    for group in (
        Group(
            "creators",
            "creators",
            "Creators",
            "creator",
            PersonForm,
            "The people or organisations who made this, in citation order.",
            empty_row=True,
        ),
        Group(
            "contributors",
            "contributors",
            "Contributors",
            "contributor",
            ContributorForm,
            "Others who helped: curators, supervisors, funders' contacts.",
        ),
        Group(
            "related_identifiers",
            "related_identifiers",
            "Related identifiers",
            "related identifier",
            RelatedIdentifierForm,
            "Papers, datasets or code this relates to.",
        ),
        Group("subjects", "subjects", "Subjects", "subject", SubjectForm),
        Group(
            "funding",
            "funding",
            "Funding",
            "grant",
            FundingForm,
            "Grants that funded this work.",
        ),
        Group(
            "dates",
            "dates",
            "Dates",
            "date",
            DateRowForm,
            "When the data was collected, valid or withdrawn.",
        ),
        Group("locations", "locations", "Locations", "location", LocationForm),
        Group(
            "thesis_supervisors",
            "thesis.supervisors",
            "Thesis supervisors",
            "supervisor",
            SupervisorForm,
        ),
    )
}


def rows_at(metadata: dict[str, Any], path: str) -> list[dict[str, Any]]:
    value: Any = metadata
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def edit_rows(data: QueryDict, op: str) -> QueryDict:
    """Apply "add:<group>" or "remove:<group>:<index>" to posted form data, renumbering."""
    parts = op.split(":")
    group = GROUPS.get(parts[1]) if len(parts) > 1 else None
    if group is None:
        return data
    prefix = group.key
    total_key = f"{prefix}-TOTAL_FORMS"
    try:
        total = max(0, int(data.get(total_key, "0")))
    except ValueError:
        total = 0
    result = data.copy()
    if parts[0] == "add":
        result[total_key] = str(total + 1)
    elif parts[0] == "remove" and len(parts) == 3 and parts[2].isdigit():
        drop = int(parts[2])
        names = list(group.form.base_fields)
        rows = [
            {name: data.get(f"{prefix}-{i}-{name}", "") for name in names}
            for i in range(total)
            if i != drop
        ]
        for i in range(total):
            for name in names:
                result.pop(f"{prefix}-{i}-{name}", None)
        for i, row in enumerate(rows):
            for name, value in row.items():
                result[f"{prefix}-{i}-{name}"] = value
        result[total_key] = str(len(rows))
    result[f"{prefix}-INITIAL_FORMS"] = "0"
    return result
