"""Coscine target pages; included by the project's URLconf through the registry."""

from django.urls import path

from . import views as coscine

urlpatterns = [
    path("targets/<int:pk>/", coscine.coscine_panel, name="coscine-panel"),
    path("targets/<int:pk>/project/", coscine.coscine_project, name="coscine-project"),
    path("targets/<int:pk>/resource/", coscine.coscine_resource, name="coscine-resource"),
    path(
        "targets/<int:pk>/new-resource/",
        coscine.coscine_new_resource,
        name="coscine-new-resource",
    ),
    path("targets/<int:pk>/metadata/", coscine.coscine_metadata, name="coscine-metadata"),
    path("targets/<int:pk>/lookup/", coscine.coscine_lookup, name="coscine-lookup"),
    path(
        "targets/<int:pk>/publication/",
        coscine.coscine_publication,
        name="coscine-publication",
    ),
]
