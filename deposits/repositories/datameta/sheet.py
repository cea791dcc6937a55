"""DataMeta sample sheets: reading a CSV or XLSX sheet into rows keyed by the site's field
names.

The first non-empty row names the columns, matched to the site's metadata fields
(``fields``); each cell becomes the text DataMeta gets, spreadsheet dates written
in the field's ``dateTimeFmt`` so that the server's ``strptime`` takes them
(reference/notes-datameta.md §14, §16). Checking the rows read is ``rules``.

Plain Python: no Django, no HTTP.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from .fields import Definition, definitions, submitter_fields

# A sheet larger than this is refused before it is read: a sample sheet has hundreds of
# rows, not millions, and a preview must render.
MAX_SHEET_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000


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
