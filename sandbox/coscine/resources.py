"""Resources: list, create (ResourceForCreationDto validated as ASP.NET would, with an
``errors`` map naming each field), read, update and delete.

An ``rdss3`` resource gets a bucket on ``settings.S3_SANDBOX_URL``; only the single
resource GET shows its ``type.options.rdsS3`` (the list endpoint does not, notes A.2).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse

from . import catalog, dtos, profiles_store, s3
from .lookups import find_project
from .models import Resource, User
from .replies import ApiError, empty, no_content, ok, paged, problem

LIMITS = {"Name": 200, "DisplayName": 25, "Description": 10000, "UsageRights": 200}


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(problem(400, errors={"$": ["A JSON object is required."]}))
    return body


def _text_errors(body: dict[str, Any], required: tuple[str, ...]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field, limit in LIMITS.items():
        value = body.get(field[0].lower() + field[1:])
        if value in (None, "") and field in required:
            errors[field] = [f"The {field} field is required."]
        elif value is not None and (not isinstance(value, str) or len(value) > limit):
            errors[field] = [
                f"The field {field} must be a string with a maximum length of '{limit}'."
            ]
    return errors


def _id_of(value: Any) -> str:
    return str(value.get("id", "")) if isinstance(value, dict) else ""


def _choice_errors(body: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if catalog.by_id(catalog.VISIBILITIES, _id_of(body.get("visibility"))) is None:
        errors["Visibility"] = [
            "The Visibility field is required and must name a known visibility."
        ]
    chosen = body.get("disciplines")
    if (
        not isinstance(chosen, list)
        or not chosen
        or any(catalog.by_id(catalog.DISCIPLINES, _id_of(d)) is None for d in chosen)
    ):
        errors["Disciplines"] = ["Name at least one known discipline."]
    if (
        body.get("license") is not None
        and catalog.by_id(catalog.LICENSES, _id_of(body["license"])) is None
    ):
        errors["License"] = ["The license is unknown."]
    keywords = body.get("keywords")
    if keywords is not None and (
        not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords)
    ):
        errors["Keywords"] = ["Keywords must be a list of strings."]
    return errors


def _creation_errors(project: Any, body: dict[str, Any]) -> dict[str, list[str]]:
    errors = _text_errors(body, ("Name", "Description"))
    errors.update(_choice_errors(body))
    type_key = catalog.type_by_id(str(body.get("resourceTypeId", "")))
    if type_key is None:
        errors["ResourceTypeId"] = [
            "The ResourceTypeId field is required and must name a known resource type."
        ]
    else:
        errors.update(_type_errors(project, type_key, body))
    profile = body.get("applicationProfile")
    uri = profile.get("uri") if isinstance(profile, dict) else None
    if not uri or profiles_store.profile(str(uri)) is None:
        errors["ApplicationProfile"] = [
            "The ApplicationProfile field is required and must name a known profile."
        ]
    return errors


def _type_errors(project: Any, type_key: str, body: dict[str, Any]) -> dict[str, list[str]]:
    info = dtos.type_information(project, type_key)
    if not (info["canCreate"] and info["isEnabled"]):
        return {
            "ResourceTypeId": [f"Resources of type {type_key} cannot be created in this project."]
        }
    options = body.get("resourceTypeOptions")
    facts = catalog.RESOURCE_TYPES[type_key]
    if not isinstance(options, dict) or not isinstance(options.get(facts["options_key"]), dict):
        return {
            "ResourceTypeOptions": [f"The ResourceTypeOptions field needs {facts['options_key']}."]
        }
    gib = _quota_gib(options[facts["options_key"]])
    if gib is None or gib < 1:
        return {"ResourceTypeOptions.Quota": ["Give a quota of at least 1 GiB ({value, unit})."]}
    free = facts["allocated"] - dtos.used_gib(project, type_key)
    if gib > free:
        return {
            "ResourceTypeOptions.Quota": [f"Only {free} GiB of the project's quota are available."]
        }
    return {}


UNITS = {
    "https://qudt.org/vocab/unit/MebiBYTE": 1 / 1024,
    "https://qudt.org/vocab/unit/GibiBYTE": 1,
    "https://qudt.org/vocab/unit/TebiBYTE": 1024,
}


def _quota_gib(options: dict[str, Any]) -> int | None:
    quota = options.get("quota")
    if not isinstance(quota, dict) or quota.get("unit") not in UNITS:
        return None
    value = quota.get("value")
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return int(value * UNITS[quota["unit"]])


def create(request: HttpRequest, user: User, project_id: str) -> HttpResponse:
    project = find_project(user, project_id)
    body = _body(request)
    errors = _creation_errors(project, body)
    if errors:
        raise ApiError(problem(400, errors=errors))
    type_key = catalog.type_by_id(str(body["resourceTypeId"])) or ""
    options = body["resourceTypeOptions"][catalog.RESOURCE_TYPES[type_key]["options_key"]]
    resource = Resource(
        uuid=uuid.uuid4(),
        project=project,
        creator=user,
        type_key=type_key,
        profile_uri=body["applicationProfile"]["uri"],
        quota_gib=_quota_gib(options) or 0,
    )
    _apply(resource, body)
    if type_key == "rdss3":
        resource.bucket = s3.bucket_name(str(resource.uuid))
        s3.create_bucket(resource.bucket)
    resource.save()
    return ok(dtos.resource_dto(resource, with_options=True), status=201)


def _apply(resource: Resource, body: dict[str, Any]) -> None:
    resource.name = body["name"]
    resource.display_name = body.get("displayName") or body["name"][:25]
    resource.description = body["description"]
    resource.keywords = body.get("keywords") or []
    resource.license_id = _id_of(body.get("license"))
    resource.usage_rights = body.get("usageRights") or ""
    resource.visibility_id = _id_of(body["visibility"])
    resource.discipline_ids = [_id_of(d) for d in body["disciplines"]]
    resource.fixed_values = body.get("fixedValues") or {}


def find_resource(user: User, project_id: str, resource_id: str) -> Resource:
    project = find_project(user, project_id)
    try:
        key = uuid.UUID(resource_id)
    except ValueError:
        raise ApiError(empty(404)) from None
    found = (
        project.resources.select_related("project", "creator")
        .filter(uuid=key, deleted=False)
        .first()
    )
    if found is None:
        raise ApiError(empty(404))
    return found


def listing(request: HttpRequest, user: User, project_id: str) -> HttpResponse:
    project = find_project(user, project_id)
    query = (
        project.resources.select_related("project", "creator")
        .filter(deleted=False)
        .order_by("created")
    )
    return paged(request, [dtos.resource_dto(r) for r in query])


def detail(request: HttpRequest, user: User, project_id: str, resource_id: str) -> HttpResponse:
    return ok(dtos.resource_dto(find_resource(user, project_id, resource_id), with_options=True))


def update(request: HttpRequest, user: User, project_id: str, resource_id: str) -> HttpResponse:
    resource = find_resource(user, project_id, resource_id)
    body = _body(request)
    errors = _text_errors(body, ("Name", "Description"))
    errors.update(_choice_errors(body))
    if not isinstance(body.get("archived"), bool):
        errors["Archived"] = ["The Archived field is required."]
    if errors:
        raise ApiError(problem(400, errors=errors))
    _apply(resource, body)
    resource.archived = body["archived"]
    resource.save()
    return no_content()


def delete(request: HttpRequest, user: User, project_id: str, resource_id: str) -> HttpResponse:
    resource = find_resource(user, project_id, resource_id)
    Resource.objects.filter(pk=resource.pk).update(deleted=True)
    return no_content()


def by_id(request: HttpRequest, user: User, resource_id: str) -> HttpResponse:
    """``GET /api/v2/resources/{id}``: any live resource of the caller's projects."""
    try:
        key = uuid.UUID(resource_id)
    except ValueError:
        raise ApiError(empty(404)) from None
    found = (
        Resource.objects.select_related("project", "creator")
        .filter(uuid=key, deleted=False)
        .first()
    )
    if found is None:
        raise ApiError(empty(404))
    if found.project.owner_id != user.pk:
        raise ApiError(empty(403))
    return ok(dtos.resource_dto(found, with_options=True))
