"""The DataMeta sandbox's own process: its site at the root, as a DataMeta server serves it.

``PORTAL_ROOT_URLCONF=sandbox.datameta.root_urls`` (see ``portal.processes.sandbox``).
A 404 is DataMeta's own "404 Page Not Found" page, never the portal's.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from .responses import datameta_not_found

urlpatterns = [path("", include("sandbox.datameta.urls"))]


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return datameta_not_found(request)


handler404 = page_not_found
