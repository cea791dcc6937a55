"""The S3 fast path against a real S3 server (moto's): whole small files, resumable
multipart uploads of large ones, every crash point looked at before anything is sent
again, the endpoint checked against the allowlist, and every S3 request budgeted and
logged without the keys."""

from __future__ import annotations

import hashlib
import io
import uuid
from typing import Any

import pytest
import responses

from deposits.repositories.base import FileState, RateLimited, UnsafeURL
from deposits.repositories.coscine import s3, storage
from deposits.repositories.http import CallRecord
from tests.s3 import ACCESS_KEY, SECRET_KEY, s3_client

from .steps_support import (
    RESOURCE_API,
    envelope,
    file_job,
    make_client,
    make_job,
    remote_data,
    resource_dto,
)

MIB = 1024 * 1024


@pytest.fixture
def rsps():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def bucket(s3_server: str) -> str:
    name = f"coscine-{uuid.uuid4().hex[:12]}"
    s3_client(s3_server).create_bucket(Bucket=name)
    return name


@pytest.fixture
def small_parts(monkeypatch):
    """Parts of S3's smallest size (5 MiB), one per call, from 12 MiB on."""
    monkeypatch.setattr(s3, "PART_SIZE", 5 * MIB)
    monkeypatch.setattr(s3, "MULTIPART_THRESHOLD", 12 * MIB)
    monkeypatch.setattr(s3, "PARTS_PER_CALL", 1)


def s3_resource(endpoint: str, bucket: str) -> dict[str, Any]:
    dto = resource_dto("rdss3")
    dto["type"]["options"] = {
        "rdsS3": {
            "bucketName": bucket,
            "accessKeyRead": "read-key",
            "secretKeyRead": "read-secret",
            "accessKeyWrite": ACCESS_KEY,
            "secretKeyWrite": SECRET_KEY,
            "endpoint": endpoint,
            "size": 5,
        }
    }
    return dto


def s3_job(content: bytes, **kwargs: Any) -> Any:
    """A file whose metadata graph is stored: the next call sends its bytes."""
    f = file_job("data.bin", content, status=FileState.UPLOADING)
    job = make_job([f], resumed=True, **kwargs)
    entry = {
        "metadata_sha256": storage.digest(storage.metadata_turtle(job, f)),
        "stage": "metadata",
    }
    job.remote_data = remote_data("rdss3", files={"data.bin": entry})
    return job


def operations(records: list[CallRecord]) -> list[str]:
    return [r.url.rsplit("#", 1)[1] for r in records if "#" in r.url]


def no_secrets(records: list[CallRecord], *texts: str) -> None:
    shown = " ".join([*(f"{r.url} {r.error}" for r in records), *texts])
    assert SECRET_KEY not in shown and ACCESS_KEY not in shown


def stored(endpoint: str, bucket: str) -> bytes:
    return s3_client(endpoint).get_object(Bucket=bucket, Key="data.bin")["Body"].read()


# --------------------------------------------------------------------------- whole


def test_a_small_file_goes_in_one_put_with_its_md5_proven(rsps, s3_server, bucket):
    content = b"soil moisture " * 1000
    rsps.get(RESOURCE_API, json=envelope(s3_resource(s3_server, bucket)))
    records: list[CallRecord] = []
    client = make_client(records, allowed=["coscine.example.org", s3_server[7:]])
    job = s3_job(content)
    result = storage.send_next(client, job, lambda *a: None)

    assert stored(s3_server, bucket) == content
    update = result.file_updates["data.bin"]
    assert update.status == FileState.DONE
    assert update.remote_checksum == f"md5:{hashlib.md5(content).hexdigest()}"
    assert result.remote_data["files"]["data.bin"]["via"] == "s3"
    assert operations(records) == ["head_object", "put_object"]
    assert client.writes_sent == 1  # the lifecycle knows something changed
    no_secrets(records, result.message, repr(result.remote_data))


def test_a_resumed_small_file_already_there_is_not_sent_again(rsps, s3_server, bucket):
    content = b"already there"
    s3_client(s3_server).put_object(Bucket=bucket, Key="data.bin", Body=content)
    rsps.get(RESOURCE_API, json=envelope(s3_resource(s3_server, bucket)))
    records: list[CallRecord] = []
    client = make_client(records, allowed=["coscine.example.org", s3_server[7:]])
    result = storage.send_next(client, s3_job(content), lambda *a: None)
    assert operations(records) == ["head_object"]
    assert "not sent again" in result.message


def test_a_different_object_under_our_name_is_replaced(rsps, s3_server, bucket):
    s3_client(s3_server).put_object(Bucket=bucket, Key="data.bin", Body=b"old bytes")
    rsps.get(RESOURCE_API, json=envelope(s3_resource(s3_server, bucket)))
    client = make_client(allowed=["coscine.example.org", s3_server[7:]])
    storage.send_next(client, s3_job(b"new bytes!"), lambda *a: None)
    assert stored(s3_server, bucket) == b"new bytes!"


def test_an_endpoint_off_the_allowlist_gets_nothing(rsps, s3_server, bucket):
    rsps.get(RESOURCE_API, json=envelope(s3_resource("https://evil.example.net", bucket)))
    records: list[CallRecord] = []
    with pytest.raises(UnsafeURL, match=r"evil\.example\.net") as caught:
        storage.send_next(make_client(records), s3_job(b"x"), lambda *a: None)
    assert operations(records) == []
    no_secrets(records, caught.value.message)


class Budget:
    """The shared limiter's interface with a budget of ``slots`` requests."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.asked: list[tuple[str, Any]] = []

    def acquire(self, key: str, windows: Any, *, priority: Any) -> float:
        self.asked.append((key, priority))
        if len(self.asked) > self.slots:
            return 30.0
        return 0.0

    def observe(self, key: str, windows: Any, *, status: int, headers: Any) -> None:
        return None

    def paused_by_server(self, key: str) -> bool:
        return False


def test_every_s3_request_is_counted_against_the_budget(rsps, s3_server, bucket):
    rsps.get(RESOURCE_API, json=envelope(s3_resource(s3_server, bucket)))
    budget = Budget(slots=2)
    client = make_client(allowed=["coscine.example.org", s3_server[7:]], limiter=budget)
    # the resource GET takes the first slot, the HEAD the second: the PUT must wait
    with pytest.raises(RateLimited) as caught:
        storage.send_next(client, s3_job(b"x"), lambda *a: None)
    assert caught.value.retry_after == 30.0
    assert len(budget.asked) == 3
    assert {key for key, _ in budget.asked} == {client.limiter_key}
    assert s3_client(s3_server).list_objects_v2(Bucket=bucket).get("KeyCount") == 0


# --------------------------------------------------------------------------- multipart


def big_content() -> bytes:
    return (hashlib.sha256(b"seed").digest() * (13 * MIB // 32 + 1))[: 13 * MIB + 7]  # 3 parts


def step(client: Any, job: Any, seen: list[int] | None = None) -> Any:
    sizes = [] if seen is None else seen
    return storage.send_next(client, job, lambda name, sent: sizes.append(sent))


def test_a_large_file_goes_in_parts_over_several_calls(rsps, s3_server, bucket, small_parts):
    content = big_content()
    rsps.get(RESOURCE_API, json=envelope(s3_resource(s3_server, bucket)))
    records: list[CallRecord] = []
    client = make_client(records, allowed=["coscine.example.org", s3_server[7:]])
    job = s3_job(content)
    results = []
    seen: list[int] = []
    for _ in range(5):
        result = step(client, job, seen)
        results.append(result)
        job.remote_data = result.remote_data
        if result.done:
            break
    assert [r.done for r in results] == [False, False, False, False, True]
    assert "in 3 parts" in results[0].message
    assert results[0].remote_data["files"]["data.bin"]["s3"]["upload_id"]
    assert stored(s3_server, bucket) == content
    assert operations(records).count("upload_part") == 3
    assert seen == [5 * MIB, 10 * MIB, len(content)]
    final = results[-1]
    assert (
        final.file_updates["data.bin"].remote_checksum == f"md5:{hashlib.md5(content).hexdigest()}"
    )
    assert "s3" not in final.remote_data["files"]["data.bin"]  # the upload's state is dropped
    no_secrets(records, *(r.message for r in results))


def test_a_crash_mid_multipart_sends_only_the_missing_parts(rsps, s3_server, bucket, small_parts):
    content = big_content()
    rsps.get(RESOURCE_API, json=envelope(s3_resource(s3_server, bucket)))
    records: list[CallRecord] = []
    client = make_client(records, allowed=["coscine.example.org", s3_server[7:]])
    job = s3_job(content)
    job.remote_data = step(client, job).remote_data  # started
    job.remote_data = step(client, job).remote_data  # part 1 recorded
    step(client, job)  # part 2 sent, but the worker died before its result was recorded
    records.clear()
    resumed = step(client, job)  # lists the parts, keeps part 2 (our bytes), sends part 3
    assert operations(records) == ["list_parts", "upload_part"]
    assert sorted(resumed.remote_data["files"]["data.bin"]["s3"]["parts"]) == ["1", "2", "3"]
    job.remote_data = resumed.remote_data
    assert step(client, job).done is True
    assert stored(s3_server, bucket) == content


def test_a_crash_after_starting_the_upload_takes_it_up_again(rsps, s3_server, bucket, small_parts):
    content = big_content()
    rsps.get(RESOURCE_API, json=envelope(s3_resource(s3_server, bucket)))
    client = make_client(allowed=["coscine.example.org", s3_server[7:]])
    job = s3_job(content)
    lost = step(client, job)  # created, never recorded
    again = step(client, job)
    uploads = s3_client(s3_server).list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert len(uploads) == 1  # no second upload blocks the quota
    assert (
        again.remote_data["files"]["data.bin"]["s3"]["upload_id"]
        == lost.remote_data["files"]["data.bin"]["s3"]["upload_id"]
    )


def test_a_crash_after_completing_is_not_sent_again(rsps, s3_server, bucket, small_parts):
    content = big_content()
    rsps.get(RESOURCE_API, json=envelope(s3_resource(s3_server, bucket)))
    records: list[CallRecord] = []
    client = make_client(records, allowed=["coscine.example.org", s3_server[7:]])
    job = s3_job(content)
    for _ in range(4):  # start, three parts: each recorded
        job.remote_data = step(client, job).remote_data
    assert step(client, job).done is True  # completed, and that result is lost
    records.clear()
    again = step(client, job)
    assert again.done is True and again.file_updates["data.bin"].status == FileState.DONE
    assert "upload_part" not in operations(records)
    assert "complete_multipart_upload" not in operations(records)


def test_part_etags_and_the_multipart_etag_are_s3s():
    content = io.BytesIO(b"a" * 11)
    f = file_job("x", content.getvalue())
    digests = s3.part_md5s(f, part_size=5)
    assert digests == [hashlib.md5(b"a" * 5).hexdigest()] * 2 + [hashlib.md5(b"a").hexdigest()]
    joined = b"".join(bytes.fromhex(d) for d in digests)
    assert s3.multipart_etag(f, part_size=5) == f"{hashlib.md5(joined).hexdigest()}-3"


def test_an_object_overwritten_after_completing_is_uploaded_anew(
    rsps, s3_server, bucket, small_parts
):
    content = big_content()
    rsps.get(RESOURCE_API, json=envelope(s3_resource(s3_server, bucket)))
    client = make_client(allowed=["coscine.example.org", s3_server[7:]])
    job = s3_job(content)
    for _ in range(4):  # start, three parts: each recorded
        job.remote_data = step(client, job).remote_data
    step(client, job)  # completed, and that result is lost ...
    other = bytes(reversed(content))  # ... and someone put other bytes of the same size there
    s3_client(s3_server).put_object(Bucket=bucket, Key="data.bin", Body=other)
    again = step(client, job)
    assert again.done is False and "sending it again" in again.message
    assert "s3" not in again.remote_data["files"]["data.bin"]
    job.remote_data = again.remote_data
    for _ in range(5):  # a new upload: start, three parts, complete
        result = step(client, job)
        job.remote_data = result.remote_data
    assert result.done is True
    assert stored(s3_server, bucket) == content
