"""Routes of the Zenodo sandbox, served at the root of its own port (``root_urls``, notes §1.2)."""

from django.urls import path, re_path

from . import landing, views, views_control, views_files

app_name = "sandbox_zenodo"

DEPOSITION = "api/deposit/depositions/<int:deposition_id>"
RECORD = "api/records/<int:record_id>"

urlpatterns = [
    path("", views_control.index, name="index"),
    path("_control", views_control.control_view, name="control"),
    # the HTML pages the API's links name (landing)
    path("records/<int:record_id>", landing.record_page, name="records-page"),
    path("record/<int:record_id>", landing.record_page, name="record-page"),
    path("record/<int:record_id>/versions/latest", landing.latest_page, name="latest-page"),
    path("deposit/<int:deposition_id>", landing.draft_page, name="draft-page"),
    path("badge/doi/<path:doi>.svg", landing.badge, name="badge"),
    re_path(r"^api/deposit/depositions/?$", views.depositions, name="depositions"),
    path(DEPOSITION, views.deposition, name="deposition"),
    path(f"{DEPOSITION}/actions/<str:name>", views.action, name="action"),
    path(f"{DEPOSITION}/files", views_files.deposition_files, name="files"),
    path(f"{DEPOSITION}/files/<uuid:file_id>", views_files.deposition_file, name="file"),
    path("api/files/<uuid:bucket_id>", views_files.bucket, name="bucket"),
    path("api/files/<uuid:bucket_id>/<path:key>", views_files.bucket_object, name="object"),
    path(RECORD, views.record, name="record"),
    path(f"{RECORD}/versions/latest", views.latest_version, name="latest"),
    path(f"{RECORD}/files", views_files.record_files, name="record-files"),
    path(f"{RECORD}/files/<path:key>/content", views_files.record_file_content, name="content"),
    path(f"{RECORD}/files/<str:name>", views_files.record_file, name="record-file"),
    path(
        f"{RECORD}/draft/files/<path:key>/content",
        views_files.draft_file_content,
        name="draft-content",
    ),
]
