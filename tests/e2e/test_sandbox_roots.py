"""The system as the demo runs it (portal/processes.py): the portal on one port and each
sandbox at the root of a port of its own, as the real services sit at the root of their
hosts; published clients reach them with only their base URL changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from sandbox.datameta.models import File, Submission
from tests.livesystem import LiveSystem
from tests.sandbox.test_datameta_dmclient import dmclient_path, run_dmclient
from tests.zenodo_client import numbers, pointed_at

pytestmark = [pytest.mark.e2e]


def test_the_zenodo_sandbox_answers_at_its_root(live_system: LiveSystem) -> None:
    token = live_system.manage("sandbox_token", "zenodo")
    auth = {"Authorization": f"Bearer {token}"}

    index = requests.get(f"{live_system.zenodo_url}/", timeout=10)
    listing = requests.get(
        f"{live_system.zenodo_url}/api/deposit/depositions", headers=auth, timeout=10
    )
    control = requests.get(f"{live_system.zenodo_url}/_control", timeout=10)

    assert index.json()["api"] == f"{live_system.zenodo_url}/api/deposit/depositions"
    assert listing.status_code == 200
    assert listing.json() == []
    assert "counters" in control.json()


def test_the_datameta_sandbox_answers_at_its_root(live_system: LiveSystem) -> None:
    token = live_system.manage("sandbox_token", "datameta")

    discovery = requests.get(f"{live_system.datameta_url}/api", allow_redirects=False, timeout=10)
    whoami = requests.get(
        f"{live_system.datameta_url}/api/v1/rpc/whoami",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    control = requests.get(f"{live_system.datameta_url}/_control", timeout=10)

    assert discovery.status_code == 302
    assert discovery.headers["Location"] == f"{live_system.datameta_url}/api/v1"
    assert whoami.status_code == 200
    assert control.status_code == 200


def test_each_server_serves_only_its_own_routes(live_system: LiveSystem) -> None:
    assert requests.get(f"{live_system.url}/sandbox/zenodo/_control", timeout=10).status_code == 404
    assert requests.get(f"{live_system.url}/_control", timeout=10).status_code == 404
    assert requests.get(f"{live_system.zenodo_url}/login/", timeout=10).status_code == 404
    # as Zenodo's API answers an unknown path: JSON, not a portal page
    assert requests.get(f"{live_system.zenodo_url}/nowhere", timeout=10).json()["status"] == 404
    assert requests.get(f"{live_system.datameta_url}/login/", timeout=10).status_code == 404
    assert (
        requests.get(f"{live_system.datameta_url}/api/deposit/depositions", timeout=10).status_code
        == 404
    )


def test_zenodo_client_publishes_to_the_sandbox_by_its_root_url(
    live_system: LiveSystem, tmp_path: Path
) -> None:
    client = pointed_at(live_system.zenodo_url, live_system.manage("sandbox_token", "zenodo"))
    metadata, data = numbers(tmp_path)

    published = client.create(metadata, [data]).json()

    assert published["state"] == "done"
    assert published["doi"] == f"10.5072/zenodo.{published['id']}"


def test_dmclient_stages_and_submits_to_the_sandbox_process(
    live_system: LiveSystem, tmp_path: Path
) -> None:
    binary = dmclient_path()
    if binary is None:
        pytest.skip("dmclient not installed: make .tools/dmclient/bin/dmclient")
    token = live_system.manage("sandbox_token", "datameta")
    files = tmp_path / "reads"
    files.mkdir()
    (files / "GH78_R1.fastq.gz").write_bytes(b"@read\nACGT\n+\nIIII\n")
    meta = tmp_path / "meta.json"
    meta.write_text(
        json.dumps([{"SampleID": "GH78", "ZIPCode": "149", "FileR1": "GH78_R1.fastq.gz"}])
    )

    result = run_dmclient(
        binary,
        live_system.datameta_url,
        token,
        tmp_path,
        "shortcuts",
        "stage-and-submit",
        str(meta),
        str(files),
        "--label",
        "demo-like run",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    submission = Submission.objects.get(label="demo-like run")
    files = File.objects.filter(records__metadataset__submission=submission)
    assert [(f.name, f.content_uploaded) for f in files] == [("GH78_R1.fastq.gz", True)]
