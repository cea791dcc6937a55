"""Metadataset records: validation, rendering and the MetaDataSetResponse shape.

Implements notes-datameta.md §12-§16: values are ``str()``-converted first (#27), regular
expressions use Python's ``re.match`` (anchored at the start only, ``$`` accepts a
trailing newline, #28), the regex-failure message *is* the regexDescription (#24, or a
500 when there is none, #25), and every problem is reported at once (#26). Date fields
are stored and echoed as ISO datetimes but read back in their ``dateTimeFmt`` (#23, #30).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from .models import MetaDataSet, MetaDatum, User


def as_strings(record: dict[str, Any]) -> dict[str, str | None]:
    return {name: None if value is None else str(value) for name, value in record.items()}


def regular_metadata() -> dict[str, MetaDatum]:
    """The definitions a submitter fills in: all but the service fields."""
    return {m.name: m for m in MetaDatum.objects.filter(service__isnull=True)}


def readable_metadata(user: User, *, submitted: bool) -> dict[str, MetaDatum]:
    """Service fields are readable by siteRead users only, and only once submitted."""
    metadata = MetaDatum.objects.select_related("service")
    if not (submitted and user.site_read):
        metadata = metadata.filter(service__isnull=True)
    return {m.name: m for m in metadata}


def validate(
    metadata: dict[str, MetaDatum], record: dict[str, str | None], *, rendered: bool = False
) -> list[dict[str, str | None]]:
    """Errors as ``{"field", "message"}``; a message may be None (no regexDescription).

    ``rendered`` records (already stored) hold dates in ISO format rather than in the
    field's ``dateTimeFmt``.
    """
    errors: list[dict[str, str | None]] = []
    for name, metadatum in metadata.items():
        if name not in record:
            if metadatum.mandatory:
                errors.append(
                    {"field": name, "message": "Field was not specified but is mandatory"}
                )
            continue
        value = record[name]
        if value is None:
            if metadatum.mandatory:
                errors.append(
                    {"field": name, "message": "Field value was null, but the field is mandatory"}
                )
            continue
        if metadatum.regexp and re.match(metadatum.regexp, value) is None:
            errors.append({"field": name, "message": metadatum.regex_description})
            continue
        if metadatum.datetimefmt and not _parses(value, metadatum.datetimefmt, rendered):
            errors.append(
                {"field": name, "message": "The field could not be parsed as a valid date / time"}
            )
    errors += [
        {"field": name, "message": "The field was not expected."}
        for name in record
        if name not in metadata
    ]
    return errors


def _parses(value: str, fmt: str, rendered: bool) -> bool:
    try:
        if rendered:
            datetime.fromisoformat(value)
        else:
            datetime.strptime(value, fmt)
    except (ValueError, TypeError):
        return False
    return True


def render(metadata: dict[str, MetaDatum], record: dict[str, str | None]) -> dict[str, str | None]:
    """What is stored: absent fields as None, dates as ISO datetimes (notes §16)."""
    rendered = dict(record)
    for name, metadatum in metadata.items():
        if name not in rendered:
            rendered[name] = None
        elif rendered[name] and metadatum.datetimefmt:
            value = rendered[name] or ""
            rendered[name] = datetime.strptime(value, metadatum.datetimefmt).isoformat()
    return rendered


def display(metadatum: MetaDatum, value: str | None) -> str | None:
    """A stored value as GET shows it: dates back in their ``dateTimeFmt`` (#30)."""
    if value and metadatum.datetimefmt:
        try:
            return datetime.fromisoformat(value).strftime(metadatum.datetimefmt)
        except ValueError:
            return value
    return value


def naive_local(moment: datetime | None) -> str | None:
    """Naive local-time ISO string, how DataMeta writes ``expires`` (notes §2, §18)."""
    if moment is None:
        return None
    return timezone.localtime(moment).replace(tzinfo=None).isoformat()


def metadataset_response(mset: MetaDataSet, user: User) -> dict[str, Any]:
    """MetaDataSetResponse for GET, service execution and the submitted listing (#73, #76)."""
    submitted = mset.submission_id is not None
    readable = readable_metadata(user, submitted=submitted)
    records = [
        r for r in mset.records.select_related("metadatum", "file") if r.metadatum.name in readable
    ]
    return {
        "id": mset.identifier(),
        "record": {r.metadatum.name: display(r.metadatum, r.value) for r in records},
        "fileIds": {
            r.metadatum.name: r.file.identifier() if r.file else None
            for r in records
            if r.metadatum.isfile
        },
        "userId": mset.user.identifier(),
        "submissionId": mset.submission.identifier() if mset.submission else None,
        "serviceExecutions": service_executions(mset, readable),
    }


def service_executions(
    mset: MetaDataSet, readable: dict[str, MetaDatum]
) -> dict[str, dict[str, Any] | None] | None:
    """None unless the reader may see service fields; then one entry per service field."""
    service_fields = {name: m for name, m in readable.items() if m.service_id is not None}
    if not service_fields:
        return None
    done = {
        execution.service_id: execution
        for execution in mset.service_executions.select_related("service", "user")
    }
    result: dict[str, dict[str, Any] | None] = {}
    for name, metadatum in service_fields.items():
        execution = done.get(metadatum.service_id or 0)
        result[name] = (
            {
                "serviceExecutionId": {"uuid": str(execution.uuid)},
                # Stored as naive UTC, rendered with "+00:00" appended (as the real code does).
                "executionTime": execution.datetime.astimezone(UTC).replace(tzinfo=None).isoformat()
                + "+00:00",
                "serviceId": execution.service.identifier(),
                "userId": execution.user.identifier(),
            }
            if execution
            else None
        )
    return result
