"""The reply shapes of DataMeta 1.1.1, including its quirks (notes-datameta.md §1, §7-§9).

Error *lists* come from two layers that both render compactly (``[{"exception":...}]``,
byte counts as in exchanges #3, #7, #24), while resources and Pyramid's own JSON errors
use ``json.dumps``'s default separators (#5, #11). Many non-2xx replies are not lists at
all: ``null``, ``[]``, ``{}``, or an HTML page, depending on the endpoint.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse

from . import pages

JSON = "application/json"


class ApiError(Exception):
    """Stops a view with a ready reply; the route wrapper returns ``response``."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def json_reply(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data), status=status, content_type=JSON)


def null_reply(status: int) -> HttpResponse:
    """The literal ``null`` body of upload errors, 409s and some 404s/403s (notes §8)."""
    return HttpResponse("null", status=status, content_type=JSON)


def no_content() -> HttpResponse:
    response = HttpResponse(status=204)
    del response["Content-Type"]  # waitress sends none on 204 (#37, #56)
    return response


def error(
    message: str | None,
    *,
    exception: str = "ValidationError",
    field: str | None = None,
    entity: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One item of DataMeta's own error lists: exception, entity?, field?, message (#58)."""
    item: dict[str, Any] = {"exception": exception}
    if entity is not None:
        item["entity"] = entity
    if field is not None:
        item["field"] = field
    item["message"] = message
    return item


def error_list(items: list[dict[str, Any]], status: int = 400) -> HttpResponse:
    if any(item.get("message") is None for item in items):
        # A None message fails the server's response validation (notes §13, #25).
        items = [{"exception": "ValidationError", "message": "None for not nullable"}]
        status = 500
    return HttpResponse(json.dumps(items, separators=(",", ":")), status=status, content_type=JSON)


def validation_failed(items: list[dict[str, Any]]) -> ApiError:
    return ApiError(error_list(items))


def not_modifiable() -> ApiError:
    """403 ResourceNotModifiableError (#39, #71, #72)."""
    item = {"exception": "ResourceNotModifiableError", "message": "The resource cannot be modified"}
    return ApiError(error_list([item], status=403))


def site_root(request: HttpRequest) -> str:
    # waitress builds absolute URLs from the Host header and always says http (notes §18).
    return f"http://{request.get_host()}"


def datameta_not_found(request: HttpRequest) -> HttpResponse:
    """DataMeta's HTML "404 Page Not Found" page (#22, #43, #82)."""
    body = pages.DATAMETA_NOT_FOUND_404.replace("{root}", site_root(request))
    return HttpResponse(body, status=404, content_type="text/html; charset=UTF-8")


def pyramid_not_found() -> HttpResponse:
    """Pyramid's short 404 for a known path with the wrong method (notes §8)."""
    return HttpResponse(
        pages.PYRAMID_NOT_FOUND_404, status=404, content_type="text/html; charset=UTF-8"
    )


def _preferred(request: HttpRequest) -> str:
    """What Pyramid's HTTPException would render: text/html, application/json or text/plain.

    Pyramid offers html then json to the Accept header, highest q wins, html on ties; no
    header or ``*/*`` gives html (#4), ``application/json`` gives json (#5).
    """
    header = request.META.get("HTTP_ACCEPT", "")
    if not header.strip():
        return "text/html"
    scores = {"text/html": 0.0, "application/json": 0.0}
    for offer in scores:
        best_specificity = -1
        for part in header.split(","):
            media, *params = [p.strip() for p in part.split(";")]
            q = 1.0
            for param in params:
                if param.startswith("q="):
                    try:
                        q = float(param[2:])
                    except ValueError:
                        q = 0.0
            kind, _, sub = media.partition("/")
            offer_kind, _, _ = offer.partition("/")
            if media == offer:
                specificity = 2
            elif kind == offer_kind and sub == "*":
                specificity = 1
            elif media == "*/*":
                specificity = 0
            else:
                continue
            if specificity > best_specificity:
                best_specificity, scores[offer] = specificity, q
    best = max(scores, key=lambda offer: (scores[offer], offer == "text/html"))
    return best if scores[best] > 0 else "text/plain"


def _pyramid_error(
    request: HttpRequest, status: int, title: str, html: str, message: str
) -> HttpResponse:
    code = f"{status} {title}"
    match _preferred(request):
        case "text/html":
            return HttpResponse(html, status=status, content_type="text/html; charset=UTF-8")
        case "application/json":
            return json_reply({"message": message, "code": code, "title": title}, status)
        case _:
            return HttpResponse(
                f"{code}\n\n{message}", status=status, content_type="text/plain; charset=UTF-8"
            )


def unauthorized(request: HttpRequest) -> ApiError:
    """Pyramid's default 401: HTML or a JSON *object*, by Accept (notes §1, #4, #5)."""
    return ApiError(
        _pyramid_error(
            request, 401, "Unauthorized", pages.UNAUTHORIZED_401, pages.UNAUTHORIZED_401_MESSAGE
        )
    )


def forbidden(request: HttpRequest) -> ApiError:
    """Pyramid's default 403 page (#85, #87)."""
    return ApiError(
        _pyramid_error(request, 403, "Forbidden", pages.FORBIDDEN_403, pages.FORBIDDEN_403_MESSAGE)
    )


def not_found(request: HttpRequest) -> ApiError:
    return ApiError(datameta_not_found(request))
