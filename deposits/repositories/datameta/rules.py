"""The checks a DataMeta server makes on the sample rows, cell by cell.

The checks agree with a real DataMeta 1.1.1 (reference/notes-datameta.md, "§" below
means one of its numbered findings) so that what we flag is what the server would refuse:
``re.match`` on the ``str()`` of a value (§12), mandatory fields (§14), ``strptime`` with
the definition's ``dateTimeFmt`` (§14, §16), and uniqueness within one submission (§15).
Site-wide uniqueness needs the server: ``/presubvalidation`` confirms it (§22). File
columns must name the deposit's files; a file no row names is left out of the submission
(``left_out_files``): DataMeta refuses files that no metadataset references (§22).

Plain Python: no Django, no HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .fields import Definition, definitions, submitter_fields


@dataclass(frozen=True)
class CellProblem:
    """A problem in one cell (``column`` set), one row (``column`` ""), or the sheet
    (``row`` None)."""

    row: int | None  # 0-based row index
    column: str
    message: str


def check_rows(
    rows: list[dict[str, Any]], schema: dict[str, Any] | None, file_names: list[str] | None
) -> list[CellProblem]:
    """Every problem of the rows that DataMeta would refuse, cell by cell.

    ``file_names`` are the deposit's files; None skips the file checks (a preview of a
    sheet on its own). Messages say what is wrong and what would be right.
    """
    fields = submitter_fields(schema)
    known = {d.name for d in definitions(schema)}
    problems: list[CellProblem] = []
    for index, row in enumerate(rows):
        for column in row:
            if column not in known and str(row[column] or "") != "":
                problems.append(
                    CellProblem(
                        index,
                        column,
                        f"'{column}' is not a metadata field of this DataMeta site; "
                        "remove the value or rename the column.",
                    )
                )
            elif column in known and column not in {d.name for d in fields} and row[column]:
                problems.append(
                    CellProblem(
                        index,
                        column,
                        f"{column} is filled in by a DataMeta service; leave it empty.",
                    )
                )
        for d in fields:
            message = check_value(d, row.get(d.name))
            if message:
                problems.append(CellProblem(index, d.name, message))
    problems += _duplicates(rows, fields)
    if file_names is not None:
        problems += _file_references(rows, fields, file_names)
    return problems


def check_value(d: Definition, value: Any) -> str:
    """The server's check of one value (§12-§14), or "" when it passes."""
    text = "" if value is None else str(value)
    if text == "":
        if not d.mandatory:
            return ""
        return f"{d.name} is required." + (f" Example: {d.example}" if d.example else "")
    if d.regexp:
        try:
            matched = re.match(d.regexp, text) is not None
        except re.error:
            return ""  # a pattern Python cannot compile: the server must judge
        if not matched:
            said = d.regex_description or f"must match the pattern {d.regexp}"
            example = f" (example: {d.example})" if d.example else ""
            return f"'{text}' is not valid for {d.name}: {said}{example}."
    if d.datetime_fmt:
        try:
            datetime.strptime(text, d.datetime_fmt)
        except ValueError:
            example = d.example or datetime(2021, 3, 29).strftime(d.datetime_fmt)
            return (
                f"'{text}' is not a date in the format {d.format_hint} that {d.name} needs "
                f"(for example {example})."
            )
    return ""


def _duplicates(rows: list[dict[str, Any]], fields: list[Definition]) -> list[CellProblem]:
    """Values that must be unique within one submission (§15, §22) appear once.

    Site-unique values must also differ within the sheet: both rows would be submitted
    together and at most one could hold the value site-wide.
    """
    problems = []
    for d in fields:
        if not (d.submission_unique or d.site_unique):
            continue
        seen: dict[str, list[int]] = {}
        for index, row in enumerate(rows):
            value = "" if row.get(d.name) is None else str(row.get(d.name))
            if value:
                seen.setdefault(value, []).append(index)
        for value, where in seen.items():
            if len(where) < 2:
                continue
            others = ", ".join(str(i + 1) for i in where)
            scope = "the whole DataMeta site" if d.site_unique else "one submission"
            for index in where:
                problems.append(
                    CellProblem(
                        index,
                        d.name,
                        f"'{value}' appears in rows {others}, but {d.name} must be unique "
                        f"within {scope}.",
                    )
                )
    return problems


def _file_references(
    rows: list[dict[str, Any]], fields: list[Definition], file_names: list[str]
) -> list[CellProblem]:
    """File columns name the deposit's files exactly (DataMeta matches files to metadata
    by file name == value of the isFile field, §22)."""
    problems = []
    available = set(file_names)
    for index, row in enumerate(rows):
        for d in fields:
            name = "" if row.get(d.name) is None else str(row.get(d.name))
            if not d.is_file or not name or name in available:
                continue
            close = [n for n in file_names if n.lower() == name.lower()]
            hint = f" Did you mean {close[0]}?" if close else " Upload it or fix the name."
            problems.append(
                CellProblem(index, d.name, f"This deposit has no file named '{name}'.{hint}")
            )
    return problems


def left_out_files(
    rows: list[dict[str, Any]], schema: dict[str, Any] | None, file_names: list[str]
) -> list[str]:
    """The deposit's files that no row names in a file column, in the deposit's order.

    They are not sent: DataMeta refuses a submission with a file that no metadataset
    references (§22), and a README beside the samples is no reason to send nothing.
    """
    file_fields = [d for d in submitter_fields(schema) if d.is_file]
    named = {str(r[d.name]) for r in rows for d in file_fields if r.get(d.name)}
    return [name for name in file_names if name not in named]


def site_unique_values(
    rows: list[dict[str, Any]], schema: dict[str, Any] | None
) -> dict[str, list[str]]:
    """The rows' values of each site-unique field (what one submission makes taken)."""
    return {
        d.name: sorted({str(r[d.name]) for r in rows if r.get(d.name) not in (None, "")})
        for d in submitter_fields(schema)
        if d.site_unique
    }


def already_submitted(
    rows: list[dict[str, Any]], schema: dict[str, Any] | None, submitted: dict[str, Any]
) -> dict[str, list[str]]:
    """The rows' site-unique values that an earlier submission of this target holds,
    by field; DataMeta would refuse them (§15, §22), but only at pre-validation, once
    everything is staged. ``submitted`` is what ``site_unique_values`` recorded."""
    clashes: dict[str, list[str]] = {}
    for field, values in site_unique_values(rows, schema).items():
        held = {str(v) for v in submitted.get(field) or []}
        taken = [v for v in values if v in held]
        if taken:
            clashes[field] = taken
    return clashes


def new_ids_needed(clashes: dict[str, list[str]]) -> str:
    """What must change before a new submission, for the values ``already_submitted``
    found ("" when nothing)."""
    return " ".join(
        f"DataMeta accepts each {field} only once on the whole site, and this deposit "
        f"has submitted {', '.join(values)} already: give these samples new {field} "
        "values (or replace their rows with the new samples) before a new submission."
        for field, values in clashes.items()
    )
