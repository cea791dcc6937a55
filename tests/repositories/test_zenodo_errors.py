"""Every shape of Zenodo error reply becomes a typed error a person can act on."""

from __future__ import annotations

import json

import pytest

from deposits.repositories.base import (
    AuthError,
    NotFound,
    PermanentError,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from deposits.repositories.zenodo.crosswalk import neutral_field
from deposits.repositories.zenodo.replies import parse_error

JSON = "application/json"


def parse(status, body, content_type=JSON):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_error(status, raw, content_type)


def test_the_current_rdm_shape_with_messages_lists():
    error = parse(
        400,
        {
            "status": 400,
            "message": "A validation error occurred.",
            "errors": [
                {"field": "metadata.license", "messages": ["Invalid license provided: cc-by"]},
                {
                    "field": "metadata.creators.0.name",
                    "messages": ["Name is required.", "Too short."],
                },
            ],
        },
    )
    assert isinstance(error, ValidationFailed) and error.permanent
    assert [(p.field, p.message, p.source) for p in error.problems] == [
        ("license", "Invalid license provided: cc-by", "zenodo"),
        ("creators.0.name", "Name is required.", "zenodo"),
        ("creators.0.name", "Too short.", "zenodo"),
    ]
    assert (
        str(error)
        == "Zenodo rejected the deposit in license: Invalid license provided: cc-by (and 2 more)"
    )


def test_the_documented_legacy_shape():
    error = parse(
        400,
        {
            "message": "Validation error",
            "status": 400,
            "errors": [
                {"field": "metadata.access_right", "message": "Not a valid choice"},
                {"field": "metadata.upload_type", "message": "Required"},
                {"field": "non_existent", "message": "Unknown field name."},
            ],
        },
    )
    assert [p.field for p in error.problems] == ["access_right", "resource_type", "non_existent"]


def test_files_enabled_maps_to_files():
    error = parse(
        400,
        {
            "status": 400,
            "message": "A validation error occurred.",
            "errors": [
                {
                    "field": "files.enabled",
                    "messages": [
                        "Missing uploaded files. To disable files for this record please mark it as metadata-only."
                    ],
                }
            ],
        },
    )
    assert error.problems[0].field == "files"


def test_errors_as_a_string_and_message_only():
    busy = parse(409, {"status": 409, "errors": "Upload not yet fully integrated"})
    assert isinstance(busy, TransientError) and not busy.permanent
    only = parse(400, {"status": 400, "message": "Unable to decode JSON data in request body."})
    assert isinstance(only, ValidationFailed)
    assert only.problems[0].message == "Unable to decode JSON data in request body."
    assert only.problems[0].field == ""


def test_a_500_with_error_id_is_transient():
    error = parse(500, {"status": 500, "message": "Internal server error.", "error_id": "abc123"})
    assert isinstance(error, TransientError)
    assert "abc123" in str(error)


@pytest.mark.parametrize(
    ("status", "what"),
    [(502, "bad gateway page"), (503, "unavailable page"), (504, "timeout page")],
)
def test_html_gateway_pages_are_transient(status, what):
    page = b"<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center><hr><center>nginx</center></body></html>"
    error = parse(status, page, "text/html")
    assert isinstance(error, TransientError)
    assert str(error) == f"Zenodo's gateway answered {status} ({what}); retrying."


@pytest.mark.parametrize("body", [b"", b"\xff\xfe garbage", b"not json at all", b"[1, 2]", b"null"])
def test_empty_or_garbage_bodies(body):
    assert isinstance(parse(502, body, ""), TransientError)
    error = parse(400, body, "")
    assert isinstance(error, ValidationFailed) and error.problems


def test_auth_errors_say_what_to_do():
    for status in (401, 403):
        error = parse(status, {"status": status, "message": "Permission denied."})
        assert isinstance(error, AuthError)
        assert "relink the account" in str(error)
        assert "deposit:write" in str(error)


def test_a_locked_bucket_is_not_an_auth_problem():
    error = parse(403, {"status": 403, "message": "Bucket is locked for modifications."})
    assert type(error) is PermanentError


def test_not_found_and_gone():
    assert isinstance(
        parse(404, {"status": 404, "message": "The persistent identifier does not exist."}),
        NotFound,
    )
    assert isinstance(
        parse(410, {"status": 410, "message": "The record has been deleted."}), NotFound
    )


def test_rate_limited_and_sizes():
    assert isinstance(parse(429, b"100 per 1 minute", "text/plain"), RateLimited)
    too_big = parse(413, {"message": "The data value transmitted exceeds the capacity limit."})
    assert type(too_big) is PermanentError and "50 GB" in str(too_big)
    assert type(parse(415, {"message": "Invalid 'Content-Type' header."})) is PermanentError


@pytest.mark.parametrize(
    ("zenodo", "neutral"),
    [
        ("metadata.creators.0.name", "creators.0.name"),
        ("metadata.creators.1.orcid", "creators.1.orcid"),
        ("metadata.creators.0.person_or_org.family_name", "creators.0.name"),
        ("metadata.creators.0.affiliations.0.name", "creators.0.affiliation"),
        ("metadata.license", "license"),
        ("metadata.rights.0.id", "license"),
        ("metadata.upload_type", "resource_type"),
        ("metadata.resource_type.id", "resource_type"),
        ("metadata.publication_type", "publication_type"),
        ("metadata.journal_title", "journal.title"),
        ("metadata.conference_session_part", "conference.session_part"),
        ("metadata.imprint_isbn", "imprint.isbn"),
        ("metadata.partof_pages", "part_of.pages"),
        ("metadata.thesis_supervisors.0.name", "thesis.supervisors.0.name"),
        ("metadata.grants.0.id", "funding.0"),
        ("metadata.grants", "funding"),
        ("metadata.communities", "options.communities"),
        ("files.enabled", "files"),
        ("files", "files"),
        ("metadata.language", "language"),
        ("metadata.dates.0.type", "dates.0.type"),
        ("metadata.related_identifiers.2.relation", "related_identifiers.2.relation"),
        ("metadata.embargo_date", "embargo_date"),
        ("metadata.title", "title"),
        ("", ""),
    ],
)
def test_neutral_field(zenodo, neutral):
    assert neutral_field(zenodo) == neutral
