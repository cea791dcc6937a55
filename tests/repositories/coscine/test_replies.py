"""Coscine's replies as the HTTP layer hands them over: the envelope, pages (including a
server that repeats a page), and every error shape, each message ending with Coscine's
trace id; the trace id also lands in the API call log (reference/notes-coscine-cristin.md
A.1, reference/coscine-openapi.yaml ``*Response``, ``Pagination``, ``ProblemDetails``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from deposits.repositories.base import (
    AuthError,
    NotFound,
    PermanentError,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from deposits.repositories.coscine import replies
from deposits.repositories.coscine.connector import CoscineConnector
from deposits.repositories.http import CallRecord, HttpClient
from deposits.repositories.limiter import Limiter

SITE = "https://coscine.example.org/coscine"
API = f"{SITE}/api/v2"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.coscine-SECRET-token.sig"
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
GATEWAY_HTML = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1>nginx</body></html>"


def make_client(
    records: list[CallRecord], limiter: Limiter | None = None, key: str = "c"
) -> HttpClient:
    connector = CoscineConnector()
    return HttpClient(
        base_url=SITE,
        token=TOKEN,
        label=connector.label,
        parse_error=connector.parse_error,
        auth_header=connector.auth_header,
        limiter=limiter,
        limiter_key=key,
        windows=list(connector.default_rate_windows),
        record=records.append,
        allowed_hosts=["coscine.example.org"],
        trace_of=connector.trace_id,
    )


@pytest.fixture
def coscine(records: list[CallRecord]) -> HttpClient:
    return make_client(records)


def env(data: Any, *, trace: str = TRACE, page: int | None = None, pages: int = 1) -> dict:
    """Coscine's success envelope; with ``page``, a page of ``pages``."""
    body: dict[str, Any] = {"data": data, "isSuccess": True, "statusCode": 200, "traceId": trace}
    if page is not None:
        body["pagination"] = {
            "currentPage": page,
            "totalPages": pages,
            "pageSize": 50,
            "totalCount": 0,
            "hasPrevious": page > 1,
            "hasNext": page < pages,
        }
    return body


def paged(rsps: responses.RequestsMock, url: str, chunks: list[list[Any]], **match: str) -> None:
    """``chunks`` served as pages 1..n of ``url`` (each asked with PageSize=50)."""
    for number, chunk in enumerate(chunks, start=1):
        query = {**match, "PageNumber": str(number), "PageSize": "50"}
        rsps.get(
            url,
            json=env(chunk, page=number, pages=len(chunks), trace=f"trace-page-{number}"),
            match=[responses.matchers.query_param_matcher(query)],
        )


def problem(status: int, **extra: Any) -> dict[str, Any]:
    """An ASP.NET Core ProblemDetails body."""
    return {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": extra.pop("title", "One or more validation errors occurred."),
        "status": status,
        "traceId": TRACE,
        **extra,
    }


def raised(status: int, body: Any = b"", content_type: str = "application/json") -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return replies.parse_error(status, raw, content_type)


# --------------------------------------------------------------------------- the envelope


@responses.activate
def test_data_is_unwrapped_from_the_envelope(coscine: HttpClient) -> None:
    responses.get(f"{API}/self", json=env({"id": "u1", "displayName": "Ada"}))
    assert replies.data_of(coscine, "/api/v2/self") == {"id": "u1", "displayName": "Ada"}


@responses.activate
def test_an_html_page_instead_of_the_envelope_is_retried(coscine: HttpClient) -> None:
    responses.get(f"{API}/self", body=b"<html><body>Maintenance</body></html>", status=200)
    with pytest.raises(TransientError, match="web page instead of its API's reply"):
        replies.data_of(coscine, "/api/v2/self")


@responses.activate
def test_a_garbled_reply_is_retried(coscine: HttpClient) -> None:
    responses.get(
        f"{API}/self", body=b'{"data": {"id": "u1", "disp', content_type="application/json"
    )
    with pytest.raises(TransientError, match="not JSON"):
        replies.data_of(coscine, "/api/v2/self")


@responses.activate
def test_json_that_is_not_the_envelope_is_reported(coscine: HttpClient) -> None:
    responses.get(f"{API}/self", json={"id": "u1", "traceId": "t-9"})
    with pytest.raises(PermanentError, match="not in the shape its API documents") as caught:
        replies.data_of(coscine, "/api/v2/self")
    assert caught.value.message.endswith("Coscine trace id: t-9")


@responses.activate
def test_an_envelope_saying_it_failed_is_an_error_despite_its_200(coscine: HttpClient) -> None:
    body = {"data": None, "isSuccess": False, "statusCode": 404, "traceId": "t-404"}
    responses.get(f"{API}/projects/p1", json=body)
    with pytest.raises(NotFound) as caught:
        replies.data_of(coscine, "/api/v2/projects/p1")
    assert caught.value.message.endswith("Coscine trace id: t-404")


# --------------------------------------------------------------------------- pages


@responses.activate
def test_every_page_is_read_in_order(coscine: HttpClient, records: list[CallRecord]) -> None:
    chunks = [[{"id": f"p{n}"} for n in range(k * 50, k * 50 + 50)] for k in range(2)]
    chunks.append([{"id": "p100"}])
    paged(responses.mock, f"{API}/projects", chunks, TopLevel="true")
    found = list(replies.pages(coscine, "/api/v2/projects", {"TopLevel": "true"}))
    assert [p["id"] for p in found] == [f"p{n}" for n in range(101)]
    assert len(records) == 3
    assert [r.trace_id for r in records] == ["trace-page-1", "trace-page-2", "trace-page-3"]


@responses.activate
def test_a_server_that_repeats_a_page_is_stopped(coscine: HttpClient) -> None:
    same = [{"id": "p1"}, {"id": "p2"}]
    # the SDK's bug server-side: whatever is asked, page 1 comes back, saying more follow
    for _ in range(5):
        responses.get(f"{API}/projects", json=env(same, page=1, pages=3))
    with pytest.raises(PermanentError, match="when asked for page 2 of projects") as caught:
        list(replies.pages(coscine, "/api/v2/projects"))
    assert len(responses.calls) == 2
    assert "cannot be read completely" in caught.value.message
    assert caught.value.message.endswith(f"Coscine trace id: {TRACE}")


@responses.activate
def test_the_same_items_again_under_the_next_page_number_are_stopped(coscine: HttpClient) -> None:
    same = [{"id": "p1"}]
    for number in (1, 2):
        body = env(same, page=number, pages=9)
        responses.get(
            f"{API}/licenses",
            json=body,
            match=[
                responses.matchers.query_param_matcher(
                    {"PageNumber": str(number), "PageSize": "50"}
                )
            ],
        )
    with pytest.raises(PermanentError, match="the same page again"):
        list(replies.pages(coscine, "/api/v2/licenses"))


@responses.activate
def test_an_empty_page_that_says_more_follow_is_stopped(coscine: HttpClient) -> None:
    responses.get(f"{API}/licenses", json=env([], page=1, pages=4))
    with pytest.raises(PermanentError, match="an empty page that says more follow"):
        list(replies.pages(coscine, "/api/v2/licenses"))


@responses.activate
def test_a_list_without_pagination_is_one_page(coscine: HttpClient) -> None:
    responses.get(f"{API}/projects/p1/resource-types", json=env([{"id": "t1"}]))
    found = list(replies.pages(coscine, "/api/v2/projects/p1/resource-types"))
    assert found == [{"id": "t1"}]
    assert len(responses.calls) == 1


# --------------------------------------------------------------------------- error shapes


def test_validation_errors_land_on_the_new_resource_fields() -> None:
    body = problem(
        400,
        errors={
            "Name": ["The field Name must be a string with a maximum length of 200."],
            "DisplayName": ["The field DisplayName must be a string with a maximum length of 25."],
            "$.disciplines[0].id": ["The JSON value could not be converted to System.Guid."],
        },
    )
    error = raised(400, body, "application/problem+json; charset=utf-8")
    assert isinstance(error, ValidationFailed)
    fields = [p.field for p in error.problems]
    assert fields == [
        "options.new_resource.name",
        "options.new_resource.display_name",
        "options.new_resource.disciplines",
    ]
    assert error.problems[1].message == (
        "The field DisplayName must be a string with a maximum length of 25."
    )
    assert "disciplines[0].id: The JSON value" in error.problems[2].message
    assert all(p.source == "coscine" and p.repository == "coscine" for p in error.problems)
    assert error.message.startswith("Coscine refused the request: The field Name must")
    assert "(and 2 more)" in error.message
    assert error.message.endswith(f"Coscine trace id: {TRACE}")
    assert error.status == 400


def test_a_metadata_violation_on_a_graph_put_names_its_field() -> None:
    detail = (
        "Invalid metadata: sh:resultPath <http://purl.org/dc/terms/title>: "
        "Less than 1 values on the focus node"
    )
    error = raised(400, problem(400, title="Bad Request", detail=detail))
    assert isinstance(error, ValidationFailed)
    assert [p.field for p in error.problems] == [
        "options.file_metadata.*.http://purl.org/dc/terms/title"
    ]
    assert "Less than 1 values" in error.problems[0].message


def test_an_errors_map_keyed_by_property_uri_names_those_fields() -> None:
    body = problem(400, errors={"http://purl.org/dc/terms/created": ["Not a valid xsd:date."]})
    error = raised(400, body)
    assert [p.field for p in error.problems] == [
        "options.file_metadata.*.http://purl.org/dc/terms/created"
    ]


def test_a_problem_without_an_errors_map_is_one_problem_on_the_deposit() -> None:
    error = raised(400, problem(400, title="Bad Request", detail="Invalid or malformed RDF."))
    assert isinstance(error, ValidationFailed)
    assert [(p.field, p.message) for p in error.problems] == [
        ("", "Bad Request: Invalid or malformed RDF.")
    ]


def test_the_failed_envelope_without_words_is_a_portal_bug_with_its_trace() -> None:
    body = {"data": None, "isSuccess": False, "statusCode": 400, "traceId": "t-1"}
    error = raised(400, body)
    assert type(error) is PermanentError
    assert "malformed (400, no details)" in error.message
    assert error.message.endswith("Coscine trace id: t-1")


def test_an_empty_body_is_read_by_its_status_alone() -> None:
    error = raised(400, b"", "")
    assert type(error) is PermanentError and "no details" in error.message
    assert "trace id" not in error.message
    assert isinstance(raised(404, b"", ""), NotFound)
    assert isinstance(raised(502, b"", ""), TransientError)


def test_401_asks_for_a_new_token() -> None:
    error = raised(401, b"", "")
    assert isinstance(error, AuthError)
    assert "Create a new token in your Coscine profile" in error.message


def test_a_403_that_refuses_the_token_is_an_auth_error() -> None:
    error = raised(403, problem(403, title="Forbidden", detail="The API token has expired."))
    assert isinstance(error, AuthError)
    assert error.message.endswith(f"Coscine trace id: {TRACE}")


def test_a_403_about_project_rights_is_not_a_token_failure() -> None:
    error = raised(403, b"", "")
    assert type(error) is PermanentError
    assert "not a member of this project" in error.message
    rights = problem(403, title="Forbidden", detail="User is not authorized for this project.")
    assert type(raised(403, rights)) is PermanentError


def test_404_and_410_are_not_found_with_their_status() -> None:
    gone = raised(410, problem(410, title="Gone"))
    assert isinstance(gone, NotFound) and gone.status == 410
    assert "no longer exists (410)" in gone.message
    assert raised(404, problem(404, title="Not Found")).status == 404


def test_a_server_error_page_is_retried_and_not_quoted() -> None:
    error = raised(502, GATEWAY_HTML, "text/html")
    assert isinstance(error, TransientError)
    assert "It sent an error page." in error.message and "nginx" not in error.message
    unavailable = raised(503, problem(503, title="Service Unavailable"))
    assert isinstance(unavailable, TransientError) and "unavailable (503" in unavailable.message
    assert unavailable.message.endswith(f"Coscine trace id: {TRACE}")


def test_an_html_403_from_a_proxy_is_a_refusal_without_details() -> None:
    error = raised(403, b"<html><body>Forbidden by WAF</body></html>", "text/html")
    assert type(error) is PermanentError and "WAF" not in error.message


@responses.activate
def test_429_honours_retry_after(coscine: HttpClient) -> None:
    responses.get(
        f"{API}/licenses",
        status=429,
        json=problem(429, title="Too Many Requests"),
        headers={"Retry-After": "30"},
    )
    with pytest.raises(RateLimited) as caught:
        replies.data_of(coscine, "/api/v2/licenses")
    assert caught.value.retry_after == 30
    assert "slow down (429" in caught.value.message
    assert caught.value.message.endswith(f"Coscine trace id: {TRACE}")


@responses.activate
def test_429_without_retry_after_backs_off_on_its_own(
    records: list[CallRecord], limiter: Limiter, limiter_key: str
) -> None:
    client = make_client(records, limiter, limiter_key)
    responses.get(f"{API}/licenses", status=429, body=b"")
    with pytest.raises(RateLimited) as caught:
        replies.data_of(client, "/api/v2/licenses")
    assert caught.value.retry_after is not None and caught.value.retry_after > 0
    assert "no Retry-After" in caught.value.message
    assert not caught.value.permanent


# --------------------------------------------------------------------------- trace ids


def test_the_trace_id_is_read_from_the_body_then_the_headers() -> None:
    assert replies.trace_id({}, json.dumps(env([])).encode()) == TRACE
    assert replies.trace_id({"traceparent": "00-abc-def-01"}, b"") == "00-abc-def-01"
    assert replies.trace_id({"Request-Id": "|req.1"}, b"<html></html>") == "|req.1"
    assert replies.trace_id({}, b"\x89PNG binary") == ""
    assert replies.trace_id({"TraceParent": "00-x-y-01"}, b'{"data": 1}') == "00-x-y-01"


@responses.activate
def test_the_call_log_keeps_the_trace_id_and_the_message_ends_with_it(
    coscine: HttpClient, records: list[CallRecord]
) -> None:
    responses.get(f"{API}/self", json=env({"id": "u1"}, trace="t-ok"))
    body = problem(400, errors={"Name": ["Name is required."]}, traceId="t-bad")
    responses.post(f"{API}/projects/p1/resources", status=400, json=body)
    replies.data_of(coscine, "/api/v2/self")
    with pytest.raises(ValidationFailed) as caught:
        coscine.request("POST", "/api/v2/projects/p1/resources", json={})
    assert [r.trace_id for r in records] == ["t-ok", "t-bad"]
    assert caught.value.message.endswith("Coscine trace id: t-bad")
    assert all(TOKEN not in r.error and TOKEN not in r.url for r in records)
