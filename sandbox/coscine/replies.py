"""Coscine's reply shapes: the success envelope, pagination, ProblemDetails and the
empty-bodied 403/404 most operations answer (notes-coscine-cristin.md A.1).

The backend is ASP.NET Core: validation errors are ``application/problem+json`` with an
``errors`` map keyed by field and a ``traceId``; success replies carry a fresh traceId.
"""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse

MAX_PAGE_SIZE = 50
DEFAULT_PAGE_SIZE = 10
PROBLEM_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    410: "https://tools.ietf.org/html/rfc9110#section-15.5.11",
    413: "https://tools.ietf.org/html/rfc9110#section-15.5.14",
    415: "https://tools.ietf.org/html/rfc9110#section-15.5.16",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
}


class ApiError(Exception):
    """Stops a view with a ready reply."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def new_trace_id() -> str:
    """A W3C trace id, as ASP.NET's ``Activity.Current.Id``."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"


def _json(body: Any, status: int, content_type: str = "application/json") -> HttpResponse:
    return HttpResponse(
        json.dumps(body), status=status, content_type=f"{content_type}; charset=utf-8"
    )


def ok(data: Any, status: int = 200, pagination: dict[str, Any] | None = None) -> HttpResponse:
    body: dict[str, Any] = {
        "data": data,
        "isSuccess": True,
        "statusCode": status,
        "traceId": new_trace_id(),
    }
    if pagination is not None:
        body["pagination"] = pagination
    return _json(body, status)


def page_params(request: HttpRequest) -> tuple[int, int]:
    """``PageNumber`` and ``PageSize`` (1..50, default 10), else a 400 naming the field."""
    number = _int_param(request, "PageNumber", 1)
    size = _int_param(request, "PageSize", DEFAULT_PAGE_SIZE)
    if number < 1:
        raise ApiError(problem(400, errors={"PageNumber": ["PageNumber must be at least 1."]}))
    if not 1 <= size <= MAX_PAGE_SIZE:
        message = f"PageSize must be between 1 and {MAX_PAGE_SIZE}."
        raise ApiError(problem(400, errors={"PageSize": [message]}))
    return number, size


def _int_param(request: HttpRequest, name: str, default: int) -> int:
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(
            problem(400, errors={name: [f"The value '{raw}' is not valid for {name}."]})
        ) from None


def paged(request: HttpRequest, items: list[Any]) -> HttpResponse:
    number, size = page_params(request)
    total = len(items)
    pages = max(1, math.ceil(total / size))
    pagination = {
        "currentPage": number,
        "totalPages": pages,
        "pageSize": size,
        "totalCount": total,
        "hasPrevious": number > 1,
        "hasNext": number < pages,
    }
    return ok(items[(number - 1) * size : number * size], pagination=pagination)


def problem(
    status: int,
    title: str = "One or more validation errors occurred.",
    *,
    detail: str | None = None,
    errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {"type": PROBLEM_TYPES.get(status, PROBLEM_TYPES[400]), "title": title}
    body["status"] = status
    if detail is not None:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    body["traceId"] = new_trace_id()
    return _json(body, status, "application/problem+json")


def empty(status: int) -> HttpResponse:
    """An empty body: what most of Coscine's 403/404 replies are."""
    response = HttpResponse(b"", status=status)
    del response["Content-Type"]
    return response


def no_content() -> HttpResponse:
    return empty(204)
