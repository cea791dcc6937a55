"""Files of a resource: list (FileTreeDto, paged), HEAD, upload (multipart field
``file``, streamed to disk by Django's upload handlers, never read whole into memory),
download and delete. An ``rdss3`` resource's files live in its bucket, and these
endpoints read and write that bucket.

Uploads above ``COSCINE_SANDBOX_MAX_REST_BYTES`` (default 256 MiB) get a 413 before
their body is read. A non-S3 resource refuses a file without a metadata graph for its
path (notes A.2: metadata first, then the bytes). ``{encodedPath}`` is decoded once more after
the server has decoded the URL (as Coscine does: the SDK quotes a path that its
generated client then quotes again), so single and double encoding both work.
"""

from __future__ import annotations

import os
import shutil
from typing import Any
from urllib.parse import quote, unquote

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.http.response import HttpResponseBase
from django.utils import timezone

from . import dtos, s3
from .models import MetadataVersion, Resource, StoredFile, User
from .replies import ApiError, empty, no_content, paged, problem
from .resources import find_resource

DEFAULT_MAX_REST_BYTES = 256 * 1024**2


def max_rest_bytes() -> int:
    configured = getattr(settings, "COSCINE_SANDBOX_MAX_REST_BYTES", None)
    if configured is None:
        configured = os.environ.get("COSCINE_SANDBOX_MAX_REST_BYTES") or DEFAULT_MAX_REST_BYTES
    return int(configured)


def _entry(
    request: HttpRequest, resource: Resource, path: str, size: int, changed: Any
) -> dict[str, Any]:
    directory, _, name = path.rpartition("/")
    if resource.bucket:
        url = s3.presigned_url(resource.bucket, path)
    else:
        url = request.build_absolute_uri(
            f"/coscine/api/v2/projects/{resource.project.uuid}/resources/{resource.uuid}"
            f"/storage/{quote(path, safe='')}/content"
        )
    stamp = dtos.iso(changed)
    return {
        "path": path,
        "type": "Leaf",
        "directory": f"{directory}/" if directory else "/",
        "name": name,
        "extension": name.rpartition(".")[2] if "." in name else "",
        "size": size,
        "creationDate": stamp,
        "changeDate": stamp,
        "actions": {"download": {"url": url, "method": "GET"}},
        "hidden": False,
    }


def listing(request: HttpRequest, user: User, project_id: str, resource_id: str) -> HttpResponse:
    resource = find_resource(user, project_id, resource_id)
    # The SDK quotes the prefix before its client encodes the query: decode that too.
    prefix = unquote(request.GET.get("Prefix", "")).lstrip("/")
    if resource.bucket:
        items = [
            _entry(request, resource, o["Key"], o["Size"], o["LastModified"])
            for o in s3.list_objects(resource.bucket, prefix)
        ]
    else:
        files = resource.files.filter(path__startswith=prefix).order_by("path")
        items = [_entry(request, resource, f.path, f.size, f.changed) for f in files]
    return paged(request, items)


def _size(resource: Resource, path: str) -> int | None:
    if resource.bucket:
        found = s3.head(resource.bucket, path)
        return None if found is None else int(found["ContentLength"])
    stored = resource.files.filter(path=path).first()
    return None if stored is None else stored.size


def head(
    request: HttpRequest, user: User, project_id: str, resource_id: str, path: str
) -> HttpResponse:
    resource = find_resource(user, project_id, resource_id)
    size = _size(resource, unquote(path))
    if size is None:
        return empty(404)
    response = empty(200)
    response["Content-Length"] = str(size)
    return response


def download(
    request: HttpRequest, user: User, project_id: str, resource_id: str, path: str
) -> HttpResponseBase:
    resource = find_resource(user, project_id, resource_id)
    key = unquote(path)
    if _size(resource, key) is None:
        return empty(404)
    if resource.bucket:
        body = s3.get(resource.bucket, key)
        return StreamingHttpResponse(body.iter_chunks(), content_type="application/octet-stream")
    stored = resource.files.get(path=key)
    return FileResponse(stored.data_path.open("rb"), content_type="application/octet-stream")


def delete(
    request: HttpRequest, user: User, project_id: str, resource_id: str, path: str
) -> HttpResponse:
    resource = find_resource(user, project_id, resource_id)
    key = unquote(path)
    if _size(resource, key) is None:
        return empty(404)
    if resource.bucket:
        s3.delete(resource.bucket, key)
    else:
        stored = resource.files.get(path=key)
        stored.data_path.unlink(missing_ok=True)
        stored.delete()
    return no_content()


def _too_large() -> ApiError:
    limit = max_rest_bytes()
    detail = (
        f"The file is larger than {limit} bytes, the most this endpoint takes; upload it to S3."
    )
    return ApiError(problem(413, "Payload Too Large", detail=detail))


def _uploaded(request: HttpRequest) -> UploadedFile:
    if int(request.META.get("CONTENT_LENGTH") or 0) > max_rest_bytes():
        raise _too_large()
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise ApiError(
            problem(
                415,
                "Unsupported Media Type",
                detail="Send multipart/form-data with a field 'file'.",
            )
        )
    try:
        _, files = MultiPartParser(request.META, request, request.upload_handlers).parse()
    except MultiPartParserError as error:
        raise ApiError(
            problem(400, errors={"file": [f"The multipart body could not be read: {error}"]})
        ) from None
    upload = files.get("file")
    if upload is None:
        raise ApiError(problem(400, errors={"file": ["The file field is required."]}))
    if upload.size is not None and upload.size > max_rest_bytes():
        raise _too_large()
    return upload


def upload(
    request: HttpRequest, user: User, project_id: str, resource_id: str, path: str
) -> HttpResponse:
    resource = find_resource(user, project_id, resource_id)
    key = unquote(path)
    exists = _size(resource, key) is not None
    if request.method == "POST" and exists:
        raise ApiError(
            problem(400, "Blob already exists", detail=f"{key} exists; PUT replaces it.")
        )
    if (
        not resource.bucket
        and not MetadataVersion.objects.filter(resource=resource, path=key).exists()
    ):
        detail = f"Resources other than S3 resources need metadata for {key} before its upload."
        raise ApiError(problem(400, "Metadata required", detail=detail))
    received = _uploaded(request)
    if resource.bucket:
        s3.client(write=True).upload_fileobj(received, resource.bucket, key)
    else:
        _store(resource, key, received)
    return empty(201)


def _store(resource: Resource, key: str, received: UploadedFile) -> None:
    stored, _ = StoredFile.objects.get_or_create(resource=resource, path=key, defaults={"size": 0})
    with stored.data_path.open("wb") as target:
        received.seek(0)
        shutil.copyfileobj(received, target, 1024 * 1024)
    stored.size = stored.data_path.stat().st_size
    stored.changed = timezone.now()
    stored.save()
