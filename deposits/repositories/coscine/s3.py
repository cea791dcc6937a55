"""The fast path for S3-backed resources: the bytes go straight to the resource's bucket.

Coscine hands the write keys of an S3 resource out in ``GET .../resources/{id}``
(``type.options.rdsS3``, notes A.2 "Direct S3 path"); the REST upload would read a
large file into memory and answer 413. The keys are read anew for each call and never
kept, logged or shown; the endpoint is untrusted and must be on the portal's allowlist.
boto3 is configured with ``request_checksum_calculation="when_required"``: the newer
default checksums break against Coscine's S3 endpoint (A.2).

Small files go in one ``PutObject``; from MULTIPART_THRESHOLD on, a multipart upload of
PART_SIZE parts, at most PARTS_PER_CALL per call (``done=False`` in between), resumable:
its UploadId and the finished parts' ETags are kept in ``remote_data["files"][name]
["s3"]``, and a re-run asks S3 which parts it holds before sending only the rest. An
upload whose id was never recorded (a crash right after creating it) is found again by
``ListMultipartUploads`` and reused, so no stray upload blocks the resource's quota.

Each S3 request is counted against the account's request budget (the HttpClient's
limiter) and written to the API call log, like every REST call.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from ..base import (
    ChecksumMismatch,
    FileJob,
    Job,
    PermanentError,
    ProgressFn,
    RateLimited,
    StepResult,
    TransientError,
    UnsafeURL,
)
from ..http import CallRecord, host_allowed, redact_url
from .resources import read_resource, stored_result

if TYPE_CHECKING:
    from ..http import HttpClient

MIB = 1024 * 1024
MULTIPART_THRESHOLD = 64 * MIB
PART_SIZE = 16 * MIB
MAX_RESTARTS = 2  # whole new uploads of a file whose joined object came out wrong
PARTS_PER_CALL = 4  # 64 MiB per call: short enough for a worker's lease and progress


class Bucket:
    """One resource's bucket, reached with its write keys; every call is budgeted."""

    def __init__(self, client: HttpClient, options: dict[str, Any]) -> None:
        import boto3
        from botocore.config import Config

        self.http = client
        self.name = str(options.get("bucketName") or "")
        self.endpoint = str(options.get("endpoint") or "").rstrip("/")
        if not self.name or not options.get("accessKeyWrite"):
            raise PermanentError(
                "Coscine gave no bucket or write keys for this S3 resource; your token may "
                "only read it. Ask the project's owner for write access."
            )
        if not host_allowed(self.endpoint, client.allowed_hosts):
            raise UnsafeURL(
                f"Coscine named the S3 endpoint {redact_url(self.endpoint)!r}, whose host is "
                f"not in {client.allowlist}; nothing was sent there. Ask the portal's "
                "administrators to allow it if it is Coscine's."
            )
        self.s3 = boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=str(options.get("accessKeyWrite")),
            aws_secret_access_key=str(options.get("secretKeyWrite") or ""),
            region_name="us-east-1",
            config=Config(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1, "mode": "standard"},
                connect_timeout=client.connect_timeout,
                read_timeout=client.read_timeout,
            ),
        )

    def call(self, operation: str, key: str, **kwargs: Any) -> Any:
        """One S3 request: a slot of the budget, the call, a line in the call log. A
        write is counted on the client as its own are (``writes_sent``, and
        ``unanswered_writes`` when no reply came), which the lifecycle reads to tell
        whether a refused step changed anything."""
        _spend(self.http)
        writes = not operation.startswith(("list", "head"))
        method = "PUT" if writes else "GET"
        if writes:
            self.http.writes_sent += 1
        url = f"{self.endpoint}/{quote(self.name)}/{quote(key)}"
        started = time.monotonic()
        status: int | None = None
        error = ""
        try:
            if key:
                kwargs["Key"] = key
            reply = getattr(self.s3, operation)(Bucket=self.name, **kwargs)
            status = int(reply.get("ResponseMetadata", {}).get("HTTPStatusCode") or 200)
            return reply
        except Exception as exc:
            failure = _failure(exc, operation)
            status, error = failure.status, failure.message
            if writes and status is None:
                self.http.unanswered_writes += 1
            raise failure from None
        finally:
            if self.http.record is not None:
                took = int((time.monotonic() - started) * 1000)
                self.http.record(CallRecord(method, f"{url}#{operation}", status, took, {}, error))


def _spend(client: HttpClient) -> None:
    """Take a slot of the account's budget, as ``HttpClient`` does for its requests."""
    if client.limiter is None:
        return
    wait = client.limiter.acquire(client.limiter_key, client.windows, priority=client.priority)
    if wait > 0:
        raise RateLimited(
            f"The {client.label} request budget of this account is used up; the next "
            f"request can go in {wait:.0f} s.",
            retry_after=wait,
        )


def _failure(exc: Exception, operation: str) -> TransientError | PermanentError:
    """A boto3 failure as one of ours, with no keys or signatures in its message."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code") or "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        text = f"Coscine's S3 storage refused {operation} ({status} {code})"
        if status in (429, 500, 502, 503, 504) or code in ("SlowDown", "RequestTimeout"):
            return TransientError(f"{text}; retrying.", status=status)
        if status == 404 or code in ("NoSuchUpload", "NoSuchKey", "NotFound"):
            return PermanentError(f"{text}.", status=404)
        return PermanentError(
            f"{text}. Check that the resource still takes files (not archived, quota left).",
            status=status or None,
        )
    if isinstance(exc, BotoCoreError):
        return TransientError(
            f"Coscine's S3 storage could not be reached ({type(exc).__name__}); retrying."
        )
    raise exc


def bucket_for(client: HttpClient, job: Job) -> Bucket:
    resource = read_resource(client, job)
    options = ((resource.get("type") or {}).get("options") or {}).get("rdsS3") or {}
    if not isinstance(options, dict):
        options = {}
    return Bucket(client, options)


# --------------------------------------------------------------------------- steps


def send_bytes(
    client: HttpClient, job: Job, f: FileJob, data: dict[str, Any], progress: ProgressFn
) -> StepResult:
    """The file's bytes into the bucket: whole, or the next parts of a multipart upload."""
    bucket = bucket_for(client, job)
    entry = data["files"][f.name]
    if f.size < MULTIPART_THRESHOLD:
        return _send_whole(bucket, job, f, data, progress)
    state = entry.get("s3")
    if not isinstance(state, dict) or not state.get("upload_id"):
        return _begin(bucket, job, f, data)
    return _send_parts(bucket, job, f, data, progress)


def _head(bucket: Bucket, key: str) -> dict[str, Any] | None:
    try:
        reply: dict[str, Any] = bucket.call("head_object", key)
    except PermanentError as exc:
        if exc.status == 404:
            return None
        raise
    return reply


def _etag(reply: dict[str, Any]) -> str:
    return str(reply.get("ETag") or "").strip('"').lower()


def _already(
    bucket: Bucket, job: Job, f: FileJob, data: dict[str, Any], etag: Callable[[], str]
) -> StepResult | None:
    """What an earlier attempt stored, if it is ours: our size and the expected ETag
    (computed only when the size matches: for a multipart upload it reads the file)."""
    held = _head(bucket, f.name)
    if held is None or int(held.get("ContentLength") or -1) != f.size or _etag(held) != etag():
        return None
    return stored_result(
        job,
        f,
        data,
        via="s3",
        checksum=f"md5:{f.md5.lower()}",
        message=f"{f.name} is already in the bucket; not sent again.",
    )


def _send_whole(
    bucket: Bucket, job: Job, f: FileJob, data: dict[str, Any], progress: ProgressFn
) -> StepResult:
    """One PutObject; the ETag S3 answers is the MD5 of what it received."""
    found = _already(bucket, job, f, data, f.md5.lower)
    if found is not None:
        return found
    with f.open() as fileobj:
        reply = bucket.call("put_object", f.name, Body=fileobj, ContentLength=f.size)
    if _etag(reply) != f.md5.lower():
        raise ChecksumMismatch(
            f"The bucket holds other bytes for {f.name} than were sent (its ETag is "
            f"{_etag(reply) or 'missing'}, the file's MD5 {f.md5.lower()}); sending it again."
        )
    progress(f.name, f.size)
    return stored_result(
        job,
        f,
        data,
        via="s3",
        checksum=f"md5:{f.md5.lower()}",
        message=f"Stored {f.name} in the bucket.",
    )


# --------------------------------------------------------------------------- multipart


def parts_of(size: int) -> int:
    return max(1, -(-size // PART_SIZE))


def part_md5s(f: FileJob, part_size: int = PART_SIZE) -> list[str]:
    """The MD5 of each part of the file, reading one part at a time."""
    digests = []
    with f.open() as fileobj:
        while chunk := fileobj.read(part_size):
            digests.append(hashlib.md5(chunk).hexdigest())  # noqa: S324 (S3's ETag is MD5)
    return digests


def multipart_etag(f: FileJob, part_size: int = PART_SIZE) -> str:
    """The ETag S3 gives a multipart object: the MD5 of the parts' MD5s, "-" their count."""
    digests = part_md5s(f, part_size)
    joined = b"".join(bytes.fromhex(d) for d in digests)
    return f"{hashlib.md5(joined).hexdigest()}-{len(digests)}"  # noqa: S324


def _open_upload(bucket: Bucket, key: str) -> str:
    """The id of an unfinished multipart upload of ``key`` (the newest), or ""."""
    reply = bucket.call("list_multipart_uploads", "", Prefix=key)
    found = [u for u in reply.get("Uploads") or [] if u.get("Key") == key and u.get("UploadId")]
    found.sort(key=lambda u: str(u.get("Initiated") or ""))
    return str(found[-1]["UploadId"]) if found else ""


def _begin(bucket: Bucket, job: Job, f: FileJob, data: dict[str, Any]) -> StepResult:
    """Start the multipart upload (one write), or take up the one a lost reply started."""
    found = _already(bucket, job, f, data, lambda: multipart_etag(f))
    if found is not None:
        return found
    upload_id = _open_upload(bucket, f.name)
    message = f"Took up the unfinished upload of {f.name}."
    if not upload_id:
        reply = bucket.call("create_multipart_upload", f.name)
        upload_id = str(reply.get("UploadId") or "")
        message = f"Started the upload of {f.name} in {parts_of(f.size)} parts."
    data["files"][f.name]["s3"] = {"upload_id": upload_id, "part_size": PART_SIZE, "parts": {}}
    return StepResult(done=False, message=message, remote_data=data)


def _held_parts(bucket: Bucket, key: str, upload_id: str) -> dict[int, tuple[str, int]] | None:
    """The parts S3 holds of the upload (number -> (ETag, size)), all pages; None when
    the upload is gone (completed or aborted)."""
    held: dict[int, tuple[str, int]] = {}
    marker = 0
    while True:
        try:
            reply = bucket.call("list_parts", key, UploadId=upload_id, PartNumberMarker=marker)
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        for part in reply.get("Parts") or []:
            held[int(part["PartNumber"])] = (_etag(part), int(part.get("Size") or 0))
        if not reply.get("IsTruncated"):
            return held
        marker = int(reply.get("NextPartNumberMarker") or 0)


def _send_parts(
    bucket: Bucket, job: Job, f: FileJob, data: dict[str, Any], progress: ProgressFn
) -> StepResult:
    """Up to PARTS_PER_CALL missing parts, or, once all are there, complete the upload."""
    state = data["files"][f.name]["s3"]
    upload_id, part_size = str(state["upload_id"]), int(state.get("part_size") or PART_SIZE)
    held = _held_parts(bucket, f.name, upload_id)
    if held is None:
        return _upload_gone(bucket, job, f, data)
    recorded: dict[str, str] = dict(state.get("parts") or {})
    total = parts_of_size(f.size, part_size)
    with f.open() as fileobj:  # opened once: opening verifies the stored copy
        recorded = _adopt_held(f, fileobj, held, recorded, part_size)
        todo = [
            n
            for n in range(1, total + 1)
            if str(n) not in recorded or held.get(n, ("", 0))[0] != recorded[str(n)]
        ]
        for number in todo[:PARTS_PER_CALL]:
            recorded[str(number)] = _send_part(
                bucket, f, fileobj, upload_id=upload_id, number=number, part_size=part_size
            )
            progress(f.name, sum(_part_length(f.size, part_size, int(n)) for n in recorded))
    if not todo:
        return _complete(bucket, job, f, data, recorded)
    state["parts"] = recorded
    return StepResult(
        done=False,
        message=f"Sent {len(recorded)} of {total} parts of {f.name}.",
        remote_data=data,
    )


def _adopt_held(
    f: FileJob,
    fileobj: IO[bytes],
    held: dict[int, tuple[str, int]],
    recorded: dict[str, str],
    part_size: int,
) -> dict[str, str]:
    """Parts S3 holds that no result recorded (a crash after sending them) are kept
    when they are our bytes: the same MD5 as that part of the file, read locally."""
    adopted = dict(recorded)
    for number, (etag, size) in held.items():
        if str(number) in adopted or size != _part_length(f.size, part_size, number):
            continue
        fileobj.seek((number - 1) * part_size)
        if hashlib.md5(fileobj.read(size)).hexdigest() == etag:  # noqa: S324
            adopted[str(number)] = etag
    return adopted


def parts_of_size(size: int, part_size: int) -> int:
    return max(1, -(-size // part_size))


def _part_length(size: int, part_size: int, number: int) -> int:
    return max(0, min(part_size, size - (number - 1) * part_size))


def _send_part(
    bucket: Bucket, f: FileJob, fileobj: IO[bytes], *, upload_id: str, number: int, part_size: int
) -> str:
    """One part, read from its place in the file (one part in memory at a time)."""
    fileobj.seek((number - 1) * part_size)
    chunk = fileobj.read(_part_length(f.size, part_size, number))
    expected = hashlib.md5(chunk).hexdigest()  # noqa: S324 (S3's ETag is MD5)
    reply = bucket.call("upload_part", f.name, UploadId=upload_id, PartNumber=number, Body=chunk)
    if _etag(reply) != expected:
        raise ChecksumMismatch(
            f"The bucket received other bytes for part {number} of {f.name}; sending it again."
        )
    return expected


def _complete(
    bucket: Bucket, job: Job, f: FileJob, data: dict[str, Any], recorded: dict[str, str]
) -> StepResult:
    """Join the parts (one write), then check the object's size."""
    state = data["files"][f.name]["s3"]
    parts = [
        {"PartNumber": int(n), "ETag": f'"{etag}"'}
        for n, etag in sorted(recorded.items(), key=lambda p: int(p[0]))
    ]
    bucket.call(
        "complete_multipart_upload",
        f.name,
        UploadId=state["upload_id"],
        MultipartUpload={"Parts": parts},
    )
    return _check_object(bucket, job, f, data, recorded)


_MD5_ETAG = re.compile(r"[0-9a-f]{32}(-[0-9]+)?")


def _other_bytes(etag: str, expected: str, md5: str) -> bool:
    """An ETag in S3's MD5 forms that is neither our multipart one nor our file's MD5
    (an opaque ETag some other S3 implementation gives proves nothing either way)."""
    return bool(_MD5_ETAG.fullmatch(etag)) and etag not in (expected, md5)


def _check_object(
    bucket: Bucket, job: Job, f: FileJob, data: dict[str, Any], recorded: dict[str, str]
) -> StepResult:
    """Each part's MD5 was checked as it went; the object must have our size, and an
    S3-style multipart ETag ("<md5 of the parts' MD5s>-<count>") must be the one of our
    parts. A wrong object is uploaded anew (twice at most, then the target fails)."""
    held = _head(bucket, f.name)
    joined = b"".join(bytes.fromhex(recorded[n]) for n in sorted(recorded, key=int))
    expected = f"{hashlib.md5(joined).hexdigest()}-{len(recorded)}"  # noqa: S324
    wrong_etag = _other_bytes(_etag(held or {}), expected, f.md5.lower())
    if held is None or int(held.get("ContentLength") or -1) != f.size or wrong_etag:
        entry = data["files"][f.name]
        entry.pop("s3", None)
        entry["s3_restarts"] = int(entry.get("s3_restarts") or 0) + 1
        if entry["s3_restarts"] > MAX_RESTARTS:
            raise PermanentError(
                f"The bucket's copy of {f.name} differed from what was sent (size or ETag) "
                f"{entry['s3_restarts']} times. Press Retry; if it happens again, tell the "
                "portal's administrators (Coscine's S3 storage may be misbehaving)."
            )
        return StepResult(
            done=False,
            message=f"The bucket's copy of {f.name} is not what was sent; sending it again.",
            remote_data=data,
        )
    data["files"][f.name].pop("s3_restarts", None)
    return stored_result(
        job,
        f,
        data,
        via="s3",
        checksum=f"md5:{f.md5.lower()}",
        message=f"Stored {f.name} in the bucket.",
    )


def _upload_gone(bucket: Bucket, job: Job, f: FileJob, data: dict[str, Any]) -> StepResult:
    """The recorded upload no longer exists: an earlier attempt completed it (its reply
    lost), or it was aborted; the object tells which."""
    recorded = dict(data["files"][f.name]["s3"].get("parts") or {})
    if len(recorded) == parts_of_size(
        f.size, int(data["files"][f.name]["s3"].get("part_size") or PART_SIZE)
    ):
        held = _head(bucket, f.name)
        if held is not None and int(held.get("ContentLength") or -1) == f.size:
            return _check_object(bucket, job, f, data, recorded)
    data["files"][f.name].pop("s3", None)
    return StepResult(
        done=False,
        message=f"The unfinished upload of {f.name} was gone from the bucket; starting it again.",
        remote_data=data,
    )
