"""Every error reply recorded from a real DataMeta 1.1.1 becomes a typed error a person
can act on (reference/datameta-exchanges.md; notes-datameta.md §1, §7-§9, §13, §19-§22).

``exchange(n)`` reads exchange n of the recording; the connector tests use it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import pytest

from deposits.repositories.base import (
    AuthError,
    ChecksumMismatch,
    NotFound,
    PermanentError,
    RepositoryError,
    TransientError,
    ValidationFailed,
)
from deposits.repositories.datameta.errors import DataMetaRejected, parse_error, placed
from tests.reference import DATAMETA_EXCHANGES

EXCHANGES = DATAMETA_EXCHANGES


@dataclass
class Recorded:
    number: int
    title: str
    method: str
    path: str
    request_body: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@cache
def exchanges() -> dict[int, Recorded]:
    text = EXCHANGES.read_text()
    found = {}
    for match in re.finditer(r"^### (\d+)\. (.*?)\n(.*?)(?=^### \d+\. |\Z)", text, re.M | re.S):
        number, title, section = int(match[1]), match[2], match[3]
        blocks = re.findall(r"```http\n(.*?)\n```", section, re.S)
        request, response = blocks[0], blocks[1]
        method, path = request.split("\n", 1)[0].split(" ", 1)
        request_body = request.split("\n\n", 1)[1] if "\n\n" in request else ""
        head, _, body = response.partition("\n\n")
        status_line, *header_lines = head.split("\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(": ")
            headers[name.lower()] = value
        body = "" if body.strip() == "(empty)" else body
        found[number] = Recorded(
            number=number,
            title=title,
            method=method,
            path=path,
            request_body="" if request_body.strip() == "(empty)" else request_body,
            status=int(status_line.split()[1]),
            headers=headers,
            body=body.encode(),
        )
    return found


def exchange(number: int) -> Recorded:
    return exchanges()[number]


def test_the_recording_is_read_whole() -> None:
    assert len(exchanges()) == 91
    assert exchange(37).status == 204
    assert exchange(46).body.strip() == b"null"


# What each recorded error must become. Together they cover every shape in the recording:
# error lists, the 401 object, HTML pages, null, [], plain text.
EXPECTED: dict[int, type[RepositoryError]] = {
    2: AuthError,  # 500 ResponseNotFound "Unknown response http status: 401" (§4)
    3: AuthError,  # 401 list InvalidSecurity
    4: AuthError,  # 401 HTML
    5: AuthError,  # 401 JSON object
    6: AuthError,  # 401 HTML (wrong password)
    7: DataMetaRejected,  # 400 list with field
    8: DataMetaRejected,
    19: TransientError,  # 500 waitress plain text
    20: DataMetaRejected,  # 400 slash-joined field (§9)
    22: NotFound,  # 404 DataMeta HTML page
    24: DataMetaRejected,  # regex failure: message = regexDescription
    25: ValidationFailed,  # 500 "None for not nullable" (§13)
    26: DataMetaRejected,
    29: DataMetaRejected,
    32: DataMetaRejected,
    33: DataMetaRejected,  # no field at all
    35: NotFound,  # 404 null
    36: PermanentError,  # 400 null
    39: PermanentError,  # 403 ResourceNotModifiableError
    40: ChecksumMismatch,  # 409 null (after freeze)
    43: NotFound,
    46: ChecksumMismatch,  # 409 null (mismatch)
    50: ChecksumMismatch,
    53: ChecksumMismatch,
    55: ChecksumMismatch,
    57: NotFound,
    58: DataMetaRejected,  # entity + field
    59: DataMetaRejected,
    60: DataMetaRejected,
    61: DataMetaRejected,
    64: DataMetaRejected,
    66: DataMetaRejected,
    69: DataMetaRejected,
    71: PermanentError,
    72: PermanentError,
    75: DataMetaRejected,
    82: NotFound,
    85: PermanentError,  # 403 HTML
    86: PermanentError,  # 403 []
    87: PermanentError,
    88: NotFound,
    89: DataMetaRejected,
    90: PermanentError,
    91: PermanentError,  # 403 null
}


def test_every_recorded_error_is_covered() -> None:
    errors = {n for n, e in exchanges().items() if e.status >= 400}
    assert errors == set(EXPECTED)


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_it_types_each_recorded_error(number: int) -> None:
    recorded = exchange(number)
    error = parse_error(recorded.status, recorded.body, recorded.content_type)
    assert type(error) is EXPECTED[number]
    assert error.message
    # a person reads it: no raw HTML, no bare status code
    assert "<html" not in error.message.lower()
    assert error.message != str(recorded.status)


def test_auth_errors_say_how_to_fix_the_key() -> None:
    error = parse_error(401, exchange(5).body, "application/json")
    assert "30 days" in error.message
    assert "update the linked account" in error.message


def test_it_keeps_the_items_of_an_error_list() -> None:
    error = parse_error(400, exchange(26).body, "application/json")
    assert isinstance(error, DataMetaRejected)
    assert [(i.field, i.message) for i in error.items] == [
        ("SampleID", "Field was not specified but is mandatory"),
        ("Date", "The field could not be parsed as a valid date / time"),
        ("FileR1", "Field value was null, but the field is mandatory"),
        ("Unknown", "The field was not expected."),
    ]


def test_it_drops_the_slash_joined_field_of_the_openapi_layer() -> None:
    error = parse_error(400, exchange(32).body, "application/json")
    assert isinstance(error, DataMetaRejected)
    assert error.items[0].field == ""
    assert "'checksum' is a required property" in error.message


def test_entities_are_read_as_uuids() -> None:
    error = parse_error(400, exchange(69).body, "application/json")
    assert isinstance(error, DataMetaRejected)
    assert error.items[0].entity == "ea90c54e-679d-4b8d-a792-32c28d2def61"


def test_gateway_pages_are_retried() -> None:
    error = parse_error(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
    assert isinstance(error, TransientError)


def test_presubvalidation_errors_land_on_rows_and_cells() -> None:
    """#69: two metadatasets share a submission-unique ZIP code and lack their files."""
    error = parse_error(400, exchange(69).body, "application/json")
    assert isinstance(error, DataMetaRejected)
    rows = [
        {"SampleID": "LU67", "ZIPCode": "777", "FileR1": "a1.txt"},
        {"SampleID": "IY35", "ZIPCode": "777", "FileR1": "a2.txt"},
    ]
    remote = {
        "metadatasets": [
            {"uuid": "6d4ddb81-ef61-4331-9c41-bc3f37041ed0", "site": "DMR-49272859"},
            {"uuid": "ea90c54e-679d-4b8d-a792-32c28d2def61", "site": "DMR-28113297"},
        ]
    }
    failed = placed(error, rows, remote)
    by_field = {p.field: p.message for p in failed.problems}
    assert by_field["options.metadatasets.0.ZIPCode"].startswith("Row 1: '777' appears")
    assert "unique within a submission" in by_field["options.metadatasets.1.ZIPCode"]
    assert "'a2.txt'" in by_field["options.metadatasets.1.FileR1"]
    assert all(p.source == "datameta" for p in failed.problems)


def test_site_unique_violations_name_the_value() -> None:
    error = parse_error(400, exchange(66).body, "application/json")
    assert isinstance(error, DataMetaRejected)
    rows = [{"SampleID": "BN09", "ZIPCode": "150", "FileR1": "wrong.txt"}]
    remote = {"metadatasets": [{"uuid": "917d9c64-0833-4c7f-9c96-cd278113eada", "site": ""}]}
    (problem,) = placed(error, rows, remote).problems
    assert problem.field == "options.metadatasets.0.SampleID"
    assert "'BN09' is already used for SampleID" in problem.message


def test_unreferenced_files_are_named() -> None:
    error = parse_error(400, exchange(59).body, "application/json")
    assert isinstance(error, DataMetaRejected)
    remote = {"files": {"wrong.txt": {"uuid": "afcdf3fe-299e-40ef-9033-76221fcefe73"}}}
    (problem,) = placed(error, [], remote).problems
    assert problem.field == "files"
    assert "'wrong.txt' is not named in any row" in problem.message


def test_a_pattern_failure_quotes_the_regex_description() -> None:
    error = parse_error(400, exchange(24).body, "application/json")
    assert isinstance(error, DataMetaRejected)
    rows = [{"SampleID": "LP23", "ZIPCode": "12a4", "FileR1": "x.fastq.gz"}]
    (problem,) = placed(error, rows, {}, row=0).problems
    assert problem.field == "options.metadatasets.0.ZIPCode"
    assert problem.message == (
        "Row 1: '12a4' is not valid for ZIPCode: ZIP code: exactly three digits"
    )
