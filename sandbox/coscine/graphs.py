"""Metadata graphs of a resource's files: each PUT of ``.../metadata/content`` (Turtle
or JSON-LD) is validated against the resource's application profile with pyshacl and,
if it conforms, stored as a new version. A broken graph or a violation is a 400
"Invalid or malformed RDF" whose ``errors`` map names each violated ``sh:path``.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse
from rdflib import Graph

from . import dtos, profiles_store
from .models import MetadataVersion, Resource, User
from .replies import ApiError, empty, ok, paged, problem
from .resources import find_resource

FORMATS = {"text/turtle": "turtle", "application/ld+json": "json-ld"}


def _graph(request: HttpRequest) -> Graph:
    rdf_format = FORMATS.get(request.content_type or "")
    if rdf_format is None:
        raise ApiError(
            problem(
                415, "Unsupported Media Type", detail="Send text/turtle or application/ld+json."
            )
        )
    graph = Graph()
    try:
        graph.parse(data=request.body.decode("utf-8"), format=rdf_format)
    except Exception as error:  # rdflib raises many kinds for bad input
        raise ApiError(
            problem(
                400, "Invalid or malformed RDF", detail=f"The graph could not be parsed: {error}"
            )
        ) from None
    return graph


def put_content(
    request: HttpRequest, user: User, project_id: str, resource_id: str, path: str
) -> HttpResponse:
    resource = find_resource(user, project_id, resource_id)
    key = unquote(path)
    graph = _graph(request)
    violations = profiles_store.check(resource.profile_uri, graph)
    if violations:
        errors: dict[str, list[str]] = {}
        for violation in violations:
            errors.setdefault(violation["path"] or "$", []).append(violation["message"])
        detail = "; ".join(f"{v['path'] or 'graph'}: {v['message']}" for v in violations)
        raise ApiError(problem(400, "Invalid or malformed RDF", detail=detail, errors=errors))
    first = not MetadataVersion.objects.filter(resource=resource, path=key).exists()
    version = max(int(time.time() * 1000), _latest_version(resource, key) + 1)
    MetadataVersion.objects.create(
        resource=resource, path=key, version=version, turtle=graph.serialize(format="turtle")
    )
    return empty(201 if first else 200)


def _latest_version(resource: Resource, key: str) -> int:
    latest = (
        MetadataVersion.objects.filter(resource=resource, path=key).order_by("-version").first()
    )
    return latest.version if latest else 0


def _subject(resource: Resource, key: str) -> str:
    return f"https://purl.org/coscine/resources/{resource.uuid}/{key}"


def _node(resource: Resource, version: MetadataVersion, latest: int) -> dict[str, Any]:
    return {
        "subject": f"{_subject(resource, version.path)}/@type=metadata&version={version.version}",
        "path": version.path,
        "version": str(version.version),
        "generatedAtTime": dtos.iso(version.created),
        "isInvalidated": version.version != latest,
        "isRevision": False,
        "hasVariant": False,
        "hasExtracted": False,
    }


def _versions(
    user: User, project_id: str, resource_id: str, path: str
) -> tuple[Resource, list[MetadataVersion]]:
    resource = find_resource(user, project_id, resource_id)
    versions = list(MetadataVersion.objects.filter(resource=resource, path=unquote(path)))
    if not versions:
        raise ApiError(empty(404))
    return resource, versions


def metadata(
    request: HttpRequest, user: User, project_id: str, resource_id: str, path: str
) -> HttpResponse:
    resource, versions = _versions(user, project_id, resource_id, path)
    chosen = _chosen(request, versions)
    return ok(_node(resource, chosen, versions[-1].version))


def _chosen(request: HttpRequest, versions: list[MetadataVersion]) -> MetadataVersion:
    wanted = request.GET.get("graphVersion") or request.GET.get("version")
    if not wanted:
        return versions[-1]
    found = next((v for v in versions if str(v.version) == wanted), None)
    if found is None:
        raise ApiError(empty(404))
    return found


def versions(
    request: HttpRequest, user: User, project_id: str, resource_id: str, path: str
) -> HttpResponse:
    resource, found = _versions(user, project_id, resource_id, path)
    latest = found[-1].version
    return paged(request, [_node(resource, v, latest) for v in reversed(found)])


def content(
    request: HttpRequest, user: User, project_id: str, resource_id: str, path: str
) -> HttpResponse:
    _, found = _versions(user, project_id, resource_id, path)
    chosen = _chosen(request, found)
    return HttpResponse(chosen.turtle, content_type="text/turtle; charset=utf-8")


def node(
    request: HttpRequest, user: User, project_id: str, resource_id: str, path: str
) -> HttpResponse:
    """``GET/HEAD .../graphs/{path}``: the StorageNodeDto of a path that has metadata."""
    resource, found = _versions(user, project_id, resource_id, path)
    if request.method == "HEAD":
        return empty(200)
    key = found[-1].path
    prefix, _, name = key.rpartition("/")
    return ok(
        {
            "subject": _subject(resource, key),
            "path": key,
            "prefix": prefix,
            "name": name,
            "hasMetadata": True,
            "hasData": resource.files.filter(path=key).exists() or bool(resource.bucket),
            "hasChildren": False,
            "links": {},
        }
    )
