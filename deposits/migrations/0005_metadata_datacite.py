"""Deposit metadata from Zenodo's legacy vocabulary to the DataCite 4.5 record.

Forward, every legacy key finds its DataCite place or a documented extension
(deposits/metadata/__init__.py), so nothing is lost: the editor shows the same values and
Zenodo is sent the same payload (tests/test_metadata_migration.py). Backward gives the
legacy shape again, with Zenodo's relation spelling ("isSupplementTo").

The conversion is the editor's (``deposits.metadata.editing``): the legacy shape is the
editor's flat view, so one piece of code maps both. A later change to that view must keep
reading the legacy keys, or freeze a copy here first.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from deposits.metadata.editing import to_record, to_view

# Keys only the DataCite record has; a deposit with any of them is migrated already.
DATACITE_KEYS = ("titles", "types", "descriptions", "rightsList", "publicationYear")


def is_record(metadata: dict[str, Any]) -> bool:
    return any(key in metadata for key in DATACITE_KEYS)


def forward_metadata(legacy: dict[str, Any]) -> dict[str, Any]:
    return legacy if is_record(legacy) else to_record(legacy)


def backward_metadata(record: dict[str, Any]) -> dict[str, Any]:
    if not is_record(record):
        return record
    legacy = to_view(record)
    for row in legacy.get("related_identifiers") or []:
        relation = str(row.get("relation") or "")
        row["relation"] = relation[:1].lower() + relation[1:]
    return legacy


def _convert(apps: Any, convert: Any) -> None:
    Deposit = apps.get_model("deposits", "Deposit")
    for deposit in Deposit.objects.only("pk", "metadata").iterator():
        new = convert(deposit.metadata or {})
        if new != deposit.metadata:
            Deposit.objects.filter(pk=deposit.pk).update(metadata=new)


def forward(apps: Any, schema_editor: Any) -> None:
    _convert(apps, forward_metadata)


def backward(apps: Any, schema_editor: Any) -> None:
    _convert(apps, backward_metadata)


class Migration(migrations.Migration):
    dependencies = [("deposits", "0004_kind_from_registry")]

    operations = [migrations.RunPython(forward, backward)]
