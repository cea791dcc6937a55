"""Sample sheets: reading CSV and XLSX, and checking each cell as DataMeta would
(notes-datameta.md §12-§16, §22; the definitions are those of exchange #21)."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

import pytest
from openpyxl import Workbook

from deposits.repositories.datameta.fields import Definition, record, submitter_fields
from deposits.repositories.datameta.rules import check_rows, check_value, left_out_files
from deposits.repositories.datameta.sheet import SheetError, read_sheet
from tests.repositories.test_datameta_errors import exchange

SERVICE = {
    "name": "ENA-ID",
    "isMandatory": False,
    "order": 900,
    "isFile": False,
    "isSubmissionUnique": False,
    "isSiteUnique": False,
    "regexDescription": None,
    "longDescription": "Accession number from ENA",
    "example": "ERR000001",
    "regExp": None,
    "dateTimeFmt": None,
    "serviceId": {"uuid": "5f0c", "site": "DMP-1"},
}


def recorded_schema() -> dict[str, Any]:
    definitions = json.loads(exchange(21).body)
    return {"definitions": [Definition.from_json(d).as_json() for d in [*definitions, SERVICE]]}


SCHEMA = recorded_schema()
FIELDS = {d.name: d for d in submitter_fields(SCHEMA)}
GOOD = {"SampleID": "AB12", "ZIPCode": "149", "Date": "2021-03-29", "Lane": "L1", "FileR1": "a.fq"}


def messages(rows: list[dict[str, Any]], files: list[str] | None = None) -> dict[tuple, str]:
    return {(p.row, p.column): p.message for p in check_rows(rows, SCHEMA, files)}


def test_service_fields_are_not_columns_to_fill() -> None:
    assert list(FIELDS) == ["SampleID", "ZIPCode", "Date", "Lane", "FileR1"]


def test_a_good_row_has_no_problems() -> None:
    assert messages([GOOD], ["a.fq"]) == {}


def test_patterns_use_re_match_on_the_text() -> None:
    """§12: anchored at the start only, ``$`` accepts a trailing newline (#28), and
    numbers are str()-converted (#27)."""
    assert check_value(FIELDS["ZIPCode"], "123\n") == ""
    assert check_value(FIELDS["ZIPCode"], 149) == ""
    assert check_value(FIELDS["ZIPCode"], "12a4") == (
        "'12a4' is not valid for ZIPCode: ZIP code: exactly three digits (example: 149)."
    )


def test_a_pattern_without_description_shows_the_pattern() -> None:
    """#25: the server itself cannot say it (500); we can."""
    assert "must match the pattern ^L[0-9]$" in check_value(FIELDS["Lane"], "X9")


def test_dates_follow_the_definition_format() -> None:
    assert check_value(FIELDS["Date"], "2021-03-29") == ""
    said = check_value(FIELDS["Date"], "29.03.2021")
    assert "format YYYY-MM-DD" in said
    assert "2021-03-29" in said


def test_mandatory_fields_must_have_a_value() -> None:
    problems = messages([{**GOOD, "SampleID": ""}], ["a.fq"])
    assert problems[(0, "SampleID")] == "SampleID is required. Example: AB12"


def test_unknown_columns_and_service_fields_are_flagged() -> None:
    problems = messages([{**GOOD, "Colour": "red", "ENA-ID": "ERR1"}], ["a.fq"])
    assert "not a metadata field" in problems[(0, "Colour")]
    assert "filled in by a DataMeta service" in problems[(0, "ENA-ID")]


def test_unique_values_appear_once_in_the_sheet() -> None:
    rows = [GOOD, {**GOOD, "FileR1": "b.fq"}]
    problems = messages(rows, ["a.fq", "b.fq"])
    assert "appears in rows 1, 2" in problems[(0, "SampleID")]
    assert "the whole DataMeta site" in problems[(1, "SampleID")]
    assert "within one submission" in problems[(1, "ZIPCode")]


def test_file_columns_name_the_deposit_files() -> None:
    problems = messages([{**GOOD, "FileR1": "A.fq"}], ["a.fq", "extra.fq"])
    assert problems[(0, "FileR1")] == "This deposit has no file named 'A.fq'. Did you mean a.fq?"


def test_a_file_no_sample_names_is_left_out_not_a_problem() -> None:
    files = ["README.md", "a.fq", "notes.txt"]
    assert check_rows([GOOD], SCHEMA, files) == []
    assert left_out_files([GOOD], SCHEMA, files) == ["README.md", "notes.txt"]


def test_a_site_without_file_fields_leaves_every_file_out() -> None:
    schema = {"definitions": [d for d in SCHEMA["definitions"] if not d.get("isFile")]}
    assert not any(d.is_file for d in submitter_fields(schema))
    row = {k: v for k, v in GOOD.items() if k != "FileR1"}
    assert check_rows([row], schema, ["README.md"]) == []
    assert left_out_files([row], schema, ["README.md"]) == ["README.md"]


def test_the_record_leaves_empty_cells_out() -> None:
    assert record({**GOOD, "Lane": "", "Date": None}, list(FIELDS.values())) == {
        "SampleID": "AB12",
        "ZIPCode": "149",
        "FileR1": "a.fq",
    }


# --------------------------------------------------------------------------- reading


def test_it_reads_a_semicolon_csv_with_bom_and_loose_headers() -> None:
    content = "\ufeffsample_id;Zip Code;date;FileR1;Notes\nAB12 ; 149;2021-03-29;a.fq;x\n;;;;\n"
    sheet = read_sheet("samples.csv", content.encode(), SCHEMA)
    assert sheet.columns == ["SampleID", "ZIPCode", "Date", "FileR1"]
    assert sheet.rows == [
        {"SampleID": "AB12", "ZIPCode": "149", "Date": "2021-03-29", "FileR1": "a.fq"}
    ]
    assert sheet.lines == [2]
    assert sheet.ignored == ["Notes"]
    assert sheet.missing == []


def test_it_reads_xlsx_dates_in_the_field_format_and_whole_numbers() -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["SampleID", "ZIPCode", "Date", "FileR1"])
    ws.append(["AB12", 149, datetime(2021, 3, 29), "a.fq"])
    ws.append(["CD34", 150.0, datetime(2021, 4, 1), "b.fq"])
    buffer = io.BytesIO()
    book.save(buffer)
    sheet = read_sheet("samples.xlsx", buffer.getvalue(), SCHEMA)
    assert sheet.rows[0] == {
        "SampleID": "AB12",
        "ZIPCode": "149",
        "Date": "2021-03-29",
        "FileR1": "a.fq",
    }
    assert sheet.rows[1]["ZIPCode"] == "150"


def test_a_sheet_without_mandatory_columns_says_which() -> None:
    sheet = read_sheet("s.csv", b"SampleID,FileR1\nAB12,a.fq\n", SCHEMA)
    assert sheet.missing == ["ZIPCode"]


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("s.csv", b"", "empty"),
        ("s.csv", b"Colour,Size\nred,1\n", "No column of the sheet names a field"),
        ("s.csv", b"SampleID,ZIPCode\n", "no samples"),
        ("s.xls", b"\xd0\xcf\x11\xe0", ".xlsx or CSV"),
        ("s.xlsx", b"PK\x03\x04broken", "could not be opened"),
    ],
)
def test_unreadable_sheets_say_what_to_do(name: str, content: bytes, said: str) -> None:
    with pytest.raises(SheetError, match=said):
        read_sheet(name, content, SCHEMA)
