"""The sandbox's rows as the spec's DTOs (UserDto, ProjectDto, ResourceDto, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import catalog, s3
from .models import Project, Resource, User

GIB_BYTES = 1024**3


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def user_dto(user: User) -> dict[str, Any]:
    return {
        "id": str(user.uuid),
        "displayName": user.display_name,
        "givenName": user.display_name.split(" ")[0],
        "familyName": user.display_name.split(" ")[-1],
        "emails": [{"email": user.email, "isConfirmed": True, "isPrimary": True}],
        "title": None,
        "language": {
            "id": "5b0a6c6e-0000-4000-8000-0000000000e1",
            "displayName": "English",
            "abbreviation": "en",
        },
        "areToSAccepted": True,
        "latestActivity": None,
        "disciplines": [],
        "organizations": [
            {
                "uri": catalog.ORGANIZATION_ROR,
                "displayName": catalog.ORGANIZATION_NAME,
                "email": None,
                "readOnly": True,
            }
        ],
        "identities": [],
        "roles": [],
        "dataProcessingConsentAt": None,
    }


def _organization(ror: str) -> dict[str, Any]:
    found = next((o for o in catalog.ORGANIZATIONS if o["uri"] == ror), None) or {
        "uri": ror,
        "displayName": ror,
    }
    return {
        "uri": ror,
        "displayName": found["displayName"],
        "email": found.get("email"),
        "responsible": True,
    }


def project_dto(
    project: Project, *, with_children: bool = False, with_organizations: bool = True
) -> dict[str, Any]:
    dto: dict[str, Any] = {
        "id": str(project.uuid),
        "pid": f"21.11102/{project.uuid}",
        "name": project.name,
        "description": project.description,
        "startDate": iso(project.created),
        "endDate": iso(project.created.replace(year=project.created.year + 3)),
        "keywords": [],
        "displayName": project.display_name,
        "principleInvestigators": None,
        "grantId": None,
        "visibility": catalog.VISIBILITIES[1],
        "disciplines": [catalog.DISCIPLINES[0]],
        "organizations": [_organization(project.organization)] if with_organizations else [],
        "slug": project.slug,
        "creator": {"id": str(project.owner.uuid)},
        "creationDate": iso(project.created),
        "subProjects": [],
        "parent": {"id": str(project.parent.uuid)} if project.parent else None,
    }
    if with_children:
        dto["subProjects"] = [project_dto(child) for child in project.children.order_by("slug")]
    return dto


def quota(value: float, unit: str = catalog.GIB) -> dict[str, Any]:
    return {"value": value, "unit": unit}


def type_dto(resource: Resource, *, with_options: bool) -> dict[str, Any]:
    facts = catalog.RESOURCE_TYPES[resource.type_key]
    dto: dict[str, Any] = {
        "id": facts["id"],
        "generalType": resource.type_key,
        "specificType": facts["specificType"],
        "options": {},
    }
    if not with_options:
        return dto
    if resource.type_key == "rdss3":
        dto["options"] = {
            "rdsS3": {
                "bucketName": resource.bucket,
                "accessKeyRead": s3.READ_KEYS[0],
                "secretKeyRead": s3.READ_KEYS[1],
                "accessKeyWrite": s3.WRITE_KEYS[0],
                "secretKeyWrite": s3.WRITE_KEYS[1],
                "endpoint": s3.endpoint(),
                "size": quota(resource.quota_gib),
            }
        }
    elif resource.type_key == "rds":
        dto["options"] = {
            "rds": {"bucketName": str(resource.uuid), "size": quota(resource.quota_gib)}
        }
    return dto


def resource_dto(resource: Resource, *, with_options: bool = False) -> dict[str, Any]:
    license_ = catalog.by_id(catalog.LICENSES, resource.license_id)
    return {
        "id": str(resource.uuid),
        "pid": resource.pid,
        "type": type_dto(resource, with_options=with_options),
        "name": resource.name,
        "displayName": resource.display_name,
        "description": resource.description,
        "keywords": resource.keywords,
        "license": license_,
        "usageRights": resource.usage_rights or None,
        "metadataLocalCopy": False,
        "metadataExtraction": False,
        "applicationProfile": {"uri": resource.profile_uri},
        "fixedValues": resource.fixed_values,
        "disciplines": [d for d in catalog.DISCIPLINES if d["id"] in resource.discipline_ids],
        "visibility": catalog.by_id(catalog.VISIBILITIES, resource.visibility_id),
        "dateCreated": iso(resource.created),
        "creator": {"id": str(resource.creator.uuid)},
        "archived": resource.archived,
        "maintenanceMode": False,
        "projects": [{"id": str(resource.project.uuid)}],
    }


def used_gib(project: Project, type_key: str) -> int:
    live = project.resources.filter(type_key=type_key, deleted=False)
    return sum(r.quota_gib for r in live)


def type_information(project: Project, type_key: str) -> dict[str, Any]:
    facts = catalog.RESOURCE_TYPES[type_key]
    quota_bound = facts["allocated"] is not None
    available = quota_bound and used_gib(project, type_key) < facts["allocated"]
    return {
        "id": facts["id"],
        "generalType": type_key,
        "specificType": facts["specificType"],
        "status": facts["status"],
        "canCreate": facts["canCreate"],
        "canRead": True,
        "canSetResourceReadonly": True,
        "canUpdate": type_key != "linked",
        "canUpdateResource": True,
        "canDelete": True,
        "canDeleteResource": True,
        "canList": True,
        "canCreateLinks": type_key == "linked",
        "canCopyLocalMetadata": False,
        "isArchived": False,
        "isQuotaAvailable": bool(available),
        "isQuotaAdjustable": quota_bound,
        "supportsVersioning": False,
        "isEnabled": facts["isEnabled"],
        "resourceCreation": {"components": []},
        "resourceContent": {"readOnly": False, "metadataView": {}, "entriesView": {}},
    }


def project_quota(project: Project, type_key: str) -> dict[str, Any]:
    facts = catalog.RESOURCE_TYPES[type_key]
    resources = project.resources.filter(type_key=type_key, deleted=False)
    used = used_gib(project, type_key)
    return {
        "projectId": str(project.uuid),
        "totalUsed": quota(used),
        "totalReserved": quota(used),
        "allocated": quota(facts["allocated"]),
        "maximum": quota(facts["maximum"]),
        "resourceType": {"id": facts["id"], "specificType": facts["specificType"]},
        "resourceQuotas": [
            {
                "resource": {"id": str(r.uuid)},
                "usedPercentage": 0.0,
                "used": quota(0),
                "versions": quota(0),
                "reserved": quota(r.quota_gib),
            }
            for r in resources
        ],
    }
