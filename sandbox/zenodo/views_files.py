"""Files: the deposition files API, the bucket (Files-REST) API and downloads (notes §1.2, §1.7).

Bytes are streamed to disk chunk by chunk and hashed on the way (``storage.receive``): a
view here never touches ``request.body`` of an upload, so a multi-GB ``PUT`` costs the
same memory as a small one.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
import uuid

from django.db import transaction
from django.db.models import Sum
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase

from . import faults
from .api import authenticate, endpoint, owned_deposition
from .control import Config, count
from .errors import ApiError, forbidden, not_found
from .models import Account, DepositFile, Deposition, Fault
from .serializers import Links, bucket_json, file_json, object_json, record_file_json
from .storage import blob_path, delete_blob, discard, receive
from .views import published_record

TOO_MANY_FILES = "Uploading selected files will result in exceeding the max amount per record."
QUOTA_EXCEEDED = "Bucket quota exceeded."
LOCKED = "Bucket is locked for modifications."


def secure_filename(name: str) -> str:
    """werkzeug's ``secure_filename``: ASCII only, whitespace to ``_``, no path parts (§1.2)."""
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    name = name.replace("/", " ").replace("\\", " ")
    return re.sub(r"[^A-Za-z0-9_.-]", "", "_".join(name.split())).strip("._")


def check_limits(config: Config, deposition: Deposition, size: int, replacing: str = "") -> None:
    """100 files and 50 GB per record by default (notes §1.7); replacing a key adds no file."""
    others = deposition.files.exclude(key=replacing)
    if others.count() >= config.max_files:
        raise ApiError(400, TOO_MANY_FILES)
    used = others.aggregate(total=Sum("size"))["total"] or 0
    if used + size > config.quota_bytes:
        raise ApiError(400, QUOTA_EXCEEDED)


def store(
    deposition: Deposition, key: str, version_id: uuid.UUID, size: int, md5: str
) -> DepositFile:
    """Record received bytes under ``key``, replacing an existing file of that key."""
    with transaction.atomic():
        Deposition.objects.select_for_update().filter(pk=deposition.pk).first()
        for old in deposition.files.filter(key=key):
            old_path = blob_path(deposition.bucket, old.version_id)
            old.delete()
            transaction.on_commit(lambda path=old_path: delete_blob(path))  # type: ignore[misc]
        file = DepositFile.objects.create(
            deposition=deposition,
            key=key,
            size=size,
            md5=md5,
            version_id=version_id,
            mimetype=mimetypes.guess_type(key)[0] or "application/octet-stream",
        )
        deposition.touch()
        deposition.save(update_fields=["modified"])
    count("files_stored")
    count("bytes_stored", size)
    return file


@endpoint("GET", "POST")
def deposition_files(request: HttpRequest, config: Config, deposition_id: int) -> HttpResponse:
    """``GET`` lists the files; ``POST`` is the old multipart upload (field ``file``)."""
    found = owned_deposition(authenticate(request), deposition_id)
    links = Links(request)
    if request.method == "GET":
        return JsonResponse([file_json(found, f, links) for f in found.files.all()], safe=False)
    if found.is_published:
        raise not_found()
    upload = request.FILES.get("file")
    if upload is None:
        raise ApiError(400, "Missing file: send it as the multipart field 'file'.")
    key = secure_filename(request.POST.get("name") or upload.name or "")
    if not key:
        raise ApiError(400, "Invalid file name.")
    if found.files.filter(key=key).exists():
        raise ApiError(400, f"File with key {key} already exists.")
    check_limits(config, found, upload.size or 0)
    version_id = uuid.uuid4()
    received = receive(upload.read, None, blob_path(found.bucket, version_id))
    file = store(found, key, version_id, received.size, received.md5)
    return JsonResponse(file_json(found, file, links), status=201)


@endpoint("GET", "DELETE")
def deposition_file(
    request: HttpRequest, config: Config, deposition_id: int, file_id: uuid.UUID
) -> HttpResponse:
    """One file; deleting it after publish is a 403. Renaming (``PUT``) is a 405 (§1.2)."""
    found = owned_deposition(authenticate(request), deposition_id)
    file = found.files.filter(pk=file_id).first()
    if file is None:
        raise not_found()
    if request.method == "GET":
        return JsonResponse(file_json(found, file, Links(request)))
    if found.is_published:
        raise forbidden()
    path = blob_path(found.bucket, file.version_id)
    file.delete()
    delete_blob(path)
    return HttpResponse(status=204)


def owned_bucket(account: Account, bucket_id: uuid.UUID) -> Deposition:
    found = Deposition.objects.select_related("concept").filter(bucket=bucket_id).first()
    if found is None:
        raise not_found("Bucket does not exist.")
    if found.owner_id != account.pk:
        raise forbidden()
    return found


@endpoint("GET")
def bucket(request: HttpRequest, config: Config, bucket_id: uuid.UUID) -> HttpResponse:
    found = owned_bucket(authenticate(request), bucket_id)
    return JsonResponse(bucket_json(found, Links(request), config.quota_bytes))


@endpoint("GET", "PUT", "DELETE")
def bucket_object(
    request: HttpRequest, config: Config, bucket_id: uuid.UUID, key: str
) -> HttpResponseBase:
    found = owned_bucket(authenticate(request), bucket_id)
    if request.method == "PUT":
        return upload(request, config, found, key)
    file = found.files.filter(key=key).first()
    if file is None:
        raise not_found("Object does not exists.")
    if request.method == "GET":
        return download(found, file)
    if found.is_published:
        raise forbidden(LOCKED)
    path = blob_path(found.bucket, file.version_id)
    file.delete()
    delete_blob(path)
    return HttpResponse(status=204)


def upload(request: HttpRequest, config: Config, found: Deposition, key: str) -> HttpResponse:
    """The bucket ``PUT``: raw bytes, octet-stream or no type (else 415), 201 (notes §1.2).

    An existing key is replaced. The MD5 is computed while the body streams to disk, and a
    body shorter than its ``Content-Length`` (the client gave up) stores nothing.
    """
    if found.is_published:
        raise forbidden(LOCKED)
    if not octet_stream(request):
        raise ApiError(
            415, "Invalid 'Content-Type' header. Expected one of: application/octet-stream."
        )
    if len(key) > 255:
        raise ApiError(400, "Filename is too long.")
    try:
        length = int(request.META["CONTENT_LENGTH"])
    except (KeyError, ValueError) as exc:
        raise ApiError(411, "A Content-Length header is required.") from exc
    check_limits(config, found, length, replacing=key)
    reset = faults.take(request, [Fault.Kind.RESET])
    if reset or faults.random_reset():
        after = reset.after_bytes if reset and reset.after_bytes is not None else length // 2
        discard(request.read, after)
        faults.drop_connection(request)
        return HttpResponse(status=500)  # nobody reads it: the connection is gone
    version_id = uuid.uuid4()
    target = blob_path(found.bucket, version_id)
    received = receive(request.read, length, target)
    if received.size != length:
        delete_blob(target)
        raise ApiError(400, "Content-Length does not match file size.")
    file = store(found, key, version_id, received.size, received.md5)
    return JsonResponse(object_json(found, file, Links(request)), status=201)


def octet_stream(request: HttpRequest) -> bool:
    """``application/octet-stream`` or no Content-Type at all.

    Python's wsgiref (``runserver``, the test live server) fills a missing Content-Type in
    as ``text/plain``, so there that value has to count as "none".
    """
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type == "text/plain" and request.META.get("SERVER_SOFTWARE", "").startswith(
        "WSGIServer/"
    ):
        return True
    return request.content_type in ("", "application/octet-stream")


def download(found: Deposition, file: DepositFile) -> FileResponse:
    path = blob_path(found.bucket, file.version_id)
    return FileResponse(path.open("rb"), content_type=file.mimetype, filename=file.key)


@endpoint("GET")
def record_files(request: HttpRequest, config: Config, record_id: int) -> HttpResponse:
    found = published_record(record_id)
    links = Links(request)
    entries = [record_file_json(found, f, links) for f in found.files.all()]
    return JsonResponse({"enabled": True, "entries": entries})


@endpoint("GET")
def record_file(request: HttpRequest, config: Config, record_id: int, name: str) -> HttpResponse:
    """A published file by key (RDM) or by file id (the deposit API's ``links.self``)."""
    found = published_record(record_id)
    file = found.files.filter(key=name).first()
    if file is None and re.fullmatch(r"[0-9a-f-]{36}", name):
        file = found.files.filter(pk=name).first()
    if file is None:
        raise not_found()
    return JsonResponse(record_file_json(found, file, Links(request)))


@endpoint("GET")
def record_file_content(
    request: HttpRequest, config: Config, record_id: int, key: str
) -> HttpResponseBase:
    found = published_record(record_id)
    file = found.files.filter(key=key).first()
    if file is None:
        raise not_found()
    return download(found, file)


@endpoint("GET")
def draft_file_content(
    request: HttpRequest, config: Config, record_id: int, key: str
) -> HttpResponseBase:
    """The deposit API's ``download`` link: the draft's file, for its owner only (§1.3)."""
    found = owned_deposition(authenticate(request), record_id)
    file = found.files.filter(key=key).first()
    if file is None:
        raise not_found()
    return download(found, file)
