"""DataMeta submissions: pre-validation, the submission itself, its confirmation, and what
services add to the submitted samples afterwards.

Implements ``POST /presubvalidation``, ``POST /submissions`` and the read-back of the
submitted metadatasets (``GET /metadatasets/{id}``) of DataMeta's REST API
(reference/datameta-rest-api.txt) as a real DataMeta 1.1.1 runs them
(reference/notes-datameta.md; "§" = one of its numbered findings, "#n" = exchange n of
datameta-exchanges.md). Each step first brings the staged items in line with the sheet
(``staging``, ``files``); a 400 is placed on rows and cells
(``errors``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from deposits import metadata as md

from ..base import IdentifierOut, Job, ProgressFn, StepResult, TransientError
from .account import api_root
from .errors import DataMetaRejected, placed
from .fields import service_fields
from .files import sync_files
from .rules import site_unique_values
from .staging import (
    data_of,
    file_reset,
    ids_of,
    rows_of,
    staged_result,
    sync_metadatasets,
)

if TYPE_CHECKING:
    from ..http import HttpClient


# --------------------------------------------------------------------------- steps


def sync(client: HttpClient, root: str, job: Job, progress: ProgressFn) -> StepResult | None:
    """One operation that brings the staged items closer to the sheet, or None."""
    return sync_metadatasets(client, root, job) or sync_files(client, root, job, progress)


def presubvalidate(client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
    """Check everything the server checks before submitting (``POST /presubvalidation``:
    204, or 400 with the problems, #58-#62, #66, #69): site-wide uniqueness too."""
    root = api_root(client)
    op = sync(client, root, job, progress)
    if op is not None:
        return op
    try:
        client.request("POST", f"{root}/presubvalidation", json=_request_body(job))
    except DataMetaRejected as exc:
        return _rejected(exc, job)
    return StepResult(message="DataMeta found nothing to object to.")


def submit(client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
    """``POST /submissions`` (200 with the ids, #63). A re-run after a submission whose
    reply was lost gets "Already submitted" (#64) and adopts that submission."""
    root = api_root(client)
    op = sync(client, root, job, progress)
    if op is not None:
        return op
    body = _request_body(job)
    label = str(job.options.get("label") or md.title(job.metadata)).strip()
    if label:
        body["label"] = label[:250]
    try:
        reply = client.json(client.request("POST", f"{root}/submissions", json=body))
    except DataMetaRejected as exc:
        if any(i.message == "Already submitted" for i in exc.items):
            submission = _submission_of(client, root, job)
            if submission is not None:
                return _submitted(job, submission, "Adopted the earlier submission.")
        return _rejected(exc, job)
    return _submitted(job, ids_of(reply), "Submitted.")


def confirm(client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
    """Read a submitted metadataset back (``GET /metadatasets/{id}``, #76) and check
    it names our submission; then the submission's id is final."""
    root = api_root(client)
    data = data_of(job)
    submission = data.get("submission") or {}
    found = _submission_of(client, root, job)
    if found is None or found["uuid"] != submission.get("uuid"):
        raise TransientError("DataMeta does not show the submission yet; checking again.")
    value = found["site"] or found["uuid"]
    return StepResult(
        message=f"Submitted as {value}.",
        remote_id=found["uuid"],
        remote_state="submitted",
        identifiers=[IdentifierOut("datameta-submission", value)],
    )


# --------------------------------------------------------------------------- submission


def _request_body(job: Job) -> dict[str, Any]:
    data = data_of(job)
    return {
        "metadatasetIds": [e["uuid"] for e in data.get("metadatasets") or [] if e],
        "fileIds": [
            e["uuid"] for e in (data.get("files") or {}).values() if e.get("state") == "done"
        ],
    }


def _submission_of(client: HttpClient, root: str, job: Job) -> dict[str, str] | None:
    first = next((e for e in data_of(job).get("metadatasets") or [] if e), None)
    if first is None:
        return None
    reply = client.json(client.request("GET", f"{root}/metadatasets/{first['uuid']}"))
    submission = reply.get("submissionId") if isinstance(reply, dict) else None
    if not isinstance(submission, dict) or not submission.get("uuid"):
        return None
    return {"uuid": str(submission["uuid"]), "site": str(submission.get("site") or "")}


def _submitted(job: Job, submission: dict[str, str], message: str) -> StepResult:
    data = data_of(job)
    sets = [e for e in data.get("metadatasets") or [] if e]
    taken = dict(data.get("submitted_ids") or {})
    for name, values in site_unique_values(rows_of(job.options), job.schema).items():
        taken[name] = sorted({*taken.get(name, []), *values})
    new = {
        **{k: v for k, v in data.items() if k != "published"},
        "submission": submission,
        "submitted_at": datetime.now(UTC).isoformat(),
        "submitted_ids": taken,
    }
    shown = submission["site"] or submission["uuid"]
    return StepResult(
        message=f"{message} {len(sets)} samples as {shown}.",
        remote_id=submission["uuid"],
        remote_state="submitted",
        remote_data=new,
        identifiers=[
            IdentifierOut("datameta-metadataset", e.get("site") or e["uuid"]) for e in sets
        ],
    )


def _rejected(exc: DataMetaRejected, job: Job) -> StepResult:
    """A 400 from presubvalidation or submission, placed on rows and cells.

    Items DataMeta no longer has ("Not found", #60) are forgotten and the step runs
    again, which stages them anew; anything else fails the target with its problems.
    """
    data = data_of(job)
    gone = {i.entity for i in exc.items if i.message == "Not found" and i.entity}
    if gone and len(gone) == len(exc.items):
        sets = [e if e and e["uuid"] not in gone else None for e in data.get("metadatasets") or []]
        files = {n: e for n, e in (data.get("files") or {}).items() if e.get("uuid") not in gone}
        return staged_result(
            job,
            data,
            metadatasets=sets,
            files=files,
            message=f"DataMeta no longer has {len(gone)} staged item(s); staging them again.",
            file_updates={
                n: file_reset()
                for n, e in (data.get("files") or {}).items()
                if e.get("uuid") in gone
            },
        )
    raise placed(exc, rows_of(job.options), data)


# --------------------------------------------------------------------------- after submitting


def poll_published(client: HttpClient, job: Job) -> StepResult:
    """Values services add to the submitted metadatasets (an accession number): read
    with ``GET /metadatasets/{id}`` (#76) until every service field of every sample
    has one. Nothing is asked once all are in, or when the site has no services."""
    services = service_fields(job.schema)
    data = data_of(job)
    sets = data.get("metadatasets") or []
    if not services or data.get("services_complete") or not data.get("submission"):
        return StepResult()
    root = api_root(client)
    results: dict[str, dict[str, str]] = dict(data.get("results") or {})
    identifiers = []
    fresh = 0
    for index, entry in enumerate(sets):
        if not entry:
            continue
        have = results.get(str(index), {})
        if all(d.name in have for d in services):
            continue
        reply = client.json(client.request("GET", f"{root}/metadatasets/{entry['uuid']}"))
        record = reply.get("record") if isinstance(reply, dict) else None
        for d in services:
            value = (record or {}).get(d.name)
            if value not in (None, "") and d.name not in have:
                have = {**have, d.name: str(value)}
                identifiers.append(IdentifierOut(f"datameta-result:{d.name}"[:40], str(value)))
                fresh += 1
        results[str(index)] = have
    complete = all(
        all(d.name in results.get(str(i), {}) for d in services) for i, e in enumerate(sets) if e
    )
    return StepResult(
        message=f"DataMeta services added {fresh} result(s)." if fresh else "",
        remote_data={**data, "results": results, "services_complete": complete},
        identifiers=identifiers,
    )
