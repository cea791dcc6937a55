from django.contrib import admin
from django.urls import include, path

# The sandboxes are not mounted here: each has a process and a port of its own
# (sandbox/<kind>/root_urls.py, portal/processes.py).
urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("deposits.urls")),
]
