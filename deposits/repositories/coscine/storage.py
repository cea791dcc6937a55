"""Each file's metadata graph, its bytes and their confirmation, in Coscine's order.

For every file, one remote write per call (notes A.2 "Ordering"): first its metadata
graph (``PUT .../graphs/{encodedPath}/metadata/content``, Turtle built from the profile
form), then its bytes (``POST``/``PUT .../storage/{encodedPath}/content``, multipart
field ``file``, streamed; S3-backed resources go through ``s3`` instead), confirmed by a
``HEAD`` of the stored file. What was done is kept per file in ``remote_data["files"]``::

    {"<name>": {"metadata_sha256": "<sha256 of the Turtle sent>", "size": <bytes>,
                "sha256": "<sha256 of the bytes stored>", "via": "rest" | "s3",
                "stage": "metadata" (graph sent, bytes not yet) | "stored" | "",
                "s3": {...}  # an unfinished multipart upload (``s3``)}}

A file that an earlier attempt may have sent (its status is not "pending", or the step
is resumed) is looked at before anything is sent again: a graph already there with our
triples is not PUT again, bytes already there with our size are not uploaded again, and
a stored file of another size is replaced (``PUT``) rather than added (``POST``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import quote

from ..base import (
    ChecksumMismatch,
    FileJob,
    FileState,
    FileUpdate,
    Job,
    NotFound,
    PermanentError,
    ProgressFn,
    RepositoryError,
    StepResult,
    TransientError,
)
from . import s3
from .resources import data_section, encoded, is_s3, listing, resource_path, stored_result

if TYPE_CHECKING:
    from ..http import HttpClient

TURTLE = "text/turtle"
MAX_REPAIRS = 2  # metadata graphs sent again by confirm before it gives up
TOO_LARGE = (
    "Coscine refused {name} as too large for a web-storage resource (413). Store it in "
    "an S3-backed resource instead: choose or create a resource of an S3 type "
    "(rdss3...) for this target, then publish again."
)


# --------------------------------------------------------------------------- multipart


class MultipartStream:
    """``multipart/form-data`` with one part ``file``, read from ``fileobj`` as it goes.

    Nothing but the part's head and tail is held: each ``read(n)`` returns at most ``n``
    bytes, taken straight from the file, so memory stays flat whatever the size. The
    total ``size`` is known up front (Content-Length), which web servers in front of
    Coscine need.
    """

    def __init__(self, fileobj: IO[bytes], filename: str, size: int) -> None:
        boundary = secrets.token_hex(16)
        safe = re.sub(r'[\r\n"\\]', "_", filename)
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self.head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{safe}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{boundary}--\r\n".encode()
        self.file_size = size
        self.size = len(self.head) + size + len(self.tail)
        self.fileobj = fileobj
        self.position = 0

    def read(self, amount: int = -1) -> bytes:
        if amount is None or amount < 0:
            amount = self.size - self.position
        pieces: list[bytes] = []
        while amount > 0 and self.position < self.size:
            piece = self._piece(amount)
            if not piece:
                break  # the file ended early: Content-Length will not be met, the server says so
            pieces.append(piece)
            self.position += len(piece)
            amount -= len(piece)
        return b"".join(pieces)

    def _piece(self, amount: int) -> bytes:
        head, body_end = len(self.head), len(self.head) + self.file_size
        if self.position < head:
            return self.head[self.position : self.position + amount]
        if self.position < body_end:
            return self.fileobj.read(min(amount, body_end - self.position))
        start = self.position - body_end
        return self.tail[start : start + amount]


# --------------------------------------------------------------------------- metadata


def subject_for(job: Job, name: str) -> str:
    """The node the file's metadata graph describes."""
    return f"https://purl.org/coscine/resources/{job.remote_id}/{quote(name)}"


def metadata_turtle(job: Job, f: FileJob) -> str:
    """The file's metadata graph as Turtle, from the application profile's form."""
    from . import form, profiles  # late: they import rdflib, needed only when storing here

    uri = str(job.options.get("application_profile") or "")
    profile = (job.schema.get("lookups") or {}).get(f"profile:{uri}")
    if not uri or not isinstance(profile, dict):
        raise TransientError(
            f"The application profile {uri or '(none chosen)'} has not been fetched from "
            "Coscine yet; trying again shortly."
        )
    shaped = profiles.form_for(profile)
    values = form.values_for(shaped, job.options, f.name, job.metadata)
    return str(form.to_turtle(shaped, values, subject_for(job, f.name)))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def graph_path(job: Job, name: str) -> str:
    return f"{resource_path(job)}/graphs/{encoded(name)}/metadata/content"


def remote_graph(client: HttpClient, job: Job, name: str) -> str | None:
    """The latest metadata graph of ``name`` as Turtle, None when it has none."""
    try:
        response = client.request("GET", graph_path(job, name), headers={"Accept": TURTLE})
    except RepositoryError as exc:
        if isinstance(exc, NotFound) or exc.status == 404:
            return None
        raise
    return response.text


def same_graph(ours: str, theirs: str | None) -> bool:
    """The same statements about the file, however each side serialised them.

    Compared as (predicate, object) pairs, whatever the subject is called: the graph
    describes one node, and Coscine names the node of a stored version its own way
    (``.../@type=metadata&version=n``).
    """
    if theirs is None:
        return False
    from rdflib import Graph

    try:
        remote = Graph().parse(data=theirs, format="turtle")
    except Exception:  # what Coscine sent back is not ours if it does not even parse
        return False
    local = Graph().parse(data=ours, format="turtle")
    return set(local.predicate_objects()) == set(remote.predicate_objects())


def _send_metadata(
    client: HttpClient, job: Job, f: FileJob, data: dict[str, Any], turtle: str
) -> StepResult | None:
    """PUT the graph (one write), or None when an earlier attempt already stored it."""
    entry = data["files"].setdefault(f.name, {})
    looked = f.status != FileState.PENDING and same_graph(turtle, remote_graph(client, job, f.name))
    entry.update(metadata_sha256=digest(turtle), stage="metadata")
    if looked:
        return None
    client.request(
        "PUT",
        graph_path(job, f.name),
        data=turtle.encode(),
        headers={"Content-Type": TURTLE},
    )
    return StepResult(
        done=False,
        message=f"Stored the metadata of {f.name}.",
        file_updates={f.name: FileUpdate(status=FileState.UPLOADING)},
        remote_data=data,
    )


# --------------------------------------------------------------------------- bytes


def storage_path(job: Job, name: str) -> str:
    return f"{resource_path(job)}/storage/{encoded(name)}"


def remote_size(client: HttpClient, job: Job, name: str) -> int | None:
    """The size Coscine reports for ``name`` (HEAD; the listing if HEAD says none),
    None when it holds no such file."""
    try:
        response = client.request("HEAD", storage_path(job, name))
    except RepositoryError as exc:
        if isinstance(exc, NotFound) or exc.status == 404:
            return None
        raise
    length = response.headers.get("Content-Length", "")
    return int(length) if length.isdigit() else _listed_size(client, job, name)


def _listed_size(client: HttpClient, job: Job, name: str) -> int | None:
    sizes = listing(client, job, prefix=name).get(name)
    return sizes[0] if sizes else None


def _send_rest(
    client: HttpClient, job: Job, f: FileJob, data: dict[str, Any], progress: ProgressFn
) -> StepResult:
    """Upload the bytes (POST, or PUT over what is there), then HEAD their size."""
    entry = data["files"][f.name]
    kept = entry.get("sha256") == f.sha256 and entry.get("size") == f.size
    ours = kept or not entry.get("sha256")  # nothing else was ever stored under this name
    there: int | None = None
    if kept or job.resumed or f.status != FileState.PENDING or entry.get("sha256"):
        there = remote_size(client, job, f.name)
        if there == f.size and ours:
            return stored_result(
                job,
                f,
                data,
                via="rest",
                checksum=f"size:{f.size}",
                message=f"{f.name} is already stored; not sent again.",
            )
    _upload(client, job, f, "POST" if there is None else "PUT", progress)
    landed = remote_size(client, job, f.name)
    if landed != f.size:
        raise ChecksumMismatch(
            f"Coscine holds {landed if landed is not None else 'no'} bytes of {f.name} "
            f"after the upload instead of {f.size}; it will be sent again."
        )
    return stored_result(
        job, f, data, via="rest", checksum=f"size:{f.size}", message=f"Stored {f.name}."
    )


def _upload(client: HttpClient, job: Job, f: FileJob, method: str, progress: ProgressFn) -> None:
    with f.open() as fileobj:
        body = MultipartStream(fileobj, f.name, f.size)
        skip = len(body.head)
        try:
            client.upload(
                method,
                f"{storage_path(job, f.name)}/content",
                fileobj=cast(IO[bytes], body),
                size=body.size,
                headers={"Content-Type": body.content_type},
                progress=lambda sent: progress(f.name, max(0, min(f.size, sent - skip))),
            )
        except RepositoryError as exc:
            if exc.status == 413:
                raise PermanentError(TOO_LARGE.format(name=f.name), status=413) from None
            raise


# --------------------------------------------------------------------------- steps


def send_next(client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
    """The next pending file's next operation: its metadata graph, then its bytes."""
    f = next(job.pending_files(), None)
    if f is None:
        return StepResult(message="Every file is stored with its metadata.")
    data = data_section(job)
    turtle = metadata_turtle(job, f)
    entry = data["files"].get(f.name) or {}
    if entry.get("stage") not in ("metadata",) or entry.get("metadata_sha256") != digest(turtle):
        sent = _send_metadata(client, job, f, data, turtle)
        if sent is not None:
            return sent
    kind = str((data.get("resource") or {}).get("general_type") or "")
    if is_s3(kind):
        return s3.send_bytes(client, job, f, data, progress)
    return _send_rest(client, job, f, data, progress)


def confirm(client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
    """Every live file is in the resource once, with our size and a metadata graph with
    our statements. A graph that is not ours is sent again (one per call, MAX_REPAIRS
    times at most); files missing or of another size fail the step, and Retry sends them
    again (``resources.prepare`` looks for them)."""
    stored = listing(client, job)
    wrong = [_size_problem(f, stored.get(f.name, [])) for f in job.live_files()]
    wrong = [problem for problem in wrong if problem]
    if wrong:
        raise PermanentError(
            "Coscine does not hold every file as sent: "
            + "; ".join(wrong)
            + ". Press Retry to send them again (what is already there is not sent twice)."
        )
    for f in job.live_files():
        turtle = metadata_turtle(job, f)
        if not same_graph(turtle, remote_graph(client, job, f.name)):
            return _repair_metadata(client, job, f, turtle)
    return StepResult(
        message=f"Coscine holds all {len(job.live_files())} files with their metadata.",
        remote_state="stored",
    )


def _repair_metadata(client: HttpClient, job: Job, f: FileJob, turtle: str) -> StepResult:
    data = data_section(job)
    entry = data["files"].setdefault(f.name, {})
    repairs = int(entry.get("metadata_repairs") or 0) + 1
    if repairs > MAX_REPAIRS:
        raise PermanentError(
            f"The metadata of {f.name} on Coscine is still not what was sent after "
            f"{MAX_REPAIRS} corrections. Check the file's metadata on Coscine; if Coscine "
            "changes it on arrival, tell the portal's administrators."
        )
    client.request(
        "PUT", graph_path(job, f.name), data=turtle.encode(), headers={"Content-Type": TURTLE}
    )
    entry.update(metadata_sha256=digest(turtle), metadata_repairs=repairs)
    return StepResult(
        done=False,
        message=f"The metadata of {f.name} on Coscine was not what was sent; sent it again.",
        remote_data=data,
    )


def _size_problem(f: FileJob, sizes: list[int]) -> str:
    """What is wrong with how the listing shows ``f`` ("" when nothing)."""
    if sizes == [f.size]:
        return ""
    if not sizes:
        return f"{f.name} is missing"
    if len(sizes) > 1:
        return f"{f.name} is listed {len(sizes)} times"
    return f"{f.name} has {sizes[0]} bytes instead of {f.size}"


def mark_for_update(client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
    """The edit action's first step (no remote call): every live file's metadata is to
    be sent again, its bytes only if they changed since they were stored (by size and
    SHA-256, checked by ``send_next``)."""
    data = data_section(job)
    updates: dict[str, FileUpdate] = {}
    changed = 0
    for f in job.live_files():
        entry = data["files"].setdefault(f.name, {})
        entry["stage"] = ""
        entry.pop("metadata_repairs", None)  # a new round of corrections
        if entry.get("sha256") != f.sha256 or entry.get("size") != f.size:
            changed += 1
        updates[f.name] = FileUpdate(status=FileState.PENDING, bytes_sent=0)
    return StepResult(
        message=(
            f"{len(updates)} files' metadata will be sent again; {changed} of them with "
            "their bytes (new or changed)."
        ),
        file_updates=updates,
        remote_data=data,
    )
