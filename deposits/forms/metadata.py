"""The deposit editor: the neutral metadata (a DataCite record, deposits/metadata/) as a
form, through the editor's flat view of it (``deposits.metadata.editing``).

Field names map to the view's field paths: ``journal__title`` edits ``journal.title``;
the rows of a repeating group (creators, dates, ...) are a formset whose prefix is the
group key, so ``creators-0-orcid`` edits ``creators.0.orcid``. Those paths are what
connectors name in their problems, which is how each problem finds the field it belongs
next to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict

from deposits import metadata as md
from deposits.repositories.base import Problem

from .fields import choices, date, iso, lines, split_lines, text
from .groups import GROUPS, Group, RowForm, edit_rows, rows_at
from .problems import Slot, field_path, form_errors, place_problems, slot_id

__all__ = [
    "GROUPS",
    "LICENSES",
    "MetadataEditor",
    "MetadataForm",
    "Slot",
    "edit_rows",
    "field_label",
    "field_path",
    "place_problems",
    "slot_id",
]


LICENSES = [
    "cc-by-4.0",
    "cc-by-sa-4.0",
    "cc-by-nc-4.0",
    "cc-by-nd-4.0",
    "cc0-1.0",
    "mit",
    "apache-2.0",
    "bsd-3-clause",
    "gpl-3.0-or-later",
    "lgpl-3.0-or-later",
    "mpl-2.0",
    "odc-by-1.0",
    "odbl-1.0",
]
NESTED = ("journal", "conference", "imprint", "part_of", "thesis")


class MetadataForm(forms.Form):
    """The single-valued fields; ``a__b`` edits ``metadata["a"]["b"]``."""

    path_prefix = ""
    date_fields = ("publication_date", "embargo_date")

    title = forms.CharField(required=False, max_length=500)
    resource_type = forms.ChoiceField(
        label="Resource type", required=False, choices=choices(md.RESOURCE_TYPES, "Choose…")
    )
    publication_type = forms.ChoiceField(
        label="Publication type", required=False, choices=choices(md.PUBLICATION_TYPES)
    )
    image_type = forms.ChoiceField(
        label="Image type", required=False, choices=choices(md.IMAGE_TYPES)
    )
    publication_date = date()
    version = text("Version", "e.g. v1.2.0", placeholder="v1.0")
    language = text("Language", "ISO 639-3 code, e.g. eng, deu, nob", maxlength="3")
    description = forms.CharField(
        required=False,
        help_text="Simple HTML is kept (paragraphs, lists, links, emphasis); anything else is removed.",
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    keywords = lines("Keywords", "One per line.")
    notes = lines("Notes", "Anything else a reader should know.")
    method = lines("Method", "How the data was produced (Zenodo shows it as 'Method').")

    access_right = forms.ChoiceField(
        label="Access", required=False, choices=md.ACCESS_RIGHTS, widget=forms.RadioSelect
    )
    embargo_date = date("Embargo ends", "The files open on this date.")
    access_conditions = lines(
        "Access conditions", "Who may request access, and how (for restricted access)."
    )
    license = text("License", "An SPDX-style id, e.g. cc-by-4.0 or mit", list="license-ids")

    references = lines("References", "One citation per line.", rows=4)

    journal__title = text("Journal")
    journal__volume = text("Volume")
    journal__issue = text("Issue")
    journal__pages = text("Pages")
    conference__title = text("Conference")
    conference__acronym = text("Acronym")
    conference__dates = text("Dates", "e.g. 14–16 May 2025")
    conference__place = text("Place")
    conference__url = forms.URLField(label="Website", required=False, assume_scheme="https")
    conference__session = text("Session")
    conference__session_part = text("Session part")
    imprint__publisher = text("Publisher")
    imprint__isbn = text("ISBN")
    imprint__place = text("Place")
    part_of__title = text("Book title", "The book this section is part of.")
    part_of__pages = text("Pages")
    thesis__university = text("University")

    @staticmethod
    def initial_from(metadata: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for name in MetadataForm.base_fields:
            if "__" in name:
                group, key = name.split("__", 1)
                nested = metadata.get(group)
                if isinstance(nested, dict) and key in nested:
                    initial[name] = nested[key]
            elif name in ("keywords", "references"):
                initial[name] = "\n".join(str(v) for v in metadata.get(name) or [])
            elif name in metadata:
                initial[name] = metadata[name]
        initial.setdefault("access_right", "open")
        return initial

    def to_metadata(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {key: {} for key in NESTED}
        for name, value in self.cleaned_data.items():
            if name in self.date_fields:
                value = iso(value)
            elif name in ("keywords", "references"):
                value = split_lines(value)
            elif isinstance(value, str) and name != "description":
                value = value.strip()
            if "__" in name:
                group, key = name.split("__", 1)
                if value not in ("", None):
                    nested[group][key] = value
            else:
                out[name] = value
        out.update(nested)
        # Sub-types and access details only mean something with their parent choice.
        if out.get("resource_type") != "publication":
            out["publication_type"] = ""
        if out.get("resource_type") != "image":
            out["image_type"] = ""
        if out.get("access_right") != "embargoed":
            out["embargo_date"] = ""
        if out.get("access_right") != "restricted":
            out["access_conditions"] = ""
        return out


@dataclass
class BoundGroup:
    spec: Group
    formset: forms.BaseFormSet

    @property
    def forms(self) -> list[RowForm]:
        return list(self.formset.forms)


def _formset_class(group: Group, extra: int) -> type[forms.BaseFormSet]:
    return forms.formset_factory(group.form, extra=extra, max_num=500, absolute_max=500)


class MetadataEditor:
    """The main form plus one formset per repeating group, bound or initial together."""

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        metadata: dict[str, Any],
    ) -> None:
        view = md.to_view(metadata)
        self.form = MetadataForm(data, initial=MetadataForm.initial_from(view))
        self.groups: list[BoundGroup] = []
        for group in GROUPS.values():
            rows = rows_at(view, group.path)
            extra = 1 if group.empty_row and not rows and data is None else 0
            formset = _formset_class(group, extra)(
                data,
                prefix=group.key,
                initial=[{k: v for k, v in row.items()} for row in rows] if data is None else None,
            )
            for index, form in enumerate(formset.forms):
                form.path_prefix = f"{group.path}.{index}."
            self.groups.append(BoundGroup(group, formset))

    def group(self, key: str) -> BoundGroup:
        return next(g for g in self.groups if g.spec.key == key)

    def __getitem__(self, key: str) -> BoundGroup:
        return self.group(key)

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        for group in self.groups:
            valid = group.formset.is_valid() and valid
        return valid

    def error_count(self) -> int:
        count = len(self.form.errors)
        for group in self.groups:
            count += sum(len(errors) for errors in group.formset.errors)
        return count

    def to_metadata(self, previous: md.Record) -> md.Record:
        """The new record: the edited fields replaced, what the form doesn't show kept."""
        result = md.to_view(previous)
        result.update(self.form.to_metadata())
        thesis: dict[str, Any] = dict(result.get("thesis") or {})
        for group in self.groups:
            rows = [form.to_row() for form in group.formset.forms if form.has_changed()]
            rows = [row for row in rows if row]
            if group.spec.path == "thesis.supervisors":
                thesis["supervisors"] = rows
            else:
                result[group.spec.path] = rows
        result["thesis"] = {k: v for k, v in thesis.items() if v not in ("", None, [], {})}
        for key in NESTED:
            if not result.get(key):
                result.pop(key, None)
        return md.to_record(result, previous)

    def slots(self, placed: dict[str, list[Problem]], *extra: str) -> dict[str, Slot]:
        """Per field path: the form's own errors and the repositories' problems."""
        slots: dict[str, Slot] = {}
        for name in self.form.fields:
            path = field_path(self.form, name)
            slots[path] = Slot(path, form_errors(self.form, name), placed.get(path, []))
        for group in self.groups:
            errors = (
                [str(e) for e in group.formset.non_form_errors()] if group.formset.is_bound else []
            )
            slots[group.spec.path] = Slot(group.spec.path, errors, placed.get(group.spec.path, []))
            for form in group.forms:
                for name in form.fields:
                    path = field_path(form, name)
                    slots[path] = Slot(path, form_errors(form, name), placed.get(path, []))
        for path in extra:
            slots[path] = Slot(path, [], placed.get(path, []))
        return slots

    def paths(self) -> Iterator[str]:
        """Every metadata path that has a place on the page for its problems."""
        for name in self.form.fields:
            yield name.replace("__", ".")
        for group in self.groups:
            yield group.spec.path
            for form in group.forms:
                for name in form.fields:
                    yield f"{form.path_prefix}{name}"


def field_label(path: str) -> str:
    """The editor's label of a field path: "creators.1.orcid" -> "Creator 2 · ORCID"."""
    for group in sorted(GROUPS.values(), key=lambda g: -len(g.path)):
        prefix = group.path + "."
        if path.startswith(prefix):
            index, _, name = path[len(prefix) :].partition(".")
            row = f"{group.row_label.capitalize()} {int(index) + 1}" if index.isdigit() else ""
            field = group.form.base_fields.get(name.replace(".", "__"))
            inner = str(field.label) if field is not None and field.label else name
            return " · ".join(part for part in (row, inner) if part)
    field = MetadataForm.base_fields.get(path.replace(".", "__"))
    if field is not None and field.label:
        return str(field.label)
    return path.replace("_", " ").replace(".", " · ").capitalize()
