"""The Coscine sandbox's own process: Coscine's API under ``/coscine/api/v2/``, as the
real service is at https://coscine.rwth-aachen.de/coscine, and ``/_control/``.
Unknown paths and crashes answer as ASP.NET does: an empty 404, a ProblemDetails 500.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path

from .replies import empty, problem
from .urls import api, control_urls

urlpatterns: list[URLPattern | URLResolver] = [
    path("coscine/api/v2/", include(api)),
    path("_control/", include(control_urls)),
]


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return empty(404)


def server_error(request: HttpRequest) -> HttpResponse:
    return problem(500, "An error occurred while processing your request.")


handler404 = page_not_found
handler500 = server_error
