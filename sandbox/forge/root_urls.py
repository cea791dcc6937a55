"""The forge sandbox's own process: GitHub's API paths and GitLab's (``/api/v4/``) at the
root of one port (they do not overlap)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
