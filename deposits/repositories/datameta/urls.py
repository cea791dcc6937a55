"""DataMeta target pages; included by the project's URLconf through the registry."""

from django.urls import path

from . import views as datameta

urlpatterns = [
    path("targets/<int:pk>/", datameta.datameta_panel, name="datameta-panel"),
    path("targets/<int:pk>/rows/", datameta.datameta_rows, name="datameta-rows"),
    path("targets/<int:pk>/sheet/", datameta.datameta_sheet, name="datameta-sheet"),
    path(
        "targets/<int:pk>/sheet/import/",
        datameta.datameta_sheet_import,
        name="datameta-sheet-import",
    ),
    path(
        "targets/<int:pk>/sheet.csv",
        datameta.datameta_sheet_template,
        name="datameta-sheet-template",
    ),
    path(
        "targets/<int:pk>/fields/refresh/",
        datameta.datameta_fields_refresh,
        name="datameta-fields-refresh",
    ),
]
