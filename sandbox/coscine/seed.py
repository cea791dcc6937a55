"""The Coscine the sandbox starts with: one user, two top-level projects of theirs (the
first with a sub-project) and a project of someone else's (to see an empty 403).

Seeding runs on first use (each API request checks one row), like the DataMeta
sandbox's, because test databases are flushed between transactional tests. Every step is
get-or-create, so two first requests racing each other both find the rows there.
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction

from .catalog import ORGANIZATION_ROR, OTHER_ROR
from .models import Project, User

SANDBOX_USER = "sandbox-user"
OTHER_USER = "someone-else"
PROJECTS = [
    # slug, uuid, name, display name, parent slug
    ("soil-lab", "a0000000-0000-4000-8000-000000000001", "Soil Laboratory", "Soil Lab", None),
    (
        "soil-lab-field",
        "a0000000-0000-4000-8000-000000000002",
        "Soil Laboratory: field campaign 2026",
        "Field 2026",
        "soil-lab",
    ),
    ("imaging", "a0000000-0000-4000-8000-000000000003", "Imaging Core Facility", "Imaging", None),
]
FOREIGN_PROJECT = ("closed-lab", "a0000000-0000-4000-8000-000000000009")


def ensure_seeded() -> None:
    if Project.objects.filter(slug=FOREIGN_PROJECT[0]).exists():
        return
    try:
        with transaction.atomic():
            seed()
    except IntegrityError:
        pass  # a concurrent first request seeded first


def seed() -> None:
    owner = user(SANDBOX_USER)
    for slug, project_id, name, display, parent_slug in PROJECTS:
        parent = Project.objects.get(slug=parent_slug) if parent_slug else None
        Project.objects.get_or_create(
            slug=slug,
            defaults={
                "uuid": uuid.UUID(project_id),
                "name": name,
                "display_name": display,
                "description": f"{name}: data of the sandbox.",
                "owner": owner,
                "parent": parent,
                "organization": ORGANIZATION_ROR,
            },
        )
    other = user(OTHER_USER)
    Project.objects.get_or_create(
        slug=FOREIGN_PROJECT[0],
        defaults={
            "uuid": uuid.UUID(FOREIGN_PROJECT[1]),
            "name": "A project you are not a member of",
            "display_name": "Closed",
            "description": "Someone else's.",
            "owner": other,
            "organization": OTHER_ROR,
        },
    )


def user(name: str) -> User:
    """The sandbox user called ``name``, created on first use."""
    found = User.objects.filter(name=name).first()
    if found is not None:
        return found
    return User.objects.create(
        name=name, display_name=name.replace("-", " ").title(), email=f"{name}@sandbox.example.org"
    )
