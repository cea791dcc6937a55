"""Coscine through real Celery workers against the Coscine sandbox over real HTTP (and,
for an S3 resource, straight into its bucket on the local S3 server): a deposit of three
files, one of 200 MB, with a worker SIGKILLed in the middle of its upload, ends with each
file stored once, with our bytes and its metadata, and the resource's Handle on the
target; and one deposit sent to Zenodo, DataMeta and Coscine at once."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.files import File
from rdflib import Graph, URIRef

from deposits import lifecycle
from deposits.models import (
    Action,
    ApiCall,
    Deposit,
    DepositFile,
    Identifier,
    LinkedAccount,
    State,
    Target,
    Team,
)
from deposits.repositories.datameta import sheets as datameta_sheets
from tests.factories import AccountFactory, DepositFactory, TargetFactory, add_file
from tests.livesystem import LiveSystem, wait_until

pytestmark = [pytest.mark.e2e]

PROJECT = "a0000000-0000-4000-8000-000000000001"  # the sandbox's "Soil Laboratory"
RESOURCE_TYPES = {  # the sandbox's fixed ids (sandbox/coscine/catalog.py)
    "rds": "b1b2c3d4-0000-4000-8000-000000000001",
    "rdss3": "b1b2c3d4-0000-4000-8000-000000000002",
}
PUBLIC = "8ab9c883-eb0d-4402-aaad-2e4007badce6"
DISCIPLINE = "c3a1f0e2-0000-4000-8000-000000000201"
BASE_PROFILE = "https://purl.org/coscine/ap/base/"
DCT = "http://purl.org/dc/terms/"
BIG = "a-moisture-series.bin"  # first by name: the file the worker is killed sending
BIG_SIZE = 200 * 1024 * 1024
SMALL = {"readme.txt": b"Soil moisture, field campaign 2026.\n", "sites.csv": b"site,lat\nA,50.7\n"}


def control(system: LiveSystem, path: str, payload: dict[str, Any] | None = None) -> Any:
    url = f"{system.sandbox_urls['coscine']}/_control/{path}"
    reply = (
        requests.post(url, json=payload, timeout=10) if payload else requests.get(url, timeout=10)
    )
    reply.raise_for_status()
    return reply.json()


def coscine_account(system: LiveSystem, team: Team) -> LinkedAccount:
    token = system.manage("sandbox_token", "coscine", "--user", "e2e-lab")
    account = AccountFactory(
        team=team,
        kind="coscine",
        label="Coscine sandbox",
        base_url=f"{system.sandbox_urls['coscine']}/coscine",
        token=token,
        status="unverified",
    )
    lifecycle.verify_account(account, user=None)

    def verified() -> bool:
        account.refresh_from_db()
        return account.status == "ok"

    wait_until(verified, 60, f"the Coscine account to be verified ({account.last_error!r})")
    assert account.expires_at is not None  # sandbox tokens last 30 days
    return account


def add_big_file(deposit: Deposit, tmp: Path) -> DepositFile:
    """A 200 MB file, written and hashed piece by piece (never whole in memory)."""
    path = tmp / BIG
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    piece = hashlib.sha256(b"moisture").digest() * 32768  # 1 MiB, not all one byte
    with path.open("wb") as out:
        for i in range(BIG_SIZE // len(piece)):
            chunk = piece[i % 7 :] + piece[: i % 7]
            out.write(chunk)
            md5.update(chunk)
            sha256.update(chunk)
    dfile = DepositFile(
        deposit=deposit,
        uid=uuid.uuid4(),
        name=BIG,
        size=BIG_SIZE,
        received=BIG_SIZE,
        md5=md5.hexdigest(),
        sha256=sha256.hexdigest(),
        status="ready",
    )
    with path.open("rb") as fh:
        dfile.blob.save(BIG, File(fh), save=False)
    dfile.save()
    path.unlink()
    return dfile


def coscine_target(deposit: Deposit, account: LinkedAccount, general_type: str) -> Target:
    """A target creating a new resource of ``general_type``, files described with the
    base profile (title and creator prefilled from the deposit, the rest given)."""
    target = TargetFactory(
        deposit=deposit,
        account=account,
        options={
            "project": {"id": PROJECT, "name": "Soil Laboratory", "slug": "soil-lab"},
            "new_resource": {
                "name": f"Moisture series ({general_type})",
                "display_name": "Moisture",
                "description": "The 2026 field campaign's moisture series.",
                "visibility": PUBLIC,
                "disciplines": [DISCIPLINE],
                "keywords": ["soil"],
                "resource_type": RESOURCE_TYPES[general_type],
                "quota_gib": 1,
            },
            "application_profile": BASE_PROFILE,
        },
    )
    lifecycle.revalidate(deposit)

    def ready() -> bool:  # the profile is fetched by a worker, then the draft re-validated
        target.refresh_from_db()
        return target.state == State.READY

    wait_until(ready, 60, f"the Coscine target to be ready ({target.problems!r})")
    return target


def wait_for_state(target: Target, states: set[str], timeout: float = 240) -> Target:
    def reached() -> bool:
        target.refresh_from_db()
        return target.state in states

    wait_until(
        reached,
        timeout,
        f"target in {states} (state {target.state}, step {target.current_step}, "
        f"error {target.last_error!r})",
    )
    return target


def assert_stored_once(system: LiveSystem, target: Target, deposit: Deposit) -> None:
    """Each file once, with our size, and a metadata graph carrying the deposit's title;
    the target's identifier is the resource's Handle."""
    stored = control(system, f"resources/{target.remote_id}/stored")
    expected = {f.name: f.size for f in deposit.files.all()}
    assert stored["files"] == expected
    title = deposit.metadata["titles"][0]["title"]
    for name in expected:
        graph = Graph().parse(data=stored["metadata"][name]["turtle"], format="turtle")
        titles = {str(o) for o in graph.objects(None, URIRef(DCT + "title"))}
        assert titles == {title}, name
    handle = Identifier.objects.get(target=target, scheme="handle")
    assert handle.value == f"21.11102/{target.remote_id}"
    assert handle.url == f"https://hdl.handle.net/21.11102/{target.remote_id}"
    assert not stored["deleted"]


def test_three_files_to_a_web_storage_resource_with_a_worker_killed_mid_upload(
    live_system: LiveSystem, team, member, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    live_system.start_worker("worker")
    account = coscine_account(live_system, team)
    deposit = DepositFactory(team=team)
    add_big_file(deposit, tmp_path)
    for name, content in SMALL.items():
        add_file(deposit, name, content)
    target = coscine_target(deposit, account, "rds")
    # The first file upload (the big one) waits 20 s before Coscine reads it: the worker
    # is killed while its bytes are on the way.
    uploads = f"/coscine/api/v2/projects/{PROJECT}/resources/"
    control(live_system, "faults", {"delay": 20, "method": "POST", "path": uploads})
    lifecycle.request(target, Action.PUBLISH, user=member)

    def upload_in_flight() -> bool:
        target.refresh_from_db()
        assert target.state != State.FAILED, target.last_error
        return control(live_system, "faults")["armed"] is None

    wait_until(upload_in_flight, 120, "the big file's upload to start")
    target.refresh_from_db()
    assert target.current_step == "send_files"
    live_system.kill("worker")

    live_system.start_beat()  # the reconciler notices the lease running out
    live_system.start_worker("worker2")
    wait_for_state(target, {State.PUBLISHED, State.FAILED})

    assert target.state == State.PUBLISHED, target.last_error
    assert_stored_once(live_system, target, deposit)
    creates = ApiCall.objects.filter(
        target=target, method="POST", url__endswith=f"/projects/{PROJECT}/resources"
    )
    assert creates.count() == 1  # one resource, made once
    assert ApiCall.objects.filter(target=target).exclude(trace_id="").exists()


def test_three_files_to_an_s3_resource_with_a_worker_killed_mid_multipart(
    live_system: LiveSystem, team, member, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    live_system.start_worker("worker")
    account = coscine_account(live_system, team)
    deposit = DepositFactory(team=team)
    big = add_big_file(deposit, tmp_path)
    for name, content in SMALL.items():
        add_file(deposit, name, content)
    target = coscine_target(deposit, account, "rdss3")
    lifecycle.request(target, Action.PUBLISH, user=member)

    def parts_sent() -> bool:
        target.refresh_from_db()
        assert target.state != State.FAILED, target.last_error
        entry = (target.remote_data.get("files") or {}).get(BIG) or {}
        return bool((entry.get("s3") or {}).get("parts"))

    wait_until(parts_sent, 120, "the first parts of the big file to reach the bucket", every=0.05)
    live_system.kill("worker")

    live_system.start_beat()
    live_system.start_worker("worker2")
    wait_for_state(target, {State.PUBLISHED, State.FAILED})

    assert target.state == State.PUBLISHED, target.last_error
    assert_stored_once(live_system, target, deposit)
    # the bytes in the bucket are ours, read back from the S3 server itself
    resource = requests.get(
        f"{account.base_url}/api/v2/projects/{PROJECT}/resources/{target.remote_id}",
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=10,
    ).json()["data"]
    options = resource["type"]["options"]["rdsS3"]
    from tests.s3 import s3_client

    body = s3_client(options["endpoint"]).get_object(Bucket=options["bucketName"], Key=BIG)["Body"]
    digest = hashlib.md5()
    for piece in body.iter_chunks(1 << 20):
        digest.update(piece)
    assert digest.hexdigest() == big.md5
    # nothing of the big file went through Coscine's REST upload (it answers 413 there)
    assert not ApiCall.objects.filter(target=target, url__contains="/storage/", method="POST")


def test_one_deposit_goes_to_zenodo_datameta_and_coscine_at_once(
    live_system: LiveSystem, team, member
) -> None:  # type: ignore[no-untyped-def]
    from tests.e2e import test_datameta_submit as datameta
    from tests.e2e.zenodo_helpers import sandbox_account

    live_system.start_worker("worker", concurrency=3)
    requests.post(f"{live_system.datameta_url}/_control", json={"action": "reset"}, timeout=10)
    deposit = DepositFactory(team=team)
    for name, content in datameta.FILES.items():
        add_file(deposit, name, content)
    zenodo, _ = sandbox_account(live_system, team)
    to_zenodo = TargetFactory(deposit=deposit, account=zenodo)
    to_datameta = TargetFactory(deposit=deposit, account=datameta.linked_account(live_system, team))
    to_datameta = datameta_sheets.save_rows(to_datameta, datameta.ROWS, user=member)
    to_coscine = coscine_target(deposit, coscine_account(live_system, team), "rds")
    lifecycle.revalidate(deposit)
    targets = [to_zenodo, to_datameta, to_coscine]
    for target in targets:
        target.refresh_from_db()
        assert target.state == State.READY, (target.account.kind, target.problems)
        lifecycle.request(target, Action.PUBLISH, user=member)
    for target in targets:
        wait_for_state(target, {State.PUBLISHED, State.FAILED})
        assert target.state == State.PUBLISHED, (target.account.kind, target.last_error)

    assert (
        Identifier.objects.filter(target=to_zenodo, scheme="doi", scope="version")
        .get()
        .value.startswith("10.")
    )
    datameta.assert_submitted_once(to_datameta)
    assert_stored_once(live_system, to_coscine, deposit)
