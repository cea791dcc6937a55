"""Metadatasets: stage, read, query the submitted ones, delete staged ones (notes §12-§16, §24)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from .. import records
from ..models import MetaDataSet, MetaDatum, MetaDatumRecord, User
from ..responses import (
    ApiError,
    error,
    error_list,
    forbidden,
    json_reply,
    no_content,
    not_found,
    not_modifiable,
)
from ..schema import json_body, query_datetime
from ..security import authenticate
from ..submission import by_id, unique_ids


def create(request: HttpRequest) -> HttpResponse:
    """``POST /metadatasets`` with ``{"record": {...}}`` (#23-#29).

    Uniqueness is *not* checked here, only at presubvalidation and submission (§15).
    """
    body = json_body(request, "MetaDataSet")
    user = authenticate(request)
    record = records.as_strings(body["record"])
    metadata = records.regular_metadata()
    problems = records.validate(metadata, record)
    if problems:
        raise ApiError(error_list([error(p["message"], field=p["field"]) for p in problems]))
    rendered = records.render(metadata, record)
    with transaction.atomic():
        mset = MetaDataSet(user=user)
        mset.save()
        # Service fields start empty; the service fills them in after submission.
        values: dict[int, str | None] = {
            m.pk: None for m in MetaDatum.objects.filter(service__isnull=False)
        }
        values |= {metadata[name].pk: value for name, value in rendered.items()}
        MetaDatumRecord.objects.bulk_create(
            MetaDatumRecord(metadataset=mset, metadatum_id=pk, value=value)
            for pk, value in values.items()
        )
    return json_reply(
        {
            "id": mset.identifier(),
            "record": rendered,
            "fileIds": {name: None for name, m in metadata.items() if m.isfile},
            "userId": user.identifier(),
            "submissionId": None,
            "serviceExecutions": None,
        }
    )


def query(request: HttpRequest) -> HttpResponse:
    """``GET /metadatasets``: submitted sets of your group (all for siteRead), 404 if none (#22).

    Bounds are exclusive; ``awaitingService`` keeps sets the service has not processed.
    """
    user = authenticate(request)
    after = query_datetime(request, "submittedAfter")
    before = query_datetime(request, "submittedBefore")
    awaiting = request.GET.get("awaitingService")
    msets = MetaDataSet.objects.filter(submission__isnull=False).select_related(
        "user", "submission"
    )
    if not user.site_read:
        msets = msets.filter(submission__group=user.group)
    if after is not None:
        msets = msets.filter(submission__date__gt=after)
    if before is not None:
        msets = msets.filter(submission__date__lt=before)
    if awaiting is not None:
        readable = records.readable_metadata(user, submitted=True).values()
        services = {m.service for m in readable if m.service is not None}
        service = next((s for s in services if awaiting in (str(s.uuid), s.site_id)), None)
        if service is None:
            message = "Invalid service ID specified"
            raise ApiError(error_list([error(message, field="awaitingServices")]))
        msets = msets.exclude(service_executions__service=service)
    found = list(msets)
    if not found:
        raise not_found(request)
    return json_reply([records.metadataset_response(m, user) for m in found])


def detail(request: HttpRequest, id: str) -> HttpResponse:
    """``GET /metadatasets/{id}`` (#30, #76); another group's set is a 403 page (#87)."""
    user = authenticate(request)
    mset = by_id(MetaDataSet, id)
    if mset is None:
        raise not_found(request)
    if not can_view(user, mset):
        raise forbidden(request)
    return json_reply(records.metadataset_response(mset, user))


def can_view(user: User, mset: MetaDataSet) -> bool:
    """Staged: the owner only. Submitted: the submitting group, or siteRead users."""
    if mset.submission is None:
        return mset.user_id == user.pk
    return user.site_read or mset.submission.group_id == user.group_id


def delete(request: HttpRequest, id: str) -> HttpResponse:
    """``DELETE /metadatasets/{id}``: 204 staged (#70), 403 submitted (#72)."""
    user = authenticate(request)
    _delete_staged(request, user, id)
    return no_content()


def bulk_delete(request: HttpRequest) -> HttpResponse:
    """``POST /rpc/delete-metadatasets``: all or nothing, each id as in ``DELETE``."""
    body = json_body(request, "StagedMetaDataSets")
    user = authenticate(request)
    with transaction.atomic():
        for given in unique_ids(body["metadatasetIds"]):
            _delete_staged(request, user, given)
    return no_content()


def _delete_staged(request: HttpRequest, user: User, given: str) -> None:
    mset = by_id(MetaDataSet, given)
    if mset is None:
        raise not_found(request)
    if mset.user_id != user.pk:
        raise forbidden(request)
    if mset.submission_id is not None:
        raise not_modifiable()
    mset.delete()
