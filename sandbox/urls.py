from django.urls import include, path

urlpatterns = [
    path("zenodo/", include("sandbox.zenodo.urls")),
    path("datameta/", include("sandbox.datameta.urls")),
]
