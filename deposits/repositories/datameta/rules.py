"""The checks a DataMeta server makes on the sample rows, cell by cell.

The checks agree with a real DataMeta 1.1.1 (reference/notes-datameta.md, "§" below
means one of its numbered findings) so that what we flag is what the server would refuse:
``re.match`` on the ``str()`` of a value (§12), mandatory fields (§14), ``strptime`` with
the definition's ``dateTimeFmt`` (§14, §16), and uniqueness within one submission (§15).
Site-wide uniqueness needs the server: ``/presubvalidation`` confirms it (§22). File
columns must name the deposit's files, and every file must be named by a row (§22).

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
    """File columns name the deposit's files exactly; every file is named by a row.

    DataMeta matches files to metadata by file name == value of the isFile field, and
    refuses a submission with a file that no metadataset names (§22).
    """
    problems = []
    available = set(file_names)
    referenced = set()
    file_fields = [d for d in fields if d.is_file]
    for index, row in enumerate(rows):
        for d in file_fields:
            name = "" if row.get(d.name) is None else str(row.get(d.name))
            if not name:
                continue
            referenced.add(name)
            if name not in available:
                close = [n for n in file_names if n.lower() == name.lower()]
                hint = f" Did you mean {close[0]}?" if close else " Upload it or fix the name."
                problems.append(
                    CellProblem(index, d.name, f"This deposit has no file named '{name}'.{hint}")
                )
    if file_fields:
        for name in file_names:
            if name not in referenced:
                problems.append(
                    CellProblem(
                        None,
                        "files",
                        f"The file '{name}' is not named in any {' or '.join(d.name for d in file_fields)} "
                        "cell: DataMeta refuses files that no sample references. Reference it "
                        "in a row or remove it from the deposit.",
                    )
                )
    elif file_names:
        problems.append(
            CellProblem(
                None,
                "files",
                "This DataMeta site has no file fields, so the deposit's files cannot be "
                "submitted: remove them from the deposit.",
            )
        )
    return problems
