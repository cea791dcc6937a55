"""Depositions, their actions, and published records (notes §1.2, §1.5, §1.6, §1.10)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils import timezone

from .api import authenticate, endpoint, owned_deposition
from .control import Config, count
from .errors import ApiError, ValidationFailed, not_found
from .models import Concept, DepositFile, Deposition, RecordId
from .serializers import DOI_PREFIX, Links, deposition_json, record_json
from .storage import blob_path, copy_blob, delete_bucket
from .validation import deserialize, publish_errors, read_json

LIST_PAGE_SIZE = 10


def reply(deposition: Deposition, request: HttpRequest, status: int = 200) -> JsonResponse:
    return JsonResponse(deposition_json(deposition, Links(request)), status=status)


@endpoint("GET", "POST")
def depositions(request: HttpRequest, config: Config) -> HttpResponse:
    """``GET`` lists the caller's depositions (a bare JSON array), ``POST`` creates one.

    The list is served from a search index on the real service, so a new draft may be
    missing from it for a while (zenodo/zenodo #627): ``index_lag_seconds`` imitates that.
    """
    account = authenticate(request)
    if request.method == "POST":
        return create(request, account)
    found = account.depositions.select_related("concept").prefetch_related("files")
    status = request.GET.get("status")
    if status == "draft":
        found = found.filter(has_draft=True)
    elif status == "published":
        found = found.filter(is_published=True)
    if config.index_lag_seconds:
        lag = datetime.timedelta(seconds=config.index_lag_seconds)
        found = found.filter(created__lte=timezone.now() - lag)
    found = found.order_by("created" if request.GET.get("sort") == "-mostrecent" else "-created")
    try:
        size = max(1, int(request.GET.get("size", LIST_PAGE_SIZE)))
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError as exc:
        raise ValidationFailed({"page": ["Not a valid integer."]}) from exc
    links = Links(request)
    page_of = found[(page - 1) * size : page * size]
    return JsonResponse([deposition_json(d, links) for d in page_of], safe=False)


def create(request: HttpRequest, account: Any) -> HttpResponse:
    """``{}`` is enough; unknown top-level keys are refused (notes §1.4)."""
    metadata = deserialize(read_json(request))
    with transaction.atomic():
        concept = Concept.objects.create(id=RecordId.allocate())
        deposition = Deposition.objects.create(
            id=RecordId.allocate(), concept=concept, owner=account, metadata=metadata or {}
        )
    count("depositions_created")
    return reply(deposition, request, status=201)


@endpoint("GET", "PUT", "DELETE")
def deposition(request: HttpRequest, config: Config, deposition_id: int) -> HttpResponse:
    """``PUT`` replaces the whole metadata (no merge); ``DELETE`` deletes the draft (§1.2)."""
    found = owned_deposition(authenticate(request), deposition_id)
    if request.method == "GET":
        return reply(found, request)
    if request.method == "DELETE":
        delete_draft(found)
        return HttpResponse(status=204)
    if not found.has_draft:
        raise not_found()
    found.metadata = deserialize(read_json(request)) or {}
    found.touch()
    found.save(update_fields=["metadata", "modified"])
    return reply(found, request)


def delete_draft(found: Deposition) -> None:
    """Discard and ``DELETE`` share one handler: drop the draft, or 404 when there is none.

    A never-published deposit goes entirely; a published one goes back to what was
    published (files cannot change during an edit, so only metadata comes back).
    """
    if not found.has_draft:
        raise not_found()
    if not found.is_published:
        bucket = found.bucket
        found.delete()
        transaction.on_commit(lambda: delete_bucket(bucket))
        return
    found.metadata = found.published_metadata or {}
    found.has_draft = False
    found.touch()
    found.save(update_fields=["metadata", "has_draft", "modified"])


@endpoint("POST")
def action(request: HttpRequest, config: Config, deposition_id: int, name: str) -> HttpResponse:
    """``actions/publish|edit|discard|newversion`` with the RDM codes (202/201/204/201)."""
    account = authenticate(request)
    with transaction.atomic():
        found = owned_deposition(account, deposition_id, lock=True)
        if name == "publish":
            publish(found)
            return reply(found, request, status=202)
        if name == "edit":
            if found.is_published and not found.has_draft:
                found.has_draft = True
                found.touch()
                found.save(update_fields=["has_draft", "modified"])
            return reply(found, request, status=201)
        if name == "discard":
            if config.legacy_doc_mode:
                if not found.is_published:
                    raise ApiError(403, "Invalid action")
                delete_draft(found)
                return reply(found, request, status=201)
            delete_draft(found)
            return HttpResponse(status=204)
        if name == "newversion":
            draft = new_version(found)
            # The documented (legacy) reply is the old record; RDM answers with the draft.
            return reply(found if config.legacy_doc_mode else draft, request, status=201)
    raise not_found("The requested URL was not found on the server.")


def publish(found: Deposition) -> None:
    """Check the draft as RDM does (notes §1.5), then give it its DOI at once (§0, §1.10).

    Only a deposition with an open draft can be published: a second publish is a 404.
    """
    if not found.has_draft:
        raise not_found()
    errors = publish_errors(found.metadata, found.files.count())
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    if not found.is_published:
        given = found.metadata.get("doi", "")
        external = given and not given.startswith(("10.5281/", f"{DOI_PREFIX}/"))
        found.doi = given if external else f"{DOI_PREFIX}/zenodo.{found.pk}"
        found.published = now
        if not found.concept.doi:
            found.concept.doi = f"{DOI_PREFIX}/zenodo.{found.concept_id}"
            found.concept.save(update_fields=["doi"])
        count("published")
    found.is_published = True
    found.has_draft = False
    found.published_metadata = found.metadata
    found.modified = now
    found.save()


def new_version(found: Deposition) -> Deposition:
    """Get or create the concept's next draft, then import the latest version's files.

    Importing refuses a draft that still has files, so calling ``newversion`` again
    after the copy is a 400 (notes §1.6; google/langextract PR #461).
    """
    if not found.is_published:
        raise not_found()
    latest = (
        Deposition.objects.filter(concept_id=found.concept_id, is_published=True)
        .order_by("-published")
        .first()
    ) or found
    draft = found.next_draft()
    if draft is None:
        metadata = dict(latest.published_metadata or {})
        for skipped in ("publication_date", "version", "doi"):
            metadata.pop(skipped, None)
        metadata["publication_date"] = datetime.date.today().isoformat()
        draft = Deposition.objects.create(
            id=RecordId.allocate(),
            concept=found.concept,
            owner=found.owner,
            metadata=metadata,
        )
        count("depositions_created")
    if draft.files.exists():
        raise ValidationFailed({"files.enabled": ["Please remove all files first."]})
    for file in latest.files.all():
        copy = DepositFile.objects.create(
            deposition=draft, key=file.key, size=file.size, md5=file.md5, mimetype=file.mimetype
        )
        copy_blob(
            blob_path(latest.bucket, file.version_id), blob_path(draft.bucket, copy.version_id)
        )
    return draft


def published_record(record_id: int) -> Deposition:
    found = Deposition.published_record(record_id)
    if found is None:
        raise not_found()
    return found


@endpoint("GET")
def record(request: HttpRequest, config: Config, record_id: int) -> HttpResponse:
    """A published record, readable without a token (records are public)."""
    found = published_record(record_id)
    versions = list(
        Deposition.objects.filter(concept_id=found.concept_id, is_published=True)
        .order_by("published")
        .values_list("pk", flat=True)
    )
    index = versions.index(found.pk)
    body = record_json(found, Links(request), index, is_last=index == len(versions) - 1)
    return JsonResponse(body)


@endpoint("GET")
def latest_version(request: HttpRequest, config: Config, record_id: int) -> HttpResponse:
    """``links.latest`` resolves, as on zenodo.org, by redirecting to the newest version."""
    newest = published_record(record_id).newest_version()
    return HttpResponseRedirect(Links(request).record(newest.pk))
