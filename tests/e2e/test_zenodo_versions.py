"""A new version is a draft, as on Zenodo: opened with the published files carried over,
changed here, compared, then published under the same concept DOI or discarded, through
real Celery workers against the Zenodo sandbox."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import requests

from deposits import lifecycle
from deposits.lifecycle.versions import discard_local_edits, unsent_changes
from deposits.models import Action, DepositFile, Identifier, State, Target
from deposits.repositories.base import RemotePhase
from tests.e2e.zenodo_helpers import (
    control,
    counters,
    deposit_with_files,
    publish,
    remote_deposition,
    sandbox_account,
    wait_for_state,
)
from tests.factories import add_file

pytestmark = [pytest.mark.e2e]

FILES = {"data.csv": b"site,moisture\nlindenberg,0.31\n", "README.txt": b"Soil moisture.\n"}


def _published_v1(system: Any, team: Any, member: Any) -> tuple[Target, str]:
    control(system, {"wipe": True})
    account, token = sandbox_account(system, team)
    target = deposit_with_files(team, account, FILES)
    deposit = target.deposit
    deposit.metadata = {**deposit.metadata, "version": "v1.0"}
    deposit.save()
    system.start_worker()
    publish(target, member)
    wait_for_state(target, {State.PUBLISHED, State.FAILED})
    assert target.state == State.PUBLISHED, target.last_error
    return target, token


def _open_new_version(target: Target, member: Any) -> Target:
    published_id = target.remote_id
    lifecycle.request(target, Action.NEW_VERSION, user=member)
    wait_for_state(target, {State.READY, State.DRAFT, State.FAILED})
    assert target.state == State.READY, (target.last_error, target.problems)
    assert lifecycle.remote_phase(target) == RemotePhase.VERSION_DRAFT
    assert target.remote_id != published_id and target.published_version["remote_id"] == (
        published_id
    )
    return target


def _dois(target: Target) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"version": set(), "concept": set()}
    for ident in Identifier.objects.filter(target=target, scheme="doi"):
        found[ident.scope].add(ident.value)
    return found


def test_a_new_version_is_a_draft_that_is_changed_compared_and_published(live_system, team, member):
    target, token = _published_v1(live_system, team, member)
    v1_id, v1_doi = target.remote_id, next(iter(_dois(target)["version"]))
    assert not unsent_changes(target)  # what was published is what is here

    target = _open_new_version(target, member)
    draft = remote_deposition(live_system, token, target.remote_id)
    assert draft["submitted"] is False
    assert sorted(f["filename"] for f in draft["files"]) == sorted(FILES)  # carried over
    assert counters(live_system)["published"] == 1  # nothing published by opening it
    assert _dois(target)["version"] == {v1_doi}

    # The person changes the version, replaces one file, deletes one and adds one.
    deposit = target.deposit
    deposit.metadata = {**deposit.metadata, "version": "v2.0"}
    deposit.save()
    new_data = b"site,moisture\nlindenberg,0.29\n"
    DepositFile.objects.filter(deposit=deposit, name__in=["data.csv", "README.txt"]).delete()
    add_file(deposit, "data.csv", new_data)
    add_file(deposit, "probe.txt", b"probe 7\n")
    lifecycle.revalidate(deposit)
    target.refresh_from_db()

    unsent = unsent_changes(target)
    assert unsent is not None and unsent.version == "v1.0"
    assert [(c.path, c.before, c.after) for c in unsent.fields] == [("version", "v1.0", "v2.0")]
    assert {c.name: c.change for c in unsent.files} == {
        "README.txt": "removed",
        "data.csv": "replaced",
        "probe.txt": "added",
    }

    lifecycle.request(target, Action.PUBLISH_VERSION, user=member)
    wait_for_state(target, {State.PUBLISHED, State.FAILED})
    assert target.state == State.PUBLISHED, target.last_error

    v2 = remote_deposition(live_system, token, target.remote_id)
    assert v2["submitted"] is True and v2["metadata"]["version"] == "v2.0"
    assert {f["filename"]: f["checksum"] for f in v2["files"]} == {
        "data.csv": hashlib.md5(new_data).hexdigest(),
        "probe.txt": hashlib.md5(b"probe 7\n").hexdigest(),
    }
    v1 = remote_deposition(live_system, token, v1_id)  # the first version is untouched
    assert sorted(f["filename"] for f in v1["files"]) == sorted(FILES)
    dois = _dois(target)
    assert dois["version"] == {v1_doi, v2["doi"]} and v2["doi"] != v1_doi
    assert dois["concept"] == {v2["conceptdoi"]} == {v1["conceptdoi"]}
    assert not unsent_changes(target)  # the new snapshot is what was sent
    assert target.published_version["version"] == "v2.0"
    assert counters(live_system)["published"] == 2


def test_discarding_a_new_version_removes_its_draft_and_changes_nothing_else(
    live_system, team, member
):
    target, token = _published_v1(live_system, team, member)
    v1_id, dois = target.remote_id, _dois(target)
    target = _open_new_version(target, member)
    draft_id = target.remote_id
    deposit = target.deposit
    deposit.metadata = {**deposit.metadata, "version": "v2.0-rc"}
    deposit.save()

    lifecycle.request(target, Action.DISCARD_VERSION, user=member)
    wait_for_state(target, {State.PUBLISHED, State.FAILED})
    assert target.state == State.PUBLISHED, target.last_error
    assert target.remote_id == v1_id and target.remote_state == "done"
    assert lifecycle.remote_phase(target) == RemotePhase.PUBLISHED
    gone = requests.get(
        f"{live_system.zenodo_url}/api/deposit/depositions/{draft_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert gone.status_code == 404
    assert remote_deposition(live_system, token, v1_id)["state"] == "done"
    assert _dois(target) == dois
    assert counters(live_system)["published"] == 1

    # The local edit is still here, shown as not sent; it can be thrown away too.
    unsent = unsent_changes(target)
    assert unsent is not None and [c.path for c in unsent.fields] == ["version"]
    assert lifecycle.allowed_actions(target) == [Action.NEW_VERSION, Action.EDIT]
    discard_local_edits(target, user=member)
    target.refresh_from_db()
    assert target.deposit.metadata["version"] == "v1.0"
    assert not unsent_changes(target)
