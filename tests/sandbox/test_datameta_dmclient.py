"""The official client, unchanged, completes ``dmclient shortcuts stage-and-submit``.

``datameta-client`` joins ``/api/v1`` to ``DATAMETA_URL`` with ``urljoin``, which drops any
path, so it only talks to a DataMeta at a host's root: where the sandbox is served, by its
own process as by this module's live server (``sandbox.datameta.root_urls``). Of the
client's configuration only ``DATAMETA_URL`` (the server's root) and ``DATAMETA_TOKEN``
are set.

The client lives in a virtualenv of its own (its pins clash with the project's):
``make .tools/dmclient/bin/dmclient`` installs it there; ``DMCLIENT`` points at another.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sandbox.datameta.models import File, MetaDataSet, Submission
from tests.sandbox.datameta_fixtures import *  # noqa: F403
from tests.sandbox.datameta_fixtures import DATAMETA_READS

pytestmark = pytest.mark.urls("sandbox.datameta.root_urls")

# Where ``make test`` installs it (``make .tools/dmclient/bin/dmclient``).
INSTALLED = Path(__file__).resolve().parents[2] / ".tools/dmclient/bin/dmclient"


def dmclient_path() -> str | None:
    for candidate in (
        os.environ.get("DMCLIENT"),
        str(INSTALLED),
        shutil.which("dmclient"),
        "/tmp/dmvenv/bin/dmclient",
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture
def datameta_dmclient() -> str:
    found = dmclient_path()
    if found is None:
        reason = (
            "dmclient not installed: make .tools/dmclient/bin/dmclient "
            "(or set DMCLIENT to its path)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def run_dmclient(binary: str, url: str, token: str, home: Path, *args: str) -> Any:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),  # no ~/.dmclient.yaml of the developer's
        "DATAMETA_URL": url,  # the server's root, nothing more
        "DATAMETA_TOKEN": token,
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [binary, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.django_db(transaction=True)
def test_dmclient_stage_and_submit_completes(
    datameta_dmclient: str, live_server: Any, datameta_storage: Path, tmp_path: Path
) -> None:
    from sandbox.datameta.tokens import issue_token

    token = issue_token("admin@example.org")
    files_dir = tmp_path / "reads"
    files_dir.mkdir()
    (files_dir / "BN09_R1.fastq.gz").write_bytes(DATAMETA_READS)
    (files_dir / "AB12_R1.fastq.gz").write_bytes(b"@read2\nTTTT\n+\nIIII\n")
    (files_dir / "unrelated.txt").write_bytes(b"not mentioned in the metadata")
    records = [
        {"SampleID": "BN09", "ZIPCode": "149", "Date": "2021-03-29", "FileR1": "BN09_R1.fastq.gz"},
        {"SampleID": "AB12", "ZIPCode": "150", "Lane": "L2", "FileR1": "AB12_R1.fastq.gz"},
    ]
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps(records))

    result = run_dmclient(
        datameta_dmclient,
        live_server.url,
        token,
        tmp_path,
        "shortcuts",
        "stage-and-submit",
        str(meta),
        str(files_dir),
        "--label",
        "dmclient run",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    submission = Submission.objects.get()
    assert submission.label == "dmclient run"
    assert MetaDataSet.objects.filter(submission=submission).count() == 2
    uploaded = {f.name: f for f in File.objects.all()}
    assert set(uploaded) == {"BN09_R1.fastq.gz", "AB12_R1.fastq.gz"}
    assert all(f.content_uploaded for f in uploaded.values())
    assert uploaded["BN09_R1.fastq.gz"].path.read_bytes() == DATAMETA_READS


@pytest.mark.django_db(transaction=True)
def test_dmclient_reports_validation_errors_of_the_sandbox(
    datameta_dmclient: str, live_server: Any, datameta_storage: Path, tmp_path: Path
) -> None:
    from sandbox.datameta.tokens import issue_token

    token = issue_token("admin@example.org")
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"SampleID": "bad", "ZIPCode": "149", "FileR1": "x.fq"}))

    result = run_dmclient(
        datameta_dmclient, live_server.url, token, tmp_path, "metadatasets", "stage", str(meta)
    )

    assert result.returncode != 0
    assert "Two uppercase letters followed by two digits" in result.stdout + result.stderr
    assert not MetaDataSet.objects.exists()
