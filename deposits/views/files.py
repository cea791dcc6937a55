"""A deposit's files: the list, uploads (a plain form, or resumable chunks) and deletion."""

from __future__ import annotations

import re
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deposits import access, lifecycle, uploads
from deposits.forms.metadata import Slot, place_problems
from deposits.models import Deposit, DepositFile, RemoteFile, State
from deposits.repositories.base import FileState

from .request import HtmxHttpRequest

CONTENT_RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
# Room for multipart boundaries and headers around the file bytes.
MULTIPART_OVERHEAD = 64 * 1024


def files_context(deposit: Deposit) -> dict[str, object]:
    placed = place_problems(lifecycle.problems_by_field(deposit), ["files"])
    return {
        "deposit": deposit,
        "files": file_rows(deposit),
        "files_locked": uploads.files_locked_reason(deposit),
        "slots": {"files": Slot("files", [], placed.get("files", []))},
    }


def file_rows(deposit: Deposit) -> list[DepositFile]:
    """The deposit's files, each with ``send_errors``: why a repository that gave up was
    not sent it (a damaged stored copy says so here, next to the file to upload again)."""
    files = list(deposit.files.all())
    failed = RemoteFile.objects.filter(
        file__in=files, status=FileState.FAILED, target__state=State.FAILED
    ).exclude(last_error="")
    errors: dict[int, list[str]] = {}
    for file_id, message in failed.values_list("file_id", "last_error"):
        if message not in errors.setdefault(file_id, []):
            errors[file_id].append(message)
    for dfile in files:
        dfile.send_errors = errors.get(dfile.pk, [])  # type: ignore[attr-defined]
    return files


@require_GET
@login_required
def file_list(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deposit = access.get_deposit_for(request.user, pk)
    return render(request, "deposit.html#file-list", files_context(deposit))


# Django parses multipart bodies before the view runs unless the upload handlers are
# swapped first, and the CSRF check would parse it: so exempt here, protect below.
@csrf_exempt
@require_POST
@login_required
def file_upload(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The form upload (no JavaScript): streamed to a temporary file, hashed as it arrives."""
    request.upload_handlers = [uploads.HashingUploadHandler(request)]
    return _file_upload(request, pk)


@csrf_protect
def _file_upload(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deposit = access.get_deposit_for(request.user, pk)
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    limit = settings.UPLOAD_MAX_BYTES
    if length > limit + MULTIPART_OVERHEAD:
        try:
            uploads.check_size("This upload", length - MULTIPART_OVERHEAD)
        except uploads.UploadRefused as exc:
            messages.error(request, exc.message)
            return redirect("deposit", pk=deposit.pk)
    replace = bool(request.POST.get("replace"))
    received = request.FILES.getlist("files")
    if not received:
        messages.error(request, "Choose one or more files to upload.")
    for uploaded in received:
        try:
            dfile = uploads.store_uploaded(deposit, uploaded, replace=replace, user=request.user)
        except uploads.UploadRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Added “{dfile.name}”.")
    return redirect("deposit", pk=deposit.pk)


def _file_json(dfile: DepositFile) -> dict[str, object]:
    return {
        "uid": str(dfile.uid),
        "name": dfile.name,
        "size": dfile.size,
        "received": dfile.received,
        "status": dfile.status,
        "md5": dfile.md5,
        "sha256": dfile.sha256,
        "url": reverse("upload-chunk", args=[dfile.uid]),
    }


def _refused(exc: uploads.UploadRefused) -> JsonResponse:
    body: dict[str, object] = {"error": exc.message}
    if exc.received is not None:
        body["received"] = exc.received
    return JsonResponse(body, status=exc.status)


@require_POST
@login_required
def upload_start(request: HtmxHttpRequest, pk: int) -> JsonResponse:
    """Announce a file (name, size): answers where to send its chunks and from which byte."""
    deposit = access.get_deposit_for(request.user, pk)
    try:
        size = int(request.POST.get("size", ""))
    except ValueError:
        return JsonResponse({"error": "The file size is missing."}, status=400)
    try:
        dfile = uploads.start_upload(
            deposit,
            name=request.POST.get("name", ""),
            size=size,
            replace=request.POST.get("replace") in ("1", "true", "on"),
            user=request.user,
        )
    except uploads.UploadRefused as exc:
        return _refused(exc)
    return JsonResponse(_file_json(dfile), status=201)


@require_http_methods(["GET", "PUT"])
@login_required
def upload_chunk(request: HtmxHttpRequest, uid: UUID) -> JsonResponse:
    """GET: how far the upload got. PUT: the next bytes, with ``Content-Range``."""
    dfile = access.get_file_for(request.user, uid)
    if request.method == "GET":
        dfile.received = uploads.resume_point(dfile) if dfile.status == "receiving" else dfile.size
        return JsonResponse(_file_json(dfile))
    match = CONTENT_RANGE_RE.match(request.headers.get("Content-Range", ""))
    if not match:
        return JsonResponse(
            {"error": "Send a Content-Range header: bytes <first>-<last>/<size>."}, status=400
        )
    start, end, total = (int(g) for g in match.groups())
    length = end - start + 1
    if int(request.META.get("CONTENT_LENGTH") or -1) != length:
        return JsonResponse(
            {"error": "The body length does not match the Content-Range."}, status=400
        )
    try:
        uploads.check_size(dfile.name, total)
        dfile = uploads.receive_chunk(
            dfile, request, start=start, length=length, total=total, user=request.user
        )
    except uploads.UploadRefused as exc:
        return _refused(exc)
    return JsonResponse(_file_json(dfile))


@require_http_methods(["GET", "POST"])
@login_required
def file_delete(request: HtmxHttpRequest, uid: UUID) -> HttpResponse:
    dfile = access.get_file_for(request.user, uid)
    deposit = dfile.deposit
    if request.method == "GET" or not request.POST.get("confirmed"):
        return render(
            request,
            "confirm.html",
            {
                "deposit": deposit,
                "title": f"Delete “{dfile.name}”?",
                "consequences": [
                    "The file is removed from this deposit and from storage.",
                    "Records already published keep their copy.",
                ],
                "action_url": reverse("file-delete", args=[dfile.uid]),
                "confirm_label": "Delete file",
                "danger": True,
                "irreversible": True,
                "cancel_url": reverse("deposit", args=[deposit.pk]),
            },
        )
    try:
        uploads.delete_file(dfile, user=request.user)
    except uploads.UploadRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Deleted “{dfile.name}”.")
    return redirect("deposit", pk=deposit.pk)
