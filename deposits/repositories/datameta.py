"""DataMeta: the remote operations of a submission, and what comes back after it.

Implements DataMeta's REST API (reference/datameta-rest-api.txt) as a real DataMeta 1.1.1
runs it (reference/notes-datameta.md; "§" = one of its numbered findings, "#n" = exchange
n of datameta-exchanges.md). The sample sheet rules live in ``datameta_sheet``, the error
shapes in ``datameta_errors``, and keeping the staged items in line with the sheet in
``datameta_staging``.

A submission is many staged items: one metadataset per row of the sheet and each file
the rows name (announced, uploaded, confirmed), pre-validated and then submitted
together. Each step first brings the staged items in line with the sheet (one remote
write per call), so whichever step a retry resumes at, it works on what the sheet says
now, and a worker killed at any instant leaves nothing that a re-run does not reuse or
delete. Nothing here depends on the sandbox: the API root is discovered, upload URLs are
taken as the server hands them out (and checked against the allowlist by HttpClient).

``Target.options`` of a DataMeta target::

    {"metadatasets": [{"SampleID": "AB12", "FileR1": "AB12_R1.fastq.gz", ...}, ...],
     "label": "optional submission label (the deposit's title when empty)"}

Identifier schemes: ``datameta-submission`` (the submission's site id, e.g. DMS-51583203),
``datameta-metadataset`` (each sample's site id, DMR-...), and ``datameta-result:<field>``
for values that services add after submission (an accession number, say).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from . import datameta_sheet as sheet
from .base import (
    AuthError,
    Connector,
    FileJob,
    IdentifierOut,
    Identity,
    Job,
    PermanentError,
    Problem,
    ProgressFn,
    RepositoryError,
    StepResult,
    TransientError,
)
from .datameta_errors import DataMetaRejected, cell_path, parse_error, placed
from .datameta_staging import (
    STAGED,
    data_of,
    delete_staged,
    file_reset,
    ids_of,
    referenced_files,
    rows_of,
    staged_result,
    sync,
    sync_files,
    sync_metadatasets,
)

if TYPE_CHECKING:
    from .http import HttpClient

LABEL = "DataMeta"
# How long a discovered API root (GET /api -> /api/v1) is trusted by this process.
API_ROOT_TTL = 600.0
_API_VERSION = re.compile(r"/api/(v[0-9][^/?#]*)/?$")
_api_roots: dict[str, tuple[str, float]] = {}

__all__ = ["STAGED", "DataMetaConnector"]


class DataMetaConnector(Connector):
    """Any DataMeta site (CoGDat and others) through its REST API."""

    kind: ClassVar[str] = "datameta"
    label: ClassVar[str] = LABEL
    default_base_url: ClassVar[str] = "https://data.cogdat.de"
    # §26: DataMeta sends no rate headers at all, so this budget is ours to choose;
    # accounts can set their own (LinkedAccount.rate_windows).
    default_rate_windows: ClassVar[list[dict[str, int]]] = [
        {"limit": 120, "seconds": 60},
        {"limit": 3000, "seconds": 3600},
    ]
    identifier_scheme: ClassVar[str] = "datameta-submission"
    # API document "Authentication"; §1: the scheme must be exactly "Bearer"
    auth_header: ClassVar[tuple[str, str]] = ("Authorization", "Bearer {token}")
    uses_schema: ClassVar[bool] = True
    polls_after_publish: ClassVar[bool] = True

    STEPS: ClassVar[dict[str, list[str]]] = {
        "publish": ["stage_metadatasets", "upload", "presubvalidate", "submit", "confirm"],
        "new_version": [
            "new_submission",
            "stage_metadatasets",
            "upload",
            "presubvalidate",
            "submit",
            "confirm",
        ],
        "delete": ["delete_staged"],
    }

    # ---------------------------------------------------------------- contract

    def validate(
        self,
        metadata: dict[str, Any],
        options: dict[str, Any],
        files: list[FileJob],
        schema: dict[str, Any] | None = None,
    ) -> list[Problem]:
        """The site's rules for every cell, as the server checks them (``datameta_sheet``)."""
        if not sheet.definitions(schema):
            return [
                Problem(
                    "options.metadatasets",
                    "The metadata fields of this DataMeta site are not known yet; they are "
                    "fetched when the account is linked. Check that the linked account "
                    "works, then refresh the fields.",
                    repository=self.kind,
                )
            ]
        rows = rows_of(options)
        if not rows:
            return [
                Problem(
                    "options.metadatasets",
                    "Add the samples: import a sample sheet (CSV or XLSX) or fill in the "
                    "table. DataMeta needs one metadataset per sample.",
                    repository=self.kind,
                )
            ]
        live = [f.name for f in files if f.status != "delete"]
        problems = []
        for p in sheet.check_rows(rows, schema, live):
            prefix = f"Row {p.row + 1}: " if p.row is not None else ""
            problems.append(
                Problem(cell_path(p.row, p.column), prefix + p.message, repository=self.kind)
            )
        return problems

    def steps(self, job: Job) -> list[str]:
        """Edits and discards have no DataMeta equivalent: submitted data never changes."""
        return list(self.STEPS.get(job.action, ["unsupported"]))

    def run_step(self, step: str, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        handlers = {
            "stage_metadatasets": self._stage_metadatasets,
            "upload": self._upload,
            "presubvalidate": self._presubvalidate,
            "submit": self._submit,
            "confirm": self._confirm,
            "new_submission": self._new_submission,
            "delete_staged": self._delete_staged_step,
        }
        if step not in handlers:
            raise PermanentError(
                f"DataMeta cannot do '{job.action}': submitted metadatasets and files never "
                "change. Submit the corrected samples as a new version instead."
            )
        return handlers[step](client, job, progress)

    def parse_error(self, status: int, body: bytes, content_type: str) -> RepositoryError:
        return parse_error(status, body, content_type)

    def step_label(self, step: str, job: Job | None = None) -> str:
        if step == "upload" and job is not None:
            wanted = referenced_files(job)
            done = sum(
                1 for e in data_of(job).get("files", {}).values() if e.get("state") == "done"
            )
            if wanted:
                return f"Uploading {min(done + 1, len(wanted))} of {len(wanted)} files"
        return {
            "stage_metadatasets": "Staging the samples' metadatasets",
            "upload": "Uploading files",
            "presubvalidate": "Pre-validating the submission",
            "submit": "Submitting",
            "confirm": "Confirming the submission",
            "new_submission": "Starting a new submission",
            "delete_staged": "Deleting the staged metadatasets and files",
        }.get(step, super().step_label(step, job))

    # ---------------------------------------------------------------- account

    def api_root(self, client: HttpClient) -> str:
        """The versioned API root, found through ``GET /api`` (API document "API URL";
        §5: 302 to ``.../api/v1``).

        Only the version is taken from the redirect: the Location is built from the Host
        header and is always http under waitress (§18), so its scheme and host are not
        trusted. A base URL that already ends in ``/api/vN`` is used as it is.
        """
        base = client.base_url.rstrip("/")
        if _API_VERSION.search(urlsplit(base).path):
            return base
        site = base[: -len("/api")] if base.endswith("/api") else base
        cached = _api_roots.get(site)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        response = client.request(
            "GET", f"{site}/api", headers={"Accept": "*/*"}, follow_redirects=False
        )
        where = response.headers.get("Location") or response.url or ""
        found = _API_VERSION.search(urlsplit(where).path)
        if not found:
            raise PermanentError(
                f"{site} does not look like a DataMeta site: {site}/api did not lead to an "
                "API version. Use the site's address, e.g. https://data.cogdat.de."
            )
        root = f"{site}/api/{found.group(1)}"
        _api_roots[site] = (root, time.monotonic() + API_ROOT_TTL)
        return root

    def verify(self, client: HttpClient) -> Identity:
        """Whose key it is (``GET /rpc/whoami``, §6) and when it expires (``GET
        /users/{id}/keys``; keys last at most 30 days, §2)."""
        root = self.api_root(client)
        who = client.json(client.request("GET", f"{root}/rpc/whoami"))
        if not isinstance(who, dict) or not who.get("id"):
            raise TransientError("DataMeta's whoami reply named nobody; retrying.")
        user = ids_of(who)
        group = who.get("group") or {}
        group_name = str(group.get("name") or "") if isinstance(group, dict) else ""
        expires, exact = self._key_expiry(client, root, user["uuid"])
        name = str(who.get("name") or who.get("email") or user["site"] or user["uuid"])
        return Identity(
            name=f"{name}, group {group_name}" if group_name else name,
            detail={
                "user": user,
                "email": str(who.get("email") or ""),
                "group": {**ids_of(group), "name": group_name} if isinstance(group, dict) else {},
                "site_admin": bool(who.get("siteAdmin")),
                "api_root": root,
                "key_expiry_exact": exact,
            },
            expires_at=expires,
        )

    def _key_expiry(self, client: HttpClient, root: str, user: str) -> tuple[str | None, bool]:
        """(expiry, whether it is surely this key's).

        The key list (#12) does not say which key is ours. With one live key it is ours;
        with several, the latest expiry is taken: a warning may come late, but a working
        key is never reported as expired (an expired one fails with 401 anyway).
        """
        try:
            keys = client.json(client.request("GET", f"{root}/users/{user}/keys"))
        except AuthError:
            raise
        except RepositoryError:
            return None, False
        live = [k for k in keys if isinstance(k, dict) and not k.get("hasExpired")]
        if not live or any(not k.get("expires") for k in live):
            return None, len(live) == 1
        latest = max((_aware(k["expires"]) or "" for k in live), default="")
        return latest or None, len(live) == 1

    def fetch_schema(self, client: HttpClient) -> dict[str, Any]:
        """The site's metadata definitions (``GET /metadata``, #21), in its order."""
        root = self.api_root(client)
        data = client.json(client.request("GET", f"{root}/metadata"))
        if not isinstance(data, list):
            raise TransientError("DataMeta's metadata definitions were not a list; retrying.")
        found = [sheet.Definition.from_json(d) for d in data if isinstance(d, dict)]
        ordered = sorted((d for d in found if d.name), key=lambda d: (d.order, d.name))
        return {"definitions": [d.as_json() for d in ordered]}

    # ---------------------------------------------------------------- steps

    def _stage_metadatasets(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """``POST /metadatasets`` for each row not staged yet (one per call, #23)."""
        root = self.api_root(client)
        op = sync_metadatasets(client, root, job)
        if op is not None:
            return op
        return StepResult(message=f"All {len(rows_of(job.options))} samples are staged.")

    def _upload(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Announce, upload and confirm each file the rows name (API document "File
        Uploads"; #31, #37, #38): one announce or one upload+confirm per call."""
        root = self.api_root(client)
        op = sync_metadatasets(client, root, job) or sync_files(client, root, job, progress)
        if op is not None:
            return op
        return StepResult(message="All files are uploaded and confirmed.")

    def _presubvalidate(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Check everything the server checks before submitting (``POST /presubvalidation``:
        204, or 400 with the problems, #58-#62, #66, #69): site-wide uniqueness too."""
        root = self.api_root(client)
        op = sync(client, root, job, progress)
        if op is not None:
            return op
        try:
            client.request("POST", f"{root}/presubvalidation", json=self._request_body(job))
        except DataMetaRejected as exc:
            return self._rejected(exc, job)
        return StepResult(message="DataMeta found nothing to object to.")

    def _submit(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """``POST /submissions`` (200 with the ids, #63). A re-run after a submission whose
        reply was lost gets "Already submitted" (#64) and adopts that submission."""
        root = self.api_root(client)
        op = sync(client, root, job, progress)
        if op is not None:
            return op
        body = self._request_body(job)
        label = str(job.options.get("label") or job.metadata.get("title") or "").strip()
        if label:
            body["label"] = label[:250]
        try:
            reply = client.json(client.request("POST", f"{root}/submissions", json=body))
        except DataMetaRejected as exc:
            if any(i.message == "Already submitted" for i in exc.items):
                submission = self._submission_of(client, root, job)
                if submission is not None:
                    return self._submitted(job, submission, "Adopted the earlier submission.")
            return self._rejected(exc, job)
        return self._submitted(job, ids_of(reply), "Submitted.")

    def _confirm(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Read a submitted metadataset back (``GET /metadatasets/{id}``, #76) and check
        it names our submission; then the submission's id is final."""
        root = self.api_root(client)
        data = data_of(job)
        submission = data.get("submission") or {}
        found = self._submission_of(client, root, job)
        if found is None or found["uuid"] != submission.get("uuid"):
            raise TransientError("DataMeta does not show the submission yet; checking again.")
        value = found["site"] or found["uuid"]
        return StepResult(
            message=f"Submitted as {value}.",
            remote_id=found["uuid"],
            remote_state="submitted",
            identifiers=[IdentifierOut("datameta-submission", value)],
        )

    def _new_submission(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """A new version on DataMeta is a new submission of the current samples: the
        previous one stays as it is (submitted data never changes)."""
        data = data_of(job)
        if (data.get("metadatasets") or data.get("files")) and not data.get("submission"):
            return StepResult(message="Continuing the new submission.")
        previous = list(data.get("previous") or [])
        if data.get("submission"):
            previous.append(data["submission"])
        return StepResult(
            message="Starting a new submission; the previous one stays as it is.",
            remote_data={"previous": previous},
            file_updates={
                f.name: {"status": "pending", "remote_id": "", "remote_checksum": ""}
                for f in job.files
                if f.status != "delete"
            },
        )

    def _delete_staged_step(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Delete every staged item of this target (``POST /rpc/delete-metadatasets`` and
        ``/rpc/delete-files``, 204). Submitted items answer 403 and are never touched."""
        root = self.api_root(client)
        data = data_of(job)
        files = [e["uuid"] for e in data.get("files", {}).values() if e.get("uuid")]
        sets = [e["uuid"] for e in data.get("metadatasets", []) if e]
        if sets:
            delete_staged(client, root, "metadatasets", sets)
        if files:
            delete_staged(client, root, "files", files)
        return StepResult(
            message=f"Deleted {len(sets)} staged metadataset(s) and {len(files)} file(s).",
            remote_data={"previous": data.get("previous") or []},
            file_updates={
                f.name: {"status": "pending", "remote_id": "", "remote_checksum": ""}
                for f in job.files
                if f.status != "delete"
            },
        )

    # ---------------------------------------------------------------- staging

    # ---------------------------------------------------------------- submission

    def _request_body(self, job: Job) -> dict[str, Any]:
        data = data_of(job)
        return {
            "metadatasetIds": [e["uuid"] for e in data.get("metadatasets") or [] if e],
            "fileIds": [
                e["uuid"] for e in (data.get("files") or {}).values() if e.get("state") == "done"
            ],
        }

    def _submission_of(self, client: HttpClient, root: str, job: Job) -> dict[str, str] | None:
        first = next((e for e in data_of(job).get("metadatasets") or [] if e), None)
        if first is None:
            return None
        reply = client.json(client.request("GET", f"{root}/metadatasets/{first['uuid']}"))
        submission = reply.get("submissionId") if isinstance(reply, dict) else None
        if not isinstance(submission, dict) or not submission.get("uuid"):
            return None
        return {"uuid": str(submission["uuid"]), "site": str(submission.get("site") or "")}

    def _submitted(self, job: Job, submission: dict[str, str], message: str) -> StepResult:
        data = data_of(job)
        sets = [e for e in data.get("metadatasets") or [] if e]
        new = {
            **data,
            "submission": submission,
            "submitted_at": datetime.now(UTC).isoformat(),
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

    def _rejected(self, exc: DataMetaRejected, job: Job) -> StepResult:
        """A 400 from presubvalidation or submission, placed on rows and cells.

        Items DataMeta no longer has ("Not found", #60) are forgotten and the step runs
        again, which stages them anew; anything else fails the target with its problems.
        """
        data = data_of(job)
        gone = {i.entity for i in exc.items if i.message == "Not found" and i.entity}
        if gone and len(gone) == len(exc.items):
            sets = [
                e if e and e["uuid"] not in gone else None for e in data.get("metadatasets") or []
            ]
            files = {
                n: e for n, e in (data.get("files") or {}).items() if e.get("uuid") not in gone
            }
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

    # ---------------------------------------------------------------- after submitting

    def poll_published(self, client: HttpClient, job: Job) -> StepResult:
        """Values services add to the submitted metadatasets (an accession number): read
        with ``GET /metadatasets/{id}`` (#76) until every service field of every sample
        has one. Nothing is asked once all are in, or when the site has no services."""
        services = sheet.service_fields(job.schema)
        data = data_of(job)
        sets = data.get("metadatasets") or []
        if not services or data.get("services_complete") or not data.get("submission"):
            return StepResult()
        root = self.api_root(client)
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
            all(d.name in results.get(str(i), {}) for d in services)
            for i, e in enumerate(sets)
            if e
        )
        return StepResult(
            message=f"DataMeta services added {fresh} result(s)." if fresh else "",
            remote_data={**data, "results": results, "services_complete": complete},
            identifiers=identifiers,
        )


def _aware(stamp: Any) -> str | None:
    """DataMeta's naive local-time ISO strings (§2, §18) as aware UTC ones.

    The server's zone is not published; UTC is assumed, which is at most a few hours
    off for a key that lasts up to 30 days.
    """
    if not stamp:
        return None
    try:
        parsed = datetime.fromisoformat(str(stamp))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()


def forget_api_roots() -> None:
    """Tests: forget the API roots this process discovered."""
    _api_roots.clear()
