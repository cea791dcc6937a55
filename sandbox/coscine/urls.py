"""Coscine's API v2 routes (under ``/coscine/api/v2/``) and the ``_control`` API."""

from django.urls import path

from . import control, graphs, lookups, resources, storage
from .api import route

PROJECT = "projects/<str:project_id>"
RESOURCE = f"{PROJECT}/resources/<str:resource_id>"

api = [
    path("self", route({"GET": lookups.self_user})),
    path("self/api-tokens", route({"GET": lookups.api_tokens})),
    path("projects", route({"GET": lookups.projects})),
    path(PROJECT, route({"GET": lookups.project})),
    path(f"{PROJECT}/subprojects", route({"GET": lookups.subprojects})),
    path(f"{PROJECT}/resource-types", route({"GET": lookups.resource_types})),
    path(f"{PROJECT}/quotas", route({"GET": lookups.quotas})),
    path(f"{PROJECT}/publications/requests", route({"POST": lookups.publication_request})),
    path(f"{PROJECT}/resources", route({"GET": resources.listing, "POST": resources.create})),
    path(
        RESOURCE,
        route({"GET": resources.detail, "PUT": resources.update, "DELETE": resources.delete}),
    ),
    path(f"{RESOURCE}/storage", route({"GET": storage.listing})),
    path(
        f"{RESOURCE}/storage/<path:path>/content",
        route({"GET": storage.download, "POST": storage.upload, "PUT": storage.upload}),
    ),
    path(
        f"{RESOURCE}/storage/<path:path>",
        route({"HEAD": storage.head, "DELETE": storage.delete}),
    ),
    path(
        f"{RESOURCE}/graphs/<path:path>/metadata/content",
        route({"PUT": graphs.put_content, "GET": graphs.content}),
    ),
    path(f"{RESOURCE}/graphs/<path:path>/metadata/versions", route({"GET": graphs.versions})),
    path(f"{RESOURCE}/graphs/<path:path>/metadata", route({"GET": graphs.metadata})),
    path(f"{RESOURCE}/graphs/<path:path>", route({"GET": graphs.node, "HEAD": graphs.node})),
    path("resources/<str:resource_id>", route({"GET": resources.by_id})),
    path("visibilities", route({"GET": lookups.visibilities})),
    path("disciplines", route({"GET": lookups.disciplines})),
    path("licenses", route({"GET": lookups.licenses})),
    path("organizations", route({"GET": lookups.organizations})),
    path("publication-service", route({"GET": lookups.publication_services})),
    path("application-profiles/profiles", route({"GET": lookups.profiles})),
    path("application-profiles/profiles/<path:encoded>/raw", route({"GET": lookups.profile_raw})),
    path("application-profiles/profiles/<path:encoded>", route({"GET": lookups.profile})),
    path("vocabularies/instances", route({"GET": lookups.vocabulary_instances})),
    path("pids/<str:prefix>/<str:suffix>", route({"GET": lookups.pid})),
    path("handles/<str:prefix>/<str:suffix>", route({"GET": lookups.handle})),
]

control_urls = [
    path("faults", control.fault),
    path("tokens/expire", control.expire_tokens),
    path("resources/<str:resource_id>/delete", control.delete_resource),
    path("resources/<str:resource_id>/stored", control.stored),
    path("profiles", control.profile),
]
