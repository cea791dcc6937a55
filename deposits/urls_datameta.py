"""DataMeta target pages; included from deposits/urls.py."""

from django.urls import path

from deposits.views import datameta

urlpatterns = [
    path("datameta/targets/<int:pk>/", datameta.datameta_panel, name="datameta-panel"),
    path("datameta/targets/<int:pk>/rows/", datameta.datameta_rows, name="datameta-rows"),
    path("datameta/targets/<int:pk>/sheet/", datameta.datameta_sheet, name="datameta-sheet"),
    path(
        "datameta/targets/<int:pk>/sheet/import/",
        datameta.datameta_sheet_import,
        name="datameta-sheet-import",
    ),
    path(
        "datameta/targets/<int:pk>/sheet.csv",
        datameta.datameta_sheet_template,
        name="datameta-sheet-template",
    ),
    path(
        "datameta/targets/<int:pk>/fields/refresh/",
        datameta.datameta_fields_refresh,
        name="datameta-fields-refresh",
    ),
]
