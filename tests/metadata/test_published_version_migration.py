"""Migration 0006, run for real: a target published before it remembers its published
version (the deposit's description, options, files and remote record), so the page can
say what is not sent yet and a discarded new-version draft has a record to return to."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.metadata.test_migration import max_migration, migrate

BEFORE = [("deposits", "0005_metadata_datacite")]
AFTER = [("deposits", "0006_published_version")]


@pytest.mark.django_db(transaction=True)
def test_published_targets_remember_what_they_were_published_with() -> None:
    old = migrate(BEFORE)
    team = old.get_model("deposits", "Team").objects.create(name="Hydro", slug="hydro")
    account = old.get_model("deposits", "LinkedAccount").objects.create(
        team=team, kind="zenodo", label="Zenodo", base_url="https://zenodo.org/api"
    )
    Deposit = old.get_model("deposits", "Deposit")
    metadata = {"titles": [{"title": "Soil"}], "version": "v1.0"}
    published = Deposit.objects.create(team=team, title="Soil", metadata=metadata)
    draft = Deposit.objects.create(team=team, title="Draft", metadata={})
    old.get_model("deposits", "DepositFile").objects.create(
        deposit=published, uid="00000000-0000-0000-0000-000000000001", name="data.csv",
        size=12, md5="a" * 32, status="ready",
    )  # fmt: skip
    Target = old.get_model("deposits", "Target")
    links = {"record_html": "https://zenodo.org/records/7"}
    done = Target.objects.create(
        deposit=published, account=account, state="published", remote_id="7",
        remote_state="done", remote_links=links, options={"communities": ["eco"]},
        published_at=timezone.now(),
    )  # fmt: skip
    fresh = Target.objects.create(deposit=draft, account=account, state="draft")
    try:
        new = migrate(AFTER).get_model("deposits", "Target")
        snapshot = new.objects.get(pk=done.pk).published_version
        assert snapshot["remote_id"] == "7" and snapshot["remote_links"] == links
        assert snapshot["metadata"] == metadata and snapshot["version"] == "v1.0"
        assert snapshot["options"] == {"communities": ["eco"]}
        assert snapshot["files"] == [{"name": "data.csv", "size": 12, "md5": "a" * 32}]
        assert new.objects.get(pk=fresh.pk).published_version == {}
    finally:
        migrate([("deposits", max_migration())])
