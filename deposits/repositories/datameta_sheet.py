"""DataMeta sample sheets: the site's metadata definitions, the rows people fill in, the
checks the server makes on them, and reading CSV and XLSX sheets into rows.

The checks agree with a real DataMeta 1.1.1 (reference/notes-datameta.md, "§" below
means one of its numbered findings) so that what we flag is what the server would refuse:
``re.match`` on the ``str()`` of a value (§12), mandatory fields (§14), ``strptime`` with
the definition's ``dateTimeFmt`` (§14, §16), and uniqueness within one submission (§15).
Site-wide uniqueness needs the server: ``/presubvalidation`` confirms it (§22).

Plain Python: no Django, no HTTP.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

# A sheet larger than this is refused before it is read: a sample sheet has hundreds of
# rows, not millions, and a preview must render.
MAX_SHEET_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000

_STRFTIME_WORDS = {
    "%Y": "YYYY",
    "%y": "YY",
    "%m": "MM",
    "%d": "DD",
    "%H": "hh",
    "%M": "mm",
    "%S": "ss",
    "%f": "ffffff",
    "%b": "Mon",
    "%B": "Month",
    "%z": "+hhmm",
    "%%": "%",
}


# --------------------------------------------------------------------------- definitions


@dataclass(frozen=True)
class Definition:
    """One metadatum of ``GET /metadata`` (API document "Metadata Information", §11).

    Empty strings come back as ``null`` except ``example`` (§11); both mean "none" here.
    """

    name: str
    mandatory: bool = False
    order: int = 0
    is_file: bool = False
    submission_unique: bool = False
    site_unique: bool = False
    regexp: str = ""
    regex_description: str = ""
    long_description: str = ""
    example: str = ""
    datetime_fmt: str = ""
    service: str = ""  # the service's id when a service fills it, not the submitter

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Definition:
        service = data.get("serviceId")
        if isinstance(service, dict):
            service = service.get("site") or service.get("uuid") or ""
        return cls(
            name=str(data.get("name") or ""),
            mandatory=bool(data.get("isMandatory")),
            order=int(data.get("order") or 0),
            is_file=bool(data.get("isFile")),
            submission_unique=bool(data.get("isSubmissionUnique")),
            site_unique=bool(data.get("isSiteUnique")),
            regexp=str(data.get("regExp") or ""),
            regex_description=str(data.get("regexDescription") or ""),
            long_description=str(data.get("longDescription") or ""),
            example=str(data.get("example") or ""),
            datetime_fmt=str(data.get("dateTimeFmt") or ""),
            service=str(service or ""),
        )

    def as_json(self) -> dict[str, Any]:
        """The cached form (LinkedAccount.schema["definitions"]): DataMeta's own names."""
        return {
            "name": self.name,
            "isMandatory": self.mandatory,
            "order": self.order,
            "isFile": self.is_file,
            "isSubmissionUnique": self.submission_unique,
            "isSiteUnique": self.site_unique,
            "regExp": self.regexp,
            "regexDescription": self.regex_description,
            "longDescription": self.long_description,
            "example": self.example,
            "dateTimeFmt": self.datetime_fmt,
            "serviceId": self.service,
        }

    @property
    def format_hint(self) -> str:
        """``%Y-%m-%d`` as people read it: ``YYYY-MM-DD``."""
        hint = self.datetime_fmt
        for code, word in _STRFTIME_WORDS.items():
            hint = hint.replace(code, word)
        return hint

    @property
    def help(self) -> str:
        """What the column wants, in one line, for headers and tooltips."""
        parts = [self.long_description]
        if self.regex_description:
            parts.append(self.regex_description)
        elif self.regexp:
            parts.append(f"Pattern {self.regexp}")
        if self.datetime_fmt:
            parts.append(f"Format {self.format_hint}")
        if self.is_file:
            parts.append("The name of one of this deposit's files")
        if self.site_unique:
            parts.append("Unique across the whole DataMeta site")
        elif self.submission_unique:
            parts.append("Unique within one submission")
        if self.example:
            parts.append(f"Example: {self.example}")
        return ". ".join(p.rstrip(".") for p in parts if p)


def definitions(schema: dict[str, Any] | None) -> list[Definition]:
    """All definitions of a cached schema, in the site's order."""
    items = (schema or {}).get("definitions") or []
    found = [Definition.from_json(d) for d in items if isinstance(d, dict) and d.get("name")]
    return sorted(found, key=lambda d: (d.order, d.name))


def submitter_fields(schema: dict[str, Any] | None) -> list[Definition]:
    """The columns a submitter fills: service fields are the services' to fill (API
    document "Metadata Information": service metadata carry a ``serviceId``)."""
    return [d for d in definitions(schema) if not d.service]


def service_fields(schema: dict[str, Any] | None) -> list[Definition]:
    return [d for d in definitions(schema) if d.service]


# --------------------------------------------------------------------------- rows


def record(row: dict[str, Any], fields: list[Definition]) -> dict[str, str]:
    """The ``record`` sent for one row: defined submitter fields with a value.

    Empty cells are left out rather than sent as "": an empty string would fail a date
    format or a pattern, while an absent optional field is simply null (§16).
    """
    out = {}
    for d in fields:
        value = row.get(d.name)
        if value is not None and str(value) != "":
            out[d.name] = str(value)
    return out


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


# --------------------------------------------------------------------------- sheets


class SheetError(Exception):
    """The sheet cannot be read at all; the message says why and what to do."""


@dataclass
class Sheet:
    """A sample sheet read into rows keyed by the site's field names."""

    rows: list[dict[str, str]]
    lines: list[int]  # the sheet's own row number of each row, for messages
    columns: list[str]  # field names the sheet's columns were matched to, in sheet order
    ignored: list[str]  # headers that match no field (their cells are dropped)
    missing: list[str]  # mandatory submitter fields with no column


def read_sheet(filename: str, content: bytes, schema: dict[str, Any] | None) -> Sheet:
    """Read a CSV or XLSX sample sheet: the first non-empty row names the columns.

    Headers are matched to the site's field names ignoring case, spaces, "-" and "_";
    cells are trimmed; XLSX dates are written in the field's ``dateTimeFmt``.
    """
    if len(content) > MAX_SHEET_BYTES:
        raise SheetError(
            f"The sheet is {len(content) // 1024} KB; sheets up to "
            f"{MAX_SHEET_BYTES // (1024 * 1024)} MB can be imported. Split it."
        )
    lowered = filename.lower()
    if lowered.endswith((".xlsx", ".xlsm")) or content[:4] == b"PK\x03\x04":
        grid = _xlsx_grid(content)
    elif lowered.endswith(".xls"):
        raise SheetError("Old .xls workbooks cannot be read: save the sheet as .xlsx or CSV.")
    else:
        grid = _csv_grid(content)
    return _to_sheet(grid, schema)


def _csv_grid(content: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes nearly anything
        raise SheetError("The CSV file is not UTF-8 text: save it as 'CSV UTF-8'.")
    if "\x00" in text:
        raise SheetError("This does not look like a CSV file: upload a .csv or .xlsx sheet.")
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",;\t")
    except csv.Error:
        dialect = csv.excel
    return [list(r) for r in csv.reader(io.StringIO(text), dialect)]


def _xlsx_grid(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike
        raise SheetError(
            f"The workbook could not be opened ({type(exc).__name__}): save it again as .xlsx."
        ) from None
    try:
        sheet = book.worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _key(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", header).lower()


def _to_sheet(grid: list[list[Any]], schema: dict[str, Any] | None) -> Sheet:
    fields = definitions(schema)
    by_key = {_key(d.name): d for d in fields}
    exact = {d.name: d for d in fields}
    start = next((i for i, r in enumerate(grid) if any(_cell(c, None) for c in r)), None)
    if start is None:
        raise SheetError("The sheet is empty: the first row should name the columns.")
    headers = [_cell(c, None) for c in grid[start]]
    matched: list[Definition | None] = []
    ignored = []
    for header in headers:
        d = exact.get(header) or by_key.get(_key(header))
        matched.append(d)
        if d is None and header:
            ignored.append(header)
    columns = [d.name for d in matched if d is not None]
    if not columns:
        names = ", ".join(d.name for d in submitter_fields(schema)) or "(none fetched yet)"
        raise SheetError(
            f"No column of the sheet names a field of this DataMeta site. The first row "
            f"should hold field names: {names}."
        )
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    for number, raw in enumerate(grid[start + 1 :], start=start + 2):
        row = {}
        for d, value in zip(matched, raw, strict=False):
            if d is not None:
                row[d.name] = _cell(value, d)
        if any(row.values()):
            rows.append(row)
            lines.append(number)
        if len(rows) > MAX_ROWS:
            raise SheetError(f"The sheet has more than {MAX_ROWS} samples: split it.")
    if not rows:
        raise SheetError("The sheet has column names but no samples below them.")
    missing = [d.name for d in submitter_fields(schema) if d.mandatory and d.name not in columns]
    return Sheet(rows=rows, lines=lines, columns=columns, ignored=ignored, missing=missing)


def _cell(value: Any, d: Definition | None) -> str:
    """One cell as the text DataMeta gets: trimmed, whole numbers without ".0", and
    spreadsheet dates written the way the field's ``dateTimeFmt`` wants them."""
    if value is None:
        return ""
    if isinstance(value, datetime | date | time):
        fmt = d.datetime_fmt if d is not None and d.datetime_fmt else ""
        if fmt:
            return value.strftime(fmt)
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
