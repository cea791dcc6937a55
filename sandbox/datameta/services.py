"""Service executions: how a service adds its results to submitted metadatasets.

``POST /service-execution/{serviceId}/{metadatasetId}`` (datameta-rest-api.txt, "Service
Executions") lets a service's users fill in the service's fields once per metadataset.
The sandbox also plays one such service itself, ``accession-service``: it gives every
submitted metadataset an ``AccessionNumber`` after a delay (settings
``SANDBOX_DATAMETA_SERVICE_DELAY``, default 5 s, or the ``_control`` endpoint), checked
lazily whenever a request arrives, so no background worker is needed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from . import records, submission
from .models import (
    ControlState,
    File,
    MetaDataSet,
    MetaDatumRecord,
    Service,
    ServiceExecution,
    User,
)
from .responses import ApiError, error, error_list, json_reply
from .seed import ACCESSION_SERVICE

DEFAULT_DELAY = 5.0


def execute(
    request: HttpRequest,
    *,
    service: Service,
    mset: MetaDataSet,
    user: User,
    record: dict[str, Any],
    file_ids: list[str],
) -> HttpResponse:
    """Store one service's results for one metadataset (the real view's checks, in order)."""
    if ServiceExecution.objects.filter(service=service, metadataset=mset).exists():
        raise ApiError(json_reply({}, 403))
    if not service.users.filter(pk=user.pk).exists():
        raise ApiError(json_reply({}, 403))
    targets = {m.name: m for m in service.target_metadata.all()}
    values = records.as_strings(record)
    unknown = [
        error("Metadatum unknown or not associated with the specified service.", field=name)
        for name in values
        if name not in targets
    ]
    if unknown:
        raise ApiError(error_list(unknown))
    found = {given: submission.by_id(File, given) for given in submission.unique_ids(file_ids)}
    submission.check_access(user, found, {})
    problems = records.validate(targets, values)
    if problems:
        raise ApiError(error_list([error(p["message"], field=p["field"]) for p in problems]))
    with transaction.atomic():
        for name, value in records.render(targets, values).items():
            MetaDatumRecord.objects.update_or_create(
                metadataset=mset, metadatum=targets[name], defaults={"value": value}
            )
        files = {given: f for given, f in found.items() if f is not None}
        association, references = submission.check_association(
            files, {mset.site_id: mset}, ignore_submitted=True
        )
        if association:
            transaction.set_rollback(True)
            raise ApiError(error_list(association))
        by_name = {f.name: f for f in files.values()}
        for name, ref in references.items():
            MetaDatumRecord.objects.filter(pk=ref.pk).update(file=by_name[name])
        ServiceExecution.objects.create(service=service, metadataset=mset, user=user)
    return json_reply(records.metadataset_response(mset, user))


def current_delay() -> float | None:
    """Seconds after submission the accession service runs; None or negative: only on demand."""
    state = ControlState.get()
    if state.service_delay is not None:
        return state.service_delay
    delay = getattr(settings, "SANDBOX_DATAMETA_SERVICE_DELAY", DEFAULT_DELAY)
    return None if delay is None else float(delay)


def run_due(*, force: bool = False) -> int:
    """Let the accession service process submitted metadatasets that have waited long enough."""
    delay = current_delay()
    if not force and (delay is None or delay < 0):
        return 0
    service = Service.objects.filter(name=ACCESSION_SERVICE).first()
    robot = service.users.first() if service else None
    if service is None or robot is None:
        return 0
    pending = MetaDataSet.objects.filter(submission__isnull=False).exclude(
        service_executions__service=service
    )
    if not force:
        pending = pending.filter(
            submission__date__lte=timezone.now() - timedelta(seconds=delay or 0)
        )
    done = 0
    for mset in pending:
        accession = f"ERS{mset.site_id[-7:]}"
        try:
            with transaction.atomic():
                # Claimed by the unique (service, metadataset) row: a concurrent runner loses.
                ServiceExecution.objects.create(service=service, metadataset=mset, user=robot)
                for metadatum in service.target_metadata.all():
                    MetaDatumRecord.objects.update_or_create(
                        metadataset=mset, metadatum=metadatum, defaults={"value": accession}
                    )
        except IntegrityError:
            continue
        done += 1
    return done
