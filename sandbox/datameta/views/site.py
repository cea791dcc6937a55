"""The pages around the API: version discovery, Swagger UI, the spec, and 404s (notes §5, §8)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from .. import pages
from ..responses import datameta_not_found, site_root
from ..schema import SPEC_PATH


def api_root(request: HttpRequest) -> HttpResponse:
    """``GET /api``: 302 to the absolute URL of the current version (#1).

    Clients discover the API version through this redirect.
    """
    path = reverse("sandbox_datameta:api_v1")
    response = HttpResponse(
        pages.FOUND_302.replace("{path}", path), status=302, content_type="text/html; charset=UTF-8"
    )
    response["Location"] = site_root(request) + path
    return response


def swagger_ui(request: HttpRequest) -> HttpResponse:
    """``GET /api/v1`` is a Swagger-UI page on the real server, not JSON."""
    spec = reverse("sandbox_datameta:openapi")
    return HttpResponse(
        pages.SWAGGER_UI.replace("{spec}", spec), content_type="text/html; charset=UTF-8"
    )


def openapi(request: HttpRequest) -> HttpResponse:
    """The OpenAPI document the real server serves (and validates requests against)."""
    return HttpResponse(SPEC_PATH.read_bytes(), content_type="text/yaml; charset=UTF-8")


def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path: DataMeta's "404 Page Not Found" page."""
    return datameta_not_found(request)
