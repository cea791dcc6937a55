"""The portal's own files on S3 (``STORAGE_BACKEND=s3``), for real: a live system whose
web server and workers keep files in a bucket of the local S3 server (moto's, a process
of its own, spoken to over HTTP like any S3 endpoint). A browser uploads in chunks into
it, a worker publishes from it to the Zenodo sandbox, and streams a large file from it
without its memory growing."""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deposits import lifecycle
from deposits.models import DepositFile, State, Target
from deposits.uploads import staging_path
from tests.e2e.zenodo_helpers import (
    control,
    publish,
    remote_deposition,
    sandbox_account,
    wait_for_state,
)
from tests.factories import AccountFactory, DepositFactory, TargetFactory
from tests.livesystem import LiveSystem, purge_queues

pytestmark = [pytest.mark.e2e]

MB = 1024 * 1024
CHUNK = 8 * MB  # the page's uploader's chunk size (static/js/portal.js)
BIG = 300 * MB
RSS_LIMIT = 64 * MB


@pytest.fixture
def s3_system(transactional_db: None, tmp_path: Path) -> Iterator[LiveSystem]:
    """Web server, sandboxes and S3 server; the portal's storage is the S3 bucket."""
    purge_queues()
    system = LiveSystem(tmp_path, storage="s3")
    try:
        system.start_web()
        yield system
    finally:
        system.stop()
        purge_queues()


def generated(path: Path, size: int) -> tuple[str, str]:
    """A file of ``size`` random bytes at ``path``, written in pieces; its MD5, SHA-256."""
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            piece = os.urandom(min(4 * MB, left))
            out.write(piece)
            md5.update(piece)
            sha256.update(piece)
            left -= len(piece)
    return md5.hexdigest(), sha256.hexdigest()


def stored_hashes(system: LiveSystem, key: str) -> tuple[int, str, str]:
    """Size, MD5 and SHA-256 of the object ``key`` in the portal's bucket, read back."""
    body = system.s3_client().get_object(Bucket=system.s3_bucket, Key=key)["Body"]
    md5, sha256, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    for piece in body.iter_chunks(MB):
        md5.update(piece)
        sha256.update(piece)
        size += len(piece)
    return size, md5.hexdigest(), sha256.hexdigest()


def sign_in_and_create(page: Any, system: LiveSystem, user: Any, title: str) -> None:
    page.goto(f"{system.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "secret-pass-1")
    page.click("#login-submit")
    page.click("#new-deposit")
    page.fill("#id_title", title)
    page.check("input[name=accounts]")
    page.click("#create-deposit")
    page.wait_for_selector("#metadata-form")
    page.select_option("#id_resource_type", "dataset")
    page.fill("#id_creators-0-name", "Lovelace, Ada")
    page.fill("#id_creators-0-affiliation", "Analytical Engines Ltd")


@pytest.mark.browser
def test_a_browser_upload_lands_in_the_bucket_and_a_worker_publishes_it_from_there(
    s3_system: LiveSystem,
    page: Any,
    team: Any,
    member: Any,
    tmp_path: Path,
) -> None:
    control(s3_system, {"wipe": True})
    _account, token = sandbox_account(s3_system, team)
    data = tmp_path / "probe-raw.bin"
    size = 2 * CHUNK + 3 * MB + 17  # three chunks, the last one short
    md5, sha256 = generated(data, size)

    sign_in_and_create(page, s3_system, member, "Probe data on S3")
    page.set_input_files("#file-input", str(data))
    page.wait_for_selector(
        'tr[data-file="probe-raw.bin"][data-file-status="ready"]', timeout=60_000
    )
    shown = page.locator('tr[data-file="probe-raw.bin"] [data-checksum="sha256"]')
    assert shown.text_content().strip() == sha256  # in a closed <details>

    dfile = DepositFile.objects.get(name="probe-raw.bin")
    assert (dfile.md5, dfile.sha256, dfile.status) == (md5, sha256, "ready")
    keys = [o["Key"] for o in s3_system.s3_client().list_objects_v2(
        Bucket=s3_system.s3_bucket).get("Contents", [])]  # fmt: skip
    assert keys == [dfile.blob.name]
    assert stored_hashes(s3_system, str(dfile.blob.name)) == (size, md5, sha256)
    assert not staging_path(dfile).exists(), "the staging file was left behind"

    s3_system.start_worker()
    target = dfile.deposit.targets.get()
    page.wait_for_selector(f"#readiness-{target.pk} .ok")
    page.click(f"#publish-{target.pk}")
    page.click("#confirm-action")
    doi = page.wait_for_selector('[data-identifier="doi-version"]', timeout=120_000)
    assert doi.inner_text().startswith("10.5072/")

    target.refresh_from_db()
    assert target.state == State.PUBLISHED, target.last_error
    remote = remote_deposition(s3_system, token, target.remote_id)
    assert [(f["filename"], f["filesize"], f["checksum"]) for f in remote["files"]] == [
        ("probe-raw.bin", size, md5)
    ]


class RssSampler:
    """Peak RSS of a worker's processes (main and pool), from /proc every 0.05 s, as
    bench/p2_streaming.py measures it: growth = peak while sending - RSS just before."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.baseline = {pid: self.rss(pid) for pid in pids}
        self.peak = dict(self.baseline)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    @staticmethod
    def rss(pid: int) -> int:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def _sample(self) -> None:
        while not self.done.wait(0.05):
            for pid in self.pids:
                try:
                    self.peak[pid] = max(self.peak[pid], self.rss(pid))
                except OSError:
                    continue

    def growth(self) -> int:
        self.done.set()
        self.thread.join()
        return max(self.peak[pid] - self.baseline[pid] for pid in self.pids)


def worker_pids(system: LiveSystem, name: str) -> list[int]:
    import psutil

    main = psutil.Process(system.procs[name].pid)
    return [main.pid, *(child.pid for child in main.children(recursive=True))]


def s3_deposit(
    system: LiveSystem, team: Any, account: Any, path: Path, size: int
) -> tuple[Target, str]:
    """A ready deposit whose one file is ``path``, put straight into the bucket (boto3's
    file upload: the test's own memory stays flat too)."""
    md5, sha256 = generated(path, size)
    deposit: Any = DepositFactory(team=team)
    key = f"deposits/{deposit.pk}/{uuid.uuid4().hex}/{path.name}"
    system.s3_client().upload_file(str(path), system.s3_bucket, key)
    path.unlink()
    dfile = DepositFile(deposit=deposit, uid=uuid.uuid4(), name=path.name, size=size,
                        received=size, md5=md5, sha256=sha256, status="ready")  # fmt: skip
    dfile.blob.name = key
    dfile.save()
    target: Any = TargetFactory(deposit=deposit, account=account)
    lifecycle.revalidate(deposit)
    target.refresh_from_db()
    assert target.state == State.READY, target.problems
    return target, md5


def test_a_worker_streams_a_large_file_from_s3_with_flat_memory(
    s3_system: LiveSystem, team: Any, member: Any, tmp_path: Path
) -> None:
    control(s3_system, {"wipe": True})
    token = s3_system.manage("sandbox_token", "zenodo")
    account = AccountFactory(
        team=team, base_url=f"{s3_system.zenodo_url}/api", token=token, status="ok"
    )
    warm_up, _ = s3_deposit(s3_system, team, account, tmp_path / "small.bin", MB)
    target, md5 = s3_deposit(s3_system, team, account, tmp_path / "big.bin", BIG)
    s3_system.start_worker(concurrency=1)
    # its first file from S3 loads boto3 and S3's API model (tens of MB, once): not the
    # streaming's growth
    publish(warm_up, member)
    assert wait_for_state(warm_up, {State.PUBLISHED, State.FAILED}).state == State.PUBLISHED

    sampler = RssSampler(worker_pids(s3_system, "worker"))
    publish(target, member)
    wait_for_state(target, {State.PUBLISHED, State.FAILED}, timeout=600)
    growth = sampler.growth()

    assert target.state == State.PUBLISHED, target.last_error
    remote = remote_deposition(s3_system, token, target.remote_id)
    assert [(f["filesize"], f["checksum"]) for f in remote["files"]] == [(BIG, md5)]
    assert growth < RSS_LIMIT, f"the worker's RSS grew by {growth / MB:.0f} MB while sending"
