"""Coscine's fixed catalogue as the sandbox serves it: resource types, visibilities,
disciplines, licences, organisations and a publication advisory service.

Ids are fixed UUIDs so that tests, the demo and linked accounts can name them.
"""

from __future__ import annotations

from typing import Any

ORGANIZATION_ROR = "https://ror.org/04xfq0f34"  # RWTH Aachen University
ORGANIZATION_NAME = "RWTH Aachen University"
OTHER_ROR = "https://ror.org/02nv7yv05"
BASE_PROFILE = "https://purl.org/coscine/ap/base/"
GIB = "https://qudt.org/vocab/unit/GibiBYTE"

# general type -> the type's facts; quota in GiB per project (None: not quota-bound).
RESOURCE_TYPES: dict[str, dict[str, Any]] = {
    "rds": {
        "id": "b1b2c3d4-0000-4000-8000-000000000001",
        "specificType": "rdsrwth",
        "canCreate": True,
        "isEnabled": True,
        "status": "active",
        "allocated": 10,
        "maximum": 100,
        "options_key": "rdsResourceTypeOptions",
    },
    "rdss3": {
        "id": "b1b2c3d4-0000-4000-8000-000000000002",
        "specificType": "rdss3rwth",
        "canCreate": True,
        "isEnabled": True,
        "status": "active",
        "allocated": 5,
        "maximum": 50,
        "options_key": "rdsS3ResourceTypeOptions",
    },
    "linked": {
        "id": "b1b2c3d4-0000-4000-8000-000000000003",
        "specificType": "linked",
        "canCreate": False,
        "isEnabled": True,
        "status": "active",
        "allocated": None,
        "maximum": None,
        "options_key": "linkedResourceTypeOptions",
    },
    "gitlab": {
        "id": "b1b2c3d4-0000-4000-8000-000000000004",
        "specificType": "gitlab",
        "canCreate": False,
        "isEnabled": False,
        "status": "hidden",
        "allocated": None,
        "maximum": None,
        "options_key": "gitlabResourceTypeOptions",
    },
}

VISIBILITIES: list[dict[str, Any]] = [
    {"id": "8ab9c883-eb0d-4402-aaad-2e4007badce6", "displayName": "Public"},
    {"id": "9f4ff3a7-9a4c-4ac2-bf01-6bd4e3a8d62f", "displayName": "Project Members"},
]

DISCIPLINES: list[dict[str, Any]] = [
    {
        "id": "c3a1f0e2-0000-4000-8000-000000000101",
        "uri": "http://www.dfg.de/dfg_profil/gremien/fachkollegien/liste/index.jsp?id=101",
        "displayNameEn": "Ancient Cultures",
        "displayNameDe": "Alte Kulturen",
    },
    {
        "id": "c3a1f0e2-0000-4000-8000-000000000201",
        "uri": "http://www.dfg.de/dfg_profil/gremien/fachkollegien/liste/index.jsp?id=201",
        "displayNameEn": "Basic Research in Biology and Medicine",
        "displayNameDe": "Grundlagen der Biologie und Medizin",
    },
    {
        "id": "c3a1f0e2-0000-4000-8000-000000000307",
        "uri": "http://www.dfg.de/dfg_profil/gremien/fachkollegien/liste/index.jsp?id=307",
        "displayNameEn": "Condensed Matter Physics",
        "displayNameDe": "Physik der kondensierten Materie",
    },
    {
        "id": "c3a1f0e2-0000-4000-8000-000000000409",
        "uri": "http://www.dfg.de/dfg_profil/gremien/fachkollegien/liste/index.jsp?id=409",
        "displayNameEn": "Computer Science",
        "displayNameDe": "Informatik",
    },
]

LICENSES: list[dict[str, Any]] = [
    {
        "id": "d4e5f6a7-0000-4000-8000-000000000001",
        "displayName": "Creative Commons Attribution 4.0 International",
        "url": "https://creativecommons.org/licenses/by/4.0/",
    },
    {
        "id": "d4e5f6a7-0000-4000-8000-000000000002",
        "displayName": "Creative Commons Zero v1.0 Universal",
        "url": "https://creativecommons.org/publicdomain/zero/1.0/",
    },
    {
        "id": "d4e5f6a7-0000-4000-8000-000000000003",
        "displayName": "MIT License",
        "url": "https://opensource.org/licenses/MIT",
    },
]

PUBLICATION_SERVICE: dict[str, Any] = {
    "displayName": "RWTH Publication Advisory Service",
    "email": "publications@ub.rwth-aachen.de",
    "description": "The University Library advises on publishing research data.",
    "organizationRor": ORGANIZATION_ROR,
}

ORGANIZATIONS: list[dict[str, Any]] = [
    {
        "uri": ORGANIZATION_ROR,
        "displayName": ORGANIZATION_NAME,
        "email": "servicedesk@rwth-aachen.de",
        "publicationAdvisoryService": PUBLICATION_SERVICE,
    },
    {"uri": OTHER_ROR, "displayName": "Universität zu Köln", "email": None},
]


def type_by_id(type_id: str) -> str | None:
    for key, facts in RESOURCE_TYPES.items():
        if facts["id"] == type_id:
            return key
    return None


def by_id(items: list[dict[str, Any]], item_id: str) -> dict[str, Any] | None:
    return next((item for item in items if item["id"] == item_id), None)
