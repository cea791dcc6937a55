"""The DataMeta sandbox's own process: its site at the root, as a DataMeta server serves it.

``PORTAL_ROOT_URLCONF=sandbox.datameta.root_urls`` (see ``portal.processes.sandbox``).
"""

from django.urls import include, path

urlpatterns = [path("", include("sandbox.datameta.urls"))]
