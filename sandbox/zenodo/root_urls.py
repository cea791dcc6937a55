"""The Zenodo sandbox's own process: its routes at the root, as zenodo.org serves them.

``PORTAL_ROOT_URLCONF=sandbox.zenodo.root_urls`` (see ``portal.processes.sandbox``).
"""

from django.urls import include, path

urlpatterns = [path("", include("sandbox.zenodo.urls"))]
