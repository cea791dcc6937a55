"""Submissions, groups and services (notes-datameta.md §22-§23; rest-api "Service Executions")."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from .. import services, submission
from ..models import File, Group, MetaDataSet, MetaDatumRecord, Service, Submission
from ..responses import forbidden, json_reply, no_content, not_found
from ..schema import json_body
from ..security import authenticate
from ..submission import by_id


def presubvalidate(request: HttpRequest) -> HttpResponse:
    """``POST /presubvalidation``: 204 when the submission would pass (#62), else 400 (#58-#69)."""
    body = json_body(request, "SubmissionRequest")
    user = authenticate(request)
    submission.check(user, body["fileIds"], body["metadatasetIds"])
    return no_content()


def submit(request: HttpRequest) -> HttpResponse:
    """``POST /submissions``: 200 (not 201); links each file to the record naming it (#63).

    Validation is the presubvalidation's, repeated inside the write transaction so two
    racing submissions of the same sets cannot both pass.
    """
    body = json_body(request, "SubmissionRequest")
    user = authenticate(request)
    with transaction.atomic():
        checked = submission.check(user, body["fileIds"], body["metadatasetIds"])
        made = Submission(label=body.get("label") or None, group=user.group)
        made.save()
        by_name = {f.name: f for f in checked.files.values()}
        for name, record in checked.references.items():
            MetaDatumRecord.objects.filter(pk=record.pk).update(file=by_name[name])
        MetaDataSet.objects.filter(pk__in=[m.pk for m in checked.msets.values()]).update(
            submission=made
        )
    return json_reply(
        {
            "metadatasetIds": [m.identifier() for m in checked.msets.values()],
            "fileIds": [f.identifier() for f in checked.files.values()],
            "id": made.identifier(),
            "label": made.label,
        }
    )


def _submission_response(made: Submission) -> dict[str, Any]:
    msets = list(made.metadatasets.all())
    files = File.objects.filter(records__metadataset__in=msets).distinct().order_by("id")
    return {
        "id": made.identifier(),
        "label": made.label,
        "metadatasetIds": [m.identifier() for m in msets],
        "fileIds": [f.identifier() for f in files],
    }


def group_detail(request: HttpRequest, id: str) -> HttpResponse:
    """``GET /groups/{id}``: your own group, or any for site admins."""
    user = authenticate(request)
    group = by_id(Group, id)
    if group is None:
        raise not_found(request)
    if not (user.site_admin or group.pk == user.group_id):
        raise forbidden(request)
    return json_reply({"id": group.identifier(), "name": group.name})


def group_submissions(request: HttpRequest, id: str) -> HttpResponse:
    """``GET /groups/{id}/submissions``: your group's, or any group's with siteRead."""
    user = authenticate(request)
    group = by_id(Group, id)
    if group is None:
        raise not_found(request)
    if not (user.site_read or group.pk == user.group_id):
        raise forbidden(request)
    return json_reply([_submission_response(s) for s in group.submissions.order_by("id")])


def list_services(request: HttpRequest) -> HttpResponse:
    """``GET /services``: names, ids and the users allowed to execute each one."""
    authenticate(request)
    return json_reply(
        [
            {
                "id": s.identifier(),
                "name": s.name,
                "userIds": [u.identifier() for u in s.users.order_by("id")],
            }
            for s in Service.objects.order_by("id")
        ]
    )


def execute_service(request: HttpRequest, service_id: str, metadataset_id: str) -> HttpResponse:
    """``POST /service-execution/{serviceId}/{metadatasetId}`` with ``{record, fileIds}``.

    404 page for an unknown service or set; 403 ``{}`` when already executed or when the
    caller is not one of the service's users; 400 for fields the service does not own.
    """
    body = json_body(request, "ServiceExecution")
    user = authenticate(request)
    mset = by_id(MetaDataSet, metadataset_id)
    service = by_id(Service, service_id)
    if mset is None or service is None:
        raise not_found(request)
    return services.execute(
        request,
        service=service,
        mset=mset,
        user=user,
        record=body["record"],
        file_ids=body["fileIds"],
    )
