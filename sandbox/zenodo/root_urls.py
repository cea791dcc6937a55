"""The Zenodo sandbox's own process: its routes at the root, as zenodo.org serves them.

``PORTAL_ROOT_URLCONF=sandbox.zenodo.root_urls`` (see ``portal.processes.sandbox``).
Unknown paths and server errors answer as Zenodo's API does, in JSON, never with the
portal's pages.
"""

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from .errors import ApiError, not_found

urlpatterns = [path("", include("sandbox.zenodo.urls"))]


def page_not_found(request: HttpRequest, exception: Any = None) -> JsonResponse:
    return not_found().response()


def server_error(request: HttpRequest) -> JsonResponse:
    return ApiError(500, "Internal server error.").response()


handler404 = page_not_found
handler500 = server_error
