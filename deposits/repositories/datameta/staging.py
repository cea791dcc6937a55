"""DataMeta staging: the staged items' record, and the metadatasets kept in line with the sheet.

DataMeta lists no staged items (reference/notes-datameta.md; "§" = one of its numbered
findings, "#n" = exchange n of datameta-exchanges.md), so every id is recorded in
``Job.remote_data`` the moment the server gives it, and each operation here is one
remote write that a re-run after a crash either repeats harmlessly or skips:

* a row whose record changed, or that was removed, has its staged metadataset deleted
  (bulk ``POST /rpc/delete-metadatasets``), and a row without one gets it (``POST
  /metadatasets``, #23);
* the staged files are kept in line the same way in ``files`` (announce, upload,
  confirm), with the bookkeeping here.

``remote_data`` of a DataMeta target::

    {"metadatasets": [{"uuid", "site", "digest"} | None, ...],   # by row index
     "files": {name: {"uuid", "site", "md5", "state": "announced" | "done",
                      "upload_url", "upload_headers" (encrypted), "mismatches"}},
     "submission": {"uuid", "site"}, "submitted_at": ISO, "previous": [submissions],
     "submitted_ids": {site-unique field: [values submitted by this target]},
     "results": {row index: {service field: value}}, "services_complete": bool,
     "published": {the remote_data above, put aside while a new submission is staged}}
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import TYPE_CHECKING, Any

from ..base import (
    FileUpdate,
    Job,
    NotFound,
    Problem,
    StepResult,
    TransientError,
    ValidationFailed,
)
from .errors import DataMetaRejected, placed
from .fields import record, submitter_fields

if TYPE_CHECKING:
    from ..http import HttpClient

# Target.remote_id while items are staged but not submitted: it lets people delete them.
STAGED = "staged"


def ids_of(data: Any) -> dict[str, str]:
    """``{"uuid", "site"}`` of an id object (§10: metadatum and key ids have only uuid)."""
    ident = data.get("id") if isinstance(data, dict) else None
    if not isinstance(ident, dict) or not ident.get("uuid"):
        raise TransientError("DataMeta's reply carried no id; retrying.")
    return {"uuid": str(ident["uuid"]), "site": str(ident.get("site") or "")}


def _digest(record: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- metadatasets


def sync_metadatasets(client: HttpClient, root: str, job: Job) -> StepResult | None:
    data = data_of(job)
    records = [record(r, submitter_fields(job.schema)) for r in rows_of(job.options)]
    staged: list[dict[str, str] | None] = list(data.get("metadatasets") or [])
    stale = [
        i
        for i, e in enumerate(staged)
        if e and (i >= len(records) or e.get("digest") != _digest(records[i]))
    ]
    if stale:
        delete_staged(client, root, "metadatasets", [staged[i]["uuid"] for i in stale])  # type: ignore[index]
        for i in stale:
            staged[i] = None
        while staged and staged[-1] is None and len(staged) > len(records):
            staged.pop()
        return staged_result(
            job,
            data,
            metadatasets=staged,
            message=f"Removed {len(stale)} staged metadataset(s) that no longer match the table.",
        )
    staged += [None] * (len(records) - len(staged))
    todo = next((i for i, e in enumerate(staged) if e is None), None)
    if todo is None:
        return None
    try:
        reply = client.json(
            client.request("POST", f"{root}/metadatasets", json={"record": records[todo]})
        )
    except DataMetaRejected as exc:
        raise placed(exc, rows_of(job.options), data_of(job), row=todo) from None
    except ValidationFailed as exc:  # §13: a pattern failed on a field with no description
        raise ValidationFailed(
            exc.message,
            status=exc.status,
            problems=[
                Problem(
                    f"options.metadatasets.{todo}",
                    f"Row {todo + 1}: {p.message}",
                    source="datameta",
                    repository="datameta",
                )
                for p in exc.problems
            ],
        ) from None
    ids = ids_of(reply)
    staged[todo] = {**ids, "digest": _digest(records[todo])}
    return staged_result(
        job,
        data,
        metadatasets=staged,
        message=f"Staged sample {todo + 1} of {len(records)} as {ids['site'] or ids['uuid']}.",
    )


# --------------------------------------------------------------------------- shared with the files


def staged_result(
    job: Job,
    data: dict[str, Any],
    *,
    message: str,
    metadatasets: list[dict[str, str] | None] | None = None,
    files: dict[str, dict[str, Any]] | None = None,
    file_updates: dict[str, FileUpdate] | None = None,
    files_removed: list[str] | None = None,
) -> StepResult:
    """A sync operation's result: the whole remote_data, and the step runs again."""
    new = dict(data)
    if metadatasets is not None:
        new["metadatasets"] = metadatasets
    if files is not None:
        new["files"] = files
    job.remote_data = new
    anything = any(new.get("metadatasets") or []) or bool(new.get("files"))
    remote_id = job.remote_id
    if remote_id in ("", STAGED):
        remote_id = STAGED if anything else ""
    return StepResult(
        done=False,
        message=message,
        remote_id=remote_id,
        remote_state="staged" if remote_id == STAGED else None,
        remote_data=new,
        file_updates=file_updates or {},
        files_removed=files_removed or [],
    )


def delete_staged(client: HttpClient, root: str, kind: str, ids: list[str]) -> None:
    """Bulk-delete staged items (``POST /rpc/delete-{kind}``); when the bulk call
    refuses (one id already gone), each is deleted alone and 404s are ignored (#56,
    #57, #70)."""
    key = "fileIds" if kind == "files" else "metadatasetIds"
    try:
        client.request("POST", f"{root}/rpc/delete-{kind}", json={key: ids})
    except (NotFound, DataMetaRejected):
        for one in ids:
            with contextlib.suppress(NotFound):
                client.request("DELETE", f"{root}/{kind}/{one}")


def rows_of(options: dict[str, Any]) -> list[dict[str, Any]]:
    """The sample rows of a target's options (``{"metadatasets": [row, ...]}``)."""
    rows = options.get("metadatasets") or []
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def referenced_files(job: Job) -> set[str]:
    """Names of the files the rows' file columns name."""
    fields = [d for d in submitter_fields(job.schema) if d.is_file]
    return {str(r[d.name]) for r in rows_of(job.options) for d in fields if r.get(d.name)}


def data_of(job: Job) -> dict[str, Any]:
    return job.remote_data if isinstance(job.remote_data, dict) else {}


def file_reset() -> FileUpdate:
    return FileUpdate.reset()
