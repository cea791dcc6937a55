"""Files: announce, upload, confirm, read, delete, download (notes-datameta.md §17-§21, §25)."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date

from .. import storage
from ..models import DownloadToken, File, User, hash_token, new_token
from ..records import naive_local
from ..responses import (
    ApiError,
    error,
    json_reply,
    no_content,
    not_found,
    not_modifiable,
    null_reply,
    site_root,
    validation_failed,
)
from ..schema import json_body, query_bool, query_int
from ..security import authenticate
from ..submission import by_id, unique_ids


def file_response(f: File) -> dict[str, Any]:
    """FileResponse as in #34 and #38."""
    return {
        "id": f.identifier(),
        "name": f.name,
        "userId": f.user.identifier(),
        "expires": naive_local(f.upload_expires),
        "checksum": f.checksum,
        "contentUploaded": f.content_uploaded,
        "filesize": f.filesize,
    }


def announce(request: HttpRequest) -> HttpResponse:
    """``POST /files``: any checksum string is accepted here; it is compared on confirm (§17).

    ``urlToUpload`` is absolute, built from the Host header, always ``http`` (§18).
    """
    body = json_body(request, "FileAnnouncement")
    user = authenticate(request)
    if not body["name"]:
        raise validation_failed([error("File names cannot be empty.")])
    token = new_token()
    f = File(
        name=body["name"],
        checksum=body["checksum"],
        user=user,
        group=user.group,
        upload_expires=timezone.now() + timedelta(days=1),
        access_token_hash=hash_token(token),
    )
    f.save()
    storage.create_empty(f.path)
    upload_path = reverse("sandbox_datameta:upload", kwargs={"id": str(f.uuid)})
    return json_reply(
        {
            "id": f.identifier(),
            "name": f.name,
            "userId": user.identifier(),
            "expires": naive_local(f.upload_expires),
            "urlToUpload": site_root(request) + upload_path,
            "requestHeaders": {"Access-Token": token},
        }
    )


def upload(request: HttpRequest, id: str) -> HttpResponse:
    """``POST <urlToUpload>``: multipart part ``file`` + ``Access-Token``, no Bearer (§19).

    204 on success; unknown file or wrong token 404 ``null`` (#35), no ``file`` part
    400 ``null`` (#36), already confirmed 409 ``null`` (#40).
    """
    f = by_id(File, id)
    token = request.META.get("HTTP_ACCESS_TOKEN", "")
    if f is None or not token or hash_token(token) != f.access_token_hash:
        return null_reply(404)
    if f.content_uploaded:
        return null_reply(409)
    # Must be set before anything reads the body: streams the part to disk (storage.py).
    request.upload_handlers = [storage.StreamToDisk(f.path)]
    received = request.FILES.get("file")
    if not isinstance(received, storage.ReceivedFile):
        return null_reply(400)
    File.objects.filter(pk=f.pk, content_uploaded=False).update(
        uploaded_md5=received.md5, uploaded_size=received.size, modified=timezone.now()
    )
    return no_content()


def detail(request: HttpRequest, id: str) -> HttpResponse:
    """``GET /files/{id}``: unknown is the 404 page (#43), someone else's a 403 ``[]`` (#86)."""
    user = authenticate(request)
    f = by_id(File, id)
    if f is None:
        raise not_found(request)
    if not can_view(user, f):
        raise ApiError(json_reply([], 403))
    return json_reply(file_response(f))


def can_view(user: User, f: File) -> bool:
    record = f.records.select_related("metadataset__submission").first()
    submission = record.metadataset.submission if record else None
    if f.content_uploaded and submission is not None:
        return user.site_read or submission.group_id == user.group_id
    return f.user_id == user.pk


def update(request: HttpRequest, id: str) -> HttpResponse:
    """``PUT /files/{id}``: rename, fix the checksum, or confirm the upload (§20).

    Confirming compares the announced checksum with the MD5 of the bytes received (an
    announce without upload holds the empty file): mismatch is 409 ``null`` and the
    file stays staged (#46, #47). A confirmed file is not modifiable (#39).
    """
    body = json_body(request, "FileUpdateRequest")
    user = authenticate(request)
    f = by_id(File, id)
    if f is None:
        raise not_found(request)
    if f.user_id != user.pk:
        raise ApiError(json_reply([], 403))
    if f.content_uploaded:
        raise not_modifiable()
    f.name = body.get("name", f.name)
    f.checksum = body.get("checksum", f.checksum)
    if body.get("contentUploaded"):
        if f.checksum != f.uploaded_md5:
            return null_reply(409)  # nothing saved: the real request aborts its transaction
        f.content_uploaded = True
        f.filesize = f.uploaded_size
    f.save()
    return json_reply(file_response(f))


def delete(request: HttpRequest, id: str) -> HttpResponse:
    """``DELETE /files/{id}``: 204 staged (#56), 404 ``null`` (#57), 403 (#71, #91)."""
    user = authenticate(request)
    storage.remove(_delete_staged(user, id))
    return no_content()


def bulk_delete(request: HttpRequest) -> HttpResponse:
    """``POST /rpc/delete-files``: all or nothing, each id as in ``DELETE``."""
    body = json_body(request, "StagedFiles")
    user = authenticate(request)
    with transaction.atomic():
        paths = [_delete_staged(user, given) for given in unique_ids(body["fileIds"])]
    for path in paths:
        storage.remove(path)
    return no_content()


def _delete_staged(user: User, given: str) -> Path:
    """Delete the row; the caller removes the bytes once the deletion is committed."""
    f = by_id(File, given)
    if f is None:
        raise ApiError(null_reply(404))
    if f.user_id != user.pk:
        raise ApiError(null_reply(403))
    if f.records.exists():
        raise not_modifiable()
    path = f.path
    f.delete()
    return path


def file_url(request: HttpRequest, id: str) -> HttpResponse:
    """``GET /rpc/get-file-url/{id}``: a reusable pre-signed URL; 307 with ``redirect=true``.

    ``expires`` is in minutes (default 1) and comes back in UTC *with* offset (§25).
    """
    user = authenticate(request)
    minutes = query_int(request, "expires", 1)
    redirect = query_bool(request, "redirect")
    f = by_id(File, id)
    if f is None or not f.content_uploaded:
        raise not_found(request)
    if not can_view(user, f):
        raise ApiError(json_reply([], 403))
    grant = DownloadToken.issue(f, minutes)
    url = site_root(request) + reverse("sandbox_datameta:download", kwargs={"token": grant.token})
    body = {
        "fileId": f.identifier(),
        "fileUrl": url,
        "expires": grant.expires.astimezone(UTC).isoformat(),
        "checksum": f.checksum,
    }
    if not redirect:
        return json_reply(body)
    response = json_reply(body, 307)
    response["Location"] = url
    return response


def download(request: HttpRequest, token: str) -> HttpResponseBase:
    """The pre-signed URL: no auth, attachment, reusable until it expires (#78, #79)."""
    grant = DownloadToken.objects.select_related("file").filter(token=token).first()
    if grant is None or grant.expires <= timezone.now():
        raise not_found(request)
    f = grant.file
    response = FileResponse(
        f.path.open("rb"),
        content_type="application/octet-stream",
        as_attachment=True,
        filename=f.name,
    )
    response["Content-Disposition"] = f'attachment; filename="{f.name}"'
    response["Last-Modified"] = http_date(f.modified.timestamp())
    return response
