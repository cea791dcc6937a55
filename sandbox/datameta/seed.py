"""The site the sandbox starts with: the users, groups and metadata of notes-datameta.md.

Seeding runs on first use (each API request checks one row) rather than in a data
migration, because test databases are flushed between transactional tests and a
migration would not run again. Every step is get-or-create, so it is idempotent and two
first requests racing each other at worst both find the rows already there.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from .models import Group, MetaDatum, Service, User

ADMIN_EMAIL = "admin@example.org"
ADMIN_PASSWORD = "Adm1n!Passw0rd"  # as in exchanges #6-#9
SUBMITTER_EMAIL = "submitter@example.org"
SUBMITTER_PASSWORD = "Subm1tter!Passw0rd"
SERVICE_EMAIL = "accession-service@example.org"
SERVICE_PASSWORD = "Serv1ce!Passw0rd"
SANDBOX_GROUP = "Sandbox Lab"
ACCESSION_SERVICE = "accession-service"
ACCESSION_FIELD = "AccessionNumber"

# The five definitions of the notes' table (exchanges #14-#18), plus one service field.
METADATA: list[dict[str, Any]] = [
    {
        "name": "SampleID",
        "regex_description": "Two uppercase letters followed by two digits, e.g. AB12",
        "long_description": "Site-wide unique sample identifier",
        "example": "AB12",
        "regexp": "^[A-Z]{2}[0-9]{2}$",
        "mandatory": True,
        "order": 100,
        "site_unique": True,
    },
    {
        "name": "ZIPCode",
        "regex_description": "ZIP code: exactly three digits",
        "example": "149",
        "regexp": "^[0-9]{3}$",
        "mandatory": True,
        "order": 200,
        "submission_unique": True,
    },
    {
        "name": "Date",
        "long_description": "Sampling date",
        "example": "2021-03-29",
        "datetimefmt": "%Y-%m-%d",
        "order": 300,
    },
    # No regexDescription on purpose: a mismatch makes the real server answer 500 (#25).
    {"name": "Lane", "example": "L1", "regexp": "^L[0-9]$", "order": 350},
    {
        "name": "FileR1",
        "long_description": "Read 1 FASTQ",
        "example": "AB12_R1.fastq.gz",
        "mandatory": True,
        "order": 400,
        "isfile": True,
    },
]
ACCESSION_METADATUM: dict[str, Any] = {
    "name": ACCESSION_FIELD,
    "regex_description": "ENA sample accession, e.g. ERS0000001",
    "long_description": "Filled in by the accession service after submission",
    "example": "ERS0000001",
    "regexp": "^ERS[0-9]{7}$",
    "mandatory": True,
    "order": 500,
}


def ensure_seeded() -> None:
    """Create the seed rows unless the metadata definitions already exist."""
    if MetaDatum.objects.filter(name="SampleID").exists():
        return
    try:
        with transaction.atomic():
            seed()
    except IntegrityError:
        # A concurrent first request seeded first; its rows are what we wanted.
        pass


def seed() -> None:
    reference = _group("Reference Lab")
    other = _group("Other Lab")
    _group(SANDBOX_GROUP)
    _user(ADMIN_EMAIL, "DataMeta Admin", reference, ADMIN_PASSWORD, admin=True)
    _user(SUBMITTER_EMAIL, "Plain Submitter", other, SUBMITTER_PASSWORD)
    robot = _user(SERVICE_EMAIL, "Accession Service", reference, SERVICE_PASSWORD)
    service = Service.objects.filter(name=ACCESSION_SERVICE).first()
    if service is None:
        service = Service(name=ACCESSION_SERVICE)
        service.save()
    service.users.add(robot)
    for definition in METADATA:
        MetaDatum.objects.get_or_create(name=definition["name"], defaults=definition)
    MetaDatum.objects.get_or_create(
        name=ACCESSION_FIELD, defaults={**ACCESSION_METADATUM, "service": service}
    )


def _group(name: str) -> Group:
    group = Group.objects.filter(name=name).first()
    if group is None:
        group = Group(name=name)
        group.save()
    return group


def _user(email: str, name: str, group: Group, password: str, *, admin: bool = False) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(
            email=email,
            name=name,
            group=group,
            group_admin=admin,
            site_admin=admin,
            site_read=admin,
        )
        user.set_password(password)
        user.save()
    return user


def sandbox_user(name: str) -> User:
    """The user ``sandbox_token`` issues keys for: found by email or name, else created.

    New users join the sandbox group with siteRead, so they can watch the accession
    service's results on their submissions (service fields are visible to siteRead users
    only, as on the real server).
    """
    ensure_seeded()
    user = User.objects.filter(email=name).first() or User.objects.filter(name=name).first()
    if user is not None:
        return user
    email = name if "@" in name else f"{name}@sandbox.example.org"
    user = User(
        email=email,
        name=name,
        group=Group.objects.get(name=SANDBOX_GROUP),
        group_admin=True,
        site_read=True,
    )
    user.save()
    return user
