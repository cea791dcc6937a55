"""The release sources' endpoint: forges POST their webhook deliveries here (no login;
each delivery is checked against its source's secret by ``releases.inbound``)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt

from deposits.releases import inbound


@csrf_exempt
def release_hook(request: HttpRequest, key: str) -> JsonResponse:
    status, reply = inbound.receive(
        key, request.headers, _capped_body(request), method=request.method or ""
    )
    response = JsonResponse(reply, status=status)
    if status == 405:
        response["Allow"] = "POST"
    return response


def _capped_body(request: HttpRequest) -> bytes:
    """At most RELEASE_WEBHOOK_MAX_BYTES + 1 bytes of the body (one more tells "too
    large"), and nothing when the declared length is already too large: an oversized
    request is never read into memory."""
    if request.method != "POST":
        return b""
    limit = settings.RELEASE_WEBHOOK_MAX_BYTES
    declared = request.META.get("CONTENT_LENGTH", "")
    if str(declared).strip().isdigit():
        return b"" if int(declared) > limit else request.read(limit + 1)
    if request.META.get("wsgi.input_terminated"):
        # chunked: the server ends the stream, Django's own (length 0) reads nothing
        return _read_capped(request.META["wsgi.input"], limit + 1)
    return request.read(limit + 1)


def _read_capped(stream: object, cap: int) -> bytes:
    chunks: list[bytes] = []
    left = cap
    read = getattr(stream, "read")  # noqa: B009
    while left > 0:
        chunk = read(min(left, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


urlpatterns: list[URLPattern] = [
    path("hooks/releases/<str:key>/", release_hook, name="release-hook"),
]
