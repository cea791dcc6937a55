"""The data migration to DataCite records, run for real on the database: forward it
loses nothing (the editor shows the same fields, Zenodo is sent the same payload),
backward it gives the legacy metadata back."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from deposits.metadata import to_view
from deposits.repositories.zenodo.crosswalk import to_zenodo
from tests.metadata.test_record import EXAMPLES, normalised

BEFORE = [("deposits", "0004_kind_from_registry")]
AFTER = [("deposits", "0005_metadata_datacite")]


def legacy(view: dict[str, Any]) -> dict[str, Any]:
    """A deposit's metadata as stored before: Zenodo's spelling of relations."""
    out = copy.deepcopy(view)
    for row in out.get("related_identifiers", []):
        row["relation"] = row["relation"][:1].lower() + row["relation"][1:]
    return out


def migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_converts_every_deposit_and_back() -> None:
    old_apps = migrate(BEFORE)
    Team = old_apps.get_model("deposits", "Team")
    Deposit = old_apps.get_model("deposits", "Deposit")
    team = Team.objects.create(name="Hydro", slug="hydro")
    stored = {
        name: Deposit.objects.create(team=team, title=name, metadata=legacy(view)).pk
        for name, view in EXAMPLES.items()
    }
    untouched = Deposit.objects.create(team=team, title="empty", metadata={}).pk
    try:
        new_apps = migrate(AFTER)
        NewDeposit = new_apps.get_model("deposits", "Deposit")
        for name, pk in stored.items():
            record = NewDeposit.objects.get(pk=pk).metadata
            assert "titles" in record and "title" not in record, name
            assert to_view(record) == normalised(EXAMPLES[name]), name
        assert NewDeposit.objects.get(pk=untouched).metadata == {}
        # Zenodo receives what it received before the migration (the crosswalk test holds
        # the full payload of the every-field example; the relation is Zenodo's spelling)
        payload = to_zenodo(NewDeposit.objects.get(pk=stored["every-field"]).metadata)
        assert payload["related_identifiers"][0]["relation"] == "isSupplementTo"
        assert payload["thesis_supervisors"][0]["orcid"] == "0000-0002-1694-233X"

        back_apps = migrate(BEFORE)
        OldDeposit = back_apps.get_model("deposits", "Deposit")
        for name, pk in stored.items():
            assert OldDeposit.objects.get(pk=pk).metadata == legacy(normalised(EXAMPLES[name]))
    finally:
        migrate([("deposits", max_migration())])


def max_migration() -> str:
    executor = MigrationExecutor(connection)
    leaves = [name for app, name in executor.loader.graph.leaf_nodes() if app == "deposits"]
    return leaves[0]
