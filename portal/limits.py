"""Refuse a request body larger than its route allows, by the length it declares, before
anything reads it: not the CSRF check (which parses a form to find its token), not a
view. Only the upload routes take more than ``DATA_UPLOAD_MAX_MEMORY_SIZE``; a body of
unknown length (chunked) is refused on every other route."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from deposits.sizes import human_size

UPLOAD_ROUTES = ("file-upload", "upload-chunk")
BODY_METHODS = ("POST", "PUT", "PATCH")


def route_limit(path: str) -> int | None:
    """The largest body ``path`` accepts; None for the upload routes (their views refuse
    by the declared length themselves, with the file's own message, and stream what they
    accept) and for a sandbox, which stands in for another service with its own limits."""
    try:
        match = resolve(path)
    except Resolver404:
        return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if getattr(match.func, "__module__", "").startswith("sandbox."):
        return None
    if match.url_name in UPLOAD_ROUTES:
        return None
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in BODY_METHODS:
            refused = self.refusal(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        limit = route_limit(request.path_info)
        if limit is None:
            return None
        declared = request.META.get("CONTENT_LENGTH") or ""
        if not declared.strip():
            if request.META.get("HTTP_TRANSFER_ENCODING"):
                return _refuse(request, 411, "Send the request with its length (Content-Length).")
            return None
        try:
            length = int(declared)
        except ValueError:
            return _refuse(request, 400, "The request's Content-Length is not a number.")
        if length > limit:
            return _refuse(
                request,
                413,
                f"This request is {human_size(length)}, more than the {human_size(limit)} "
                "this page accepts; nothing was read or saved. Files go through Add files "
                "on a deposit's page.",
            )
        return None


def _refuse(request: HttpRequest, status: int, message: str) -> HttpResponse:
    response: HttpResponse
    if "json" in request.headers.get("Accept", "") or request.headers.get("HX-Request"):
        response = JsonResponse({"error": message}, status=status)
    else:
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Request too '
            f"large · Deposit portal</title></head><body><h1>Not accepted</h1><p>{message}</p>"
            '<p><a href="/">Back to your deposits</a></p></body></html>'
        )
        response = HttpResponse(page, status=status, content_type="text/html; charset=utf-8")
    return response
