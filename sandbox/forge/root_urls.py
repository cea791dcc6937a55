"""The forge sandbox's own process: GitHub's API paths and GitLab's (``/api/v4/``) at the
root of one port (they do not overlap).

``PORTAL_ROOT_URLCONF=sandbox.forge.root_urls`` (see ``portal.processes.sandbox``).
Unknown paths and server errors answer in JSON, as the forge whose paths were asked for.
"""

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, include, path

from .access import GITHUB_DOCS

urlpatterns: list[URLPattern | URLResolver] = [path("", include("sandbox.forge.urls"))]


def _gitlab(request: HttpRequest) -> bool:
    return request.path.startswith("/api/v4/")


def page_not_found(request: HttpRequest, exception: Any = None) -> JsonResponse:
    if _gitlab(request):
        return JsonResponse({"error": "404 Not Found"}, status=404)
    return JsonResponse({"message": "Not Found", "documentation_url": GITHUB_DOCS}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    if _gitlab(request):
        return JsonResponse({"message": "500 Internal Server Error"}, status=500)
    return JsonResponse({"message": "Server Error", "documentation_url": GITHUB_DOCS}, status=500)


handler404 = page_not_found
handler500 = server_error
