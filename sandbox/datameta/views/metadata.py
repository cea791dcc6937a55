"""Metadata definitions: ``GET /metadata`` for everyone, changes for site admins (notes §11)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from .. import pages
from ..models import MetaDataSet, MetaDatum, MetaDatumRecord, Service
from ..responses import ApiError, forbidden, json_reply, not_found
from ..schema import json_body
from ..security import authenticate
from ..submission import by_id


def definition(metadatum: MetaDatum) -> dict[str, Any]:
    """MetaDataResponse in the real key order (#21); metadatum ids have no site id."""
    return {
        "id": {"uuid": str(metadatum.uuid)},
        "name": metadatum.name,
        "isMandatory": metadatum.mandatory,
        "order": metadatum.order,
        "isFile": metadatum.isfile,
        "isSubmissionUnique": metadatum.submission_unique,
        "isSiteUnique": metadatum.site_unique,
        "regexDescription": metadatum.regex_description,
        "longDescription": metadatum.long_description,
        "example": metadatum.example,
        "regExp": metadatum.regexp,
        "dateTimeFmt": metadatum.datetimefmt,
        "serviceId": metadatum.service.identifier() if metadatum.service else None,
    }


def list_metadata(request: HttpRequest) -> HttpResponse:
    """``GET /metadata``: regular and service fields, the same list for every user (#84)."""
    authenticate(request)
    return json_reply([definition(m) for m in MetaDatum.objects.select_related("service")])


def create_metadatum(request: HttpRequest) -> HttpResponse:
    """``POST /metadata``: all 12 properties required (#20), site admins only (#85)."""
    body = json_body(request, "MetaDatum")
    user = authenticate(request)
    if not user.site_admin:
        raise forbidden(request)
    with transaction.atomic():
        metadatum = MetaDatum()
        _apply(request, metadatum, body)
        # Every existing metadataset gets an empty value for the new field, as there.
        MetaDatumRecord.objects.bulk_create(
            MetaDatumRecord(metadataset=mset, metadatum=metadatum)
            for mset in MetaDataSet.objects.all()
        )
    return json_reply(definition(metadatum))


def update_metadatum(request: HttpRequest, id: str) -> HttpResponse:
    """``PUT /metadata/{id}``: replace a definition (site admins only)."""
    body = json_body(request, "MetaDatum")
    user = authenticate(request)
    if not user.site_admin:
        raise forbidden(request)
    metadatum = by_id(MetaDatum, id)
    if metadatum is None:
        raise not_found(request)
    _apply(request, metadatum, body)
    return json_reply(definition(metadatum))


def _apply(request: HttpRequest, metadatum: MetaDatum, body: dict[str, Any]) -> None:
    if body["serviceId"] is None:
        # The schema allows null, but the real server crashes on it (notes §11, #19).
        raise ApiError(
            HttpResponse(pages.WAITRESS_500, status=500, content_type="text/plain; charset=utf-8")
        )
    service = None
    if body["serviceId"]:
        service = by_id(Service, body["serviceId"])
        if service is None:
            raise not_found(request)
    metadatum.name = body["name"]
    # Empty strings are stored (and returned) as null, except ``example`` (notes §11).
    metadatum.regex_description = body["regexDescription"] or None
    metadatum.long_description = body["longDescription"] or None
    metadatum.example = body["example"]
    metadatum.regexp = body["regExp"] or None
    metadatum.datetimefmt = body["dateTimeFmt"] or None
    metadatum.mandatory = body["isMandatory"]
    metadatum.order = body["order"]
    metadatum.isfile = body["isFile"]
    metadatum.submission_unique = body["isSubmissionUnique"]
    metadatum.site_unique = body["isSiteUnique"]
    metadatum.service = service
    metadatum.save()
