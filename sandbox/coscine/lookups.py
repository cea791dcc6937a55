"""Who am I, projects, resource types, quotas, and the lookup lists (visibilities,
disciplines, licences, organisations, profiles, vocabularies, publication services)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse

from . import catalog, dtos, profiles_store
from .models import Project, PublicationRequest, Resource, User
from .replies import ApiError, empty, ok, paged, problem


def self_user(request: HttpRequest, user: User) -> HttpResponse:
    return ok(dtos.user_dto(user))


def api_tokens(request: HttpRequest, user: User) -> HttpResponse:
    items = [
        {
            "id": str(t.uuid),
            "name": t.name,
            "creationDate": dtos.iso(t.created),
            "expiryDate": dtos.iso(t.expires),
            "token": None,  # shown only once, when made
            "owner": {"id": str(user.uuid)},
        }
        for t in user.tokens.order_by("created")
    ]
    return paged(request, items)


def find_project(user: User, project_id: str) -> Project:
    """By GUID or slug; someone else's is an empty 403, an unknown one an empty 404."""
    query = Project.objects.select_related("owner", "parent")
    try:
        found = query.filter(uuid=uuid.UUID(project_id)).first()
    except ValueError:
        found = query.filter(slug=project_id).first()
    if found is None:
        raise ApiError(empty(404))
    if found.owner_id != user.pk:
        raise ApiError(empty(403))
    return found


def projects(request: HttpRequest, user: User) -> HttpResponse:
    query = (
        Project.objects.filter(owner=user)
        .select_related("owner", "parent")
        .order_by("created", "slug")
    )
    if request.GET.get("TopLevel", "").lower() == "true":
        query = query.filter(parent__isnull=True)
    # ``IncludeOrganizations=false`` leaves them out (the SDK's ``include_org``).
    organizations = request.GET.get("IncludeOrganizations", "").lower() != "false"
    return paged(request, [dtos.project_dto(p, with_organizations=organizations) for p in query])


def project(request: HttpRequest, user: User, project_id: str) -> HttpResponse:
    found = find_project(user, project_id)
    with_children = request.GET.get("IncludeSubProjects", "").lower() == "true"
    return ok(dtos.project_dto(found, with_children=with_children))


def subprojects(request: HttpRequest, user: User, project_id: str) -> HttpResponse:
    found = find_project(user, project_id)
    return paged(request, [dtos.project_dto(c) for c in found.children.order_by("slug")])


def resource_types(request: HttpRequest, user: User, project_id: str) -> HttpResponse:
    found = find_project(user, project_id)
    return ok([dtos.type_information(found, key) for key in catalog.RESOURCE_TYPES])


def quotas(request: HttpRequest, user: User, project_id: str) -> HttpResponse:
    found = find_project(user, project_id)
    keys = [k for k, f in catalog.RESOURCE_TYPES.items() if f["allocated"] is not None]
    return paged(request, [dtos.project_quota(found, key) for key in keys])


def visibilities(request: HttpRequest, user: User) -> HttpResponse:
    return paged(request, catalog.VISIBILITIES)


def disciplines(request: HttpRequest, user: User) -> HttpResponse:
    term = request.GET.get("SearchTerm", "")
    found = [
        d
        for d in catalog.DISCIPLINES
        if _matches(term, d["displayNameEn"], d["displayNameDe"], d["uri"])
    ]
    return paged(request, found)


def licenses(request: HttpRequest, user: User) -> HttpResponse:
    return paged(request, catalog.LICENSES)


def _matches(term: str, *texts: str | None) -> bool:
    return not term or any(term.lower() in (t or "").lower() for t in texts)


def organizations(request: HttpRequest, user: User) -> HttpResponse:
    term = request.GET.get("SearchTerm", "")
    return paged(
        request, [o for o in catalog.ORGANIZATIONS if _matches(term, o["displayName"], o["uri"])]
    )


def publication_services(request: HttpRequest, user: User) -> HttpResponse:
    term = request.GET.get("SearchTerm", "")
    service = catalog.PUBLICATION_SERVICE
    return paged(
        request,
        [service] if _matches(term, service["displayName"], service["organizationRor"]) else [],
    )


def profiles(request: HttpRequest, user: User) -> HttpResponse:
    term = request.GET.get("SearchTerm", "")
    items = [
        {
            "uri": p.uri,
            "displayName": p.name,
            "description": p.description or None,
            "definition": None,
        }
        for p in profiles_store.all_profiles()
        if _matches(term, p.name, p.uri, p.description)
    ]
    return paged(request, items)


def _profile_or_404(encoded: str) -> profiles_store.Profile:
    found = profiles_store.profile(encoded)
    if found is None:
        raise ApiError(empty(404))
    return found


def profile(request: HttpRequest, user: User, encoded: str) -> HttpResponse:
    found = _profile_or_404(encoded)
    fmt = request.GET.get("format", "text/turtle")
    content = found.turtle
    if fmt == "application/ld+json":
        content = (
            profiles_store.Graph()
            .parse(data=found.turtle, format="turtle")
            .serialize(format="json-ld")
        )
    return ok(
        {
            "uri": found.uri,
            "displayName": found.name,
            "description": found.description or None,
            "definition": {"content": content, "type": fmt},
        }
    )


def profile_raw(request: HttpRequest, user: User, encoded: str) -> HttpResponse:
    found = _profile_or_404(encoded)
    return HttpResponse(found.turtle, content_type="text/turtle; charset=utf-8")


def vocabulary_instances(request: HttpRequest, user: User) -> HttpResponse:
    class_uri = request.GET.get("Class", "")
    if not class_uri:
        raise ApiError(problem(400, errors={"Class": ["The Class field is required."]}))
    return paged(request, profiles_store.instances(class_uri))


def _pid_resource(prefix: str, suffix: str) -> Resource | Project | None:
    if prefix != "21.11102":
        return None
    try:
        key = uuid.UUID(suffix)
    except ValueError:
        return None
    return Resource.objects.filter(uuid=key).first() or Project.objects.filter(uuid=key).first()


def _pid(prefix: str, suffix: str) -> tuple[dict[str, Any], Resource | Project]:
    """PidDto; 404 for an unknown PID, 410 once its resource is deleted."""
    entity = _pid_resource(prefix, suffix)
    if entity is None:
        raise ApiError(problem(404, "Not Found", detail=f"The PID {prefix}/{suffix} is unknown."))
    if isinstance(entity, Resource) and entity.deleted:
        raise ApiError(
            problem(
                410,
                "Gone",
                detail=f"The PID {prefix}/{suffix} is no longer valid: its resource was deleted.",
            )
        )
    kind = "resource" if isinstance(entity, Resource) else "project"
    dto = {
        "prefix": prefix,
        "suffix": suffix,
        "identifier": f"{prefix}/{suffix}",
        "type": kind,
        "isEntityValid": True,
    }
    return dto, entity


def pid(request: HttpRequest, user: User, prefix: str, suffix: str) -> HttpResponse:
    return ok(_pid(prefix, suffix)[0])


def handle(request: HttpRequest, user: User, prefix: str, suffix: str) -> HttpResponse:
    dto, entity = _pid(prefix, suffix)
    host = request.get_host()
    if isinstance(entity, Resource):
        page = f"http://{host}/coscine/p/{entity.project.slug}/r/{entity.uuid}/-/"
    else:
        page = f"http://{host}/coscine/p/{entity.slug}/"
    values = [
        {
            "idx": 1,
            "type": "URL",
            "parsed_data": page,
            "data": page,
            "timestamp": dtos.iso(entity.created),
            "ttl_type": 0,
            "ttl": 86400,
            "refs": [],
            "privs": "rwr-",
        },
    ]
    return ok({"pid": dto, "values": values})


def publication_request(request: HttpRequest, user: User, project_id: str) -> HttpResponse:
    found = find_project(user, project_id)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ApiError(
            problem(400, errors={"$": ["The JSON value could not be converted."]})
        ) from None
    errors = _publication_errors(found, body)
    if errors:
        raise ApiError(problem(400, errors=errors))
    made = PublicationRequest.objects.create(
        project=found,
        creator=user,
        service_ror=body["publicationServiceRorId"],
        resource_ids=[str(r) for r in body["resourceIds"]],
        message=body.get("message") or "",
    )
    return ok(
        {
            "id": str(made.uuid),
            "project": {"id": str(found.uuid)},
            "publicationServiceRorId": made.service_ror,
            "creator": {"id": str(user.uuid)},
            "dateCreated": dtos.iso(made.created),
            "message": made.message or None,
            "resources": [{"id": r} for r in made.resource_ids],
        },
        status=201,
    )


def _publication_errors(found: Project, body: Any) -> dict[str, list[str]]:
    if not isinstance(body, dict):
        return {"$": ["A JSON object is required."]}
    errors: dict[str, list[str]] = {}
    if body.get("publicationServiceRorId") != catalog.PUBLICATION_SERVICE["organizationRor"]:
        errors["PublicationServiceRorId"] = ["No publication service is known for this ROR id."]
    ids = body.get("resourceIds")
    known = {str(r.uuid) for r in found.resources.filter(deleted=False)}
    if not isinstance(ids, list) or not ids or not {str(i) for i in ids} <= known:
        errors["ResourceIds"] = ["Name at least one resource of this project."]
    return errors
