"""Submission validation, shared by ``POST /presubvalidation`` and ``POST /submissions``.

Follows notes-datameta.md §22-§23 and the order of checks the exchanges show:

1. nothing given: ``Neither data nor metadata provided in submission.`` (#61);
2. unknown or foreign ids: ``Not found`` / ``Access denied``, with the id you sent echoed
   as both ``site`` and ``uuid``; these short-circuit (#60, #89);
3. files vs metadata: ``No data uploaded``, ``Already submitted`` (#64), duplicate names,
   ``File included without reference in metadata`` (#59), ``Referenced file not
   provided`` (#58) -- files match metadata by *file name == value of the isFile field*;
4. every metadataset's record against the definitions (a record saved before a
   definition changed can fail here);
5. uniqueness: ``Violation of intra-submission unique constraint`` (#69) for submission-
   and site-unique fields, ``Violation of global unique constraint`` (#66) against
   *submitted* records only.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q

from . import records
from .models import File, MetaDataSet, MetaDatum, MetaDatumRecord, User
from .responses import ApiError, error, error_list


def by_id[M: Model](model: type[M], given: str) -> M | None:
    """Ids in paths and bodies may be the UUID or the site id (notes §10)."""
    try:
        return model._default_manager.filter(uuid=uuid.UUID(given)).first()
    except ValueError:
        if not hasattr(model, "site_id"):
            return None  # keys and definitions have no site id (notes §10)
        return model._default_manager.filter(site_id=given).first()


def unique_ids(given: list[str]) -> list[str]:
    return list(dict.fromkeys(given))


@dataclass
class Checked:
    files: dict[str, File]
    msets: dict[str, MetaDataSet]
    # File name -> the record naming it; these records get linked on submission.
    references: dict[str, MetaDatumRecord]


def check(user: User, file_ids: list[str], mset_ids: list[str]) -> Checked:
    """Validate a submission request; raise ApiError with every problem found."""
    found_files = {given: by_id(File, given) for given in unique_ids(file_ids)}
    found_msets = {given: by_id(MetaDataSet, given) for given in unique_ids(mset_ids)}
    if not found_files and not found_msets:
        message = "Neither data nor metadata provided in submission."
        raise ApiError(error_list([error(message)]))
    check_access(user, found_files, found_msets)
    files = {given: f for given, f in found_files.items() if f is not None}
    msets = {given: m for given, m in found_msets.items() if m is not None}

    problems, references = check_association(files, msets)
    metadata = records.regular_metadata()
    for mset in msets.values():
        stored = {
            r.metadatum.name: r.value for r in _records(mset) if r.metadatum.service_id is None
        }
        problems += [
            error(p["message"], field=p["field"], entity=mset.identifier())
            for p in records.validate(metadata, stored, rendered=True)
        ]
    problems += _check_uniqueness(msets)
    if problems:
        raise ApiError(error_list(problems))
    return Checked(files=files, msets=msets, references=references)


def _records(mset: MetaDataSet) -> list[MetaDatumRecord]:
    return list(mset.records.select_related("metadatum", "metadataset"))


def check_access(
    user: User, files: dict[str, File | None], msets: dict[str, MetaDataSet | None]
) -> None:
    """Unknown and foreign ids end validation early, to hide what others have (#60, #89)."""
    problems: list[dict[str, Any]] = []
    for found in (files, msets):
        echo = {given: {"site": given, "uuid": given} for given in found}
        problems += [error("Not found", entity=echo[g]) for g, obj in found.items() if obj is None]
        problems += [
            error("Access denied", entity=echo[g])
            for g, obj in found.items()
            if obj is not None and obj.user_id != user.pk
        ]
    if problems:
        raise ApiError(error_list(problems))


def check_association(
    files: dict[str, File], msets: dict[str, MetaDataSet], *, ignore_submitted: bool = False
) -> tuple[list[dict[str, Any]], dict[str, MetaDatumRecord]]:
    """Problems linking files to metadata, and the file name -> referencing record map.

    A service execution (``ignore_submitted``) adds files to an already submitted set.
    """
    problems: list[dict[str, Any]] = []
    problems += [
        error("No data uploaded", entity=f.identifier())
        for f in files.values()
        if not f.content_uploaded
    ]
    problems += [
        error("Already submitted", entity=f.identifier())
        for f in files.values()
        if f.records.exists()
    ]
    problems += [
        error("Already submitted", entity=m.identifier())
        for m in msets.values()
        if m.submission_id is not None and not ignore_submitted
    ]
    by_name: dict[str, list[File]] = defaultdict(list)
    for f in files.values():
        by_name[f.name].append(f)
    for same in by_name.values():
        if len(same) > 1:
            message = "Filename occurs multiple times among provided files"
            problems += [error(message, entity=f.identifier()) for f in same]

    # Records already linked to a file (submitted ones) no longer reference anything (#64).
    referencing = [
        r
        for m in msets.values()
        for r in _records(m)
        if r.metadatum.isfile and r.value and r.file_id is None
    ]
    counts = Counter(r.value for r in referencing)
    problems += [
        error(
            "Filename occurs multiple times in metadata",
            field=r.metadatum.name,
            entity=r.metadataset.identifier(),
        )
        for r in referencing
        if counts[r.value] > 1
    ]
    references = {r.value or "": r for r in referencing}
    problems += [
        error("File included without reference in metadata", entity=f.identifier())
        for f in files.values()
        if f.name not in references
    ]
    problems += [
        error(
            "Referenced file not provided",
            field=r.metadatum.name,
            entity=r.metadataset.identifier(),
        )
        for name, r in references.items()
        if name not in by_name
    ]
    return problems, references


def _check_uniqueness(msets: dict[str, MetaDataSet]) -> list[dict[str, Any]]:
    """Intra-submission first (site-unique fields are submission-unique too), then site-wide."""
    problems: list[dict[str, Any]] = []
    unique = MetaDatum.objects.filter(Q(submission_unique=True) | Q(site_unique=True))
    holders = {m.name: _holders(m, msets) for m in unique}
    for name, by_value in holders.items():
        problems += [
            error(
                "Violation of intra-submission unique constraint", field=name, entity=m.identifier()
            )
            for same in by_value.values()
            if len(same) > 1
            for m in same
        ]
    for metadatum in unique.filter(site_unique=True):
        by_value = holders[metadatum.name]
        taken = set(
            MetaDatumRecord.objects.filter(
                metadatum=metadatum,
                metadataset__submission__isnull=False,
                value__in=[v for v in by_value if v is not None],
            ).values_list("value", flat=True)
        )
        problems += [
            error(
                "Violation of global unique constraint", field=metadatum.name, entity=m.identifier()
            )
            for value, same in by_value.items()
            if value in taken
            for m in same
        ]
    return problems


def _holders(
    metadatum: MetaDatum, msets: dict[str, MetaDataSet]
) -> dict[str | None, list[MetaDataSet]]:
    """Which metadatasets hold which value of ``metadatum`` (None counts as a value, as there)."""
    by_value: dict[str | None, list[MetaDataSet]] = defaultdict(list)
    for mset in msets.values():
        for record in _records(mset):
            if record.metadatum_id == metadatum.pk:
                by_value[record.value].append(mset)
    return by_value
