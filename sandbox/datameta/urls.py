"""Routes of the DataMeta sandbox, served at the root of its own port (``root_urls``).

The API lives under ``api/v1/`` as on the real server; ``api`` redirects there (notes §5).
"""

from django.urls import path, re_path

from .views import files, metadata, metadatasets, route, site, submissions, users
from .views.control import control, login_failures

app_name = "sandbox_datameta"

urlpatterns = [
    path("_control", control, name="control"),
    path("_control/users", login_failures, name="control-users"),
    path("openapi.yaml", site.openapi, name="openapi"),
    path("api", site.api_root, name="api"),
    path("api/v1", site.swagger_ui, name="api_v1"),
    path("api/v1/keys", route("keys", {"POST": users.create_key})),
    path("api/v1/keys/<str:id>", route("keys/id", {"DELETE": users.delete_key})),
    path("api/v1/users/<str:id>/keys", route("users/id/keys", {"GET": users.list_keys})),
    path("api/v1/users/<str:id>", route("users/id", {"GET": users.get_user})),
    path("api/v1/rpc/whoami", route("rpc/whoami", {"GET": users.whoami})),
    path("api/v1/server", route("server", {"GET": users.server_info})),
    path(
        "api/v1/metadata",
        route("metadata", {"GET": metadata.list_metadata, "POST": metadata.create_metadatum}),
    ),
    path("api/v1/metadata/<str:id>", route("metadata/id", {"PUT": metadata.update_metadatum})),
    path(
        "api/v1/metadatasets",
        route("metadatasets", {"GET": metadatasets.query, "POST": metadatasets.create}),
    ),
    path(
        "api/v1/metadatasets/<str:id>",
        route("metadatasets/id", {"GET": metadatasets.detail, "DELETE": metadatasets.delete}),
    ),
    path(
        "api/v1/rpc/delete-metadatasets",
        route("rpc/delete-metadatasets", {"POST": metadatasets.bulk_delete}),
    ),
    path("api/v1/files", route("files", {"POST": files.announce})),
    path(
        "api/v1/files/<str:id>",
        route("files/id", {"GET": files.detail, "PUT": files.update, "DELETE": files.delete}),
    ),
    path("api/v1/rpc/delete-files", route("rpc/delete-files", {"POST": files.bulk_delete})),
    path("api/v1/upload/<str:id>", route("upload", {"POST": files.upload}), name="upload"),
    path("api/v1/rpc/get-file-url/<str:id>", route("rpc/get-file-url", {"GET": files.file_url})),
    path(
        "api/v1/download/<str:token>",
        route("download", {"GET": files.download}),
        name="download",
    ),
    path(
        "api/v1/presubvalidation",
        route("presubvalidation", {"POST": submissions.presubvalidate}),
    ),
    path("api/v1/submissions", route("submissions", {"POST": submissions.submit})),
    path("api/v1/groups/<str:id>", route("groups/id", {"GET": submissions.group_detail})),
    path(
        "api/v1/groups/<str:id>/submissions",
        route("groups/id/submissions", {"GET": submissions.group_submissions}),
    ),
    path("api/v1/services", route("services", {"GET": submissions.list_services})),
    path(
        "api/v1/service-execution/<str:service_id>/<str:metadataset_id>",
        route("service-execution", {"POST": submissions.execute_service}),
    ),
    re_path(
        r"^(?P<rest>.*)$",
        route(
            "unknown", {m: site.unknown for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH")}
        ),
    ),
]
