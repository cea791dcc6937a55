"""DataMeta: the connector, the steps of a submission in their order, and what each does.

Implements DataMeta's REST API (reference/datameta-rest-api.txt) as a real DataMeta 1.1.1
runs it (reference/notes-datameta.md; "§" = one of its numbered findings, "#n" = exchange
n of datameta-exchanges.md). The site's metadata fields live in ``fields``, the
checks on the sample rows in ``rules``, reading sample sheets in
``sheet``, the error shapes in ``errors``; the API root, the key and
the site's definitions in ``account``; keeping the staged metadatasets in line
with the sheet in ``staging`` and the staged files in ``files``;
pre-validation, submission and what services add afterwards in ``submission``.

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

from typing import TYPE_CHECKING, Any, ClassVar

from ..base import (
    ActionSpec,
    Connector,
    FileJob,
    FileState,
    IdentifierScheme,
    Identity,
    Job,
    Problem,
    ProgressFn,
    RemotePhase,
    RemoteRecord,
    RepositoryError,
    Step,
    StepKind,
    StepResult,
)
from ..errors import PermanentError
from ..limiter import RateWindow
from . import account, rules, submission
from .errors import cell_path, parse_error
from .fields import definitions
from .files import left_out, reset_all, sync_files
from .staging import (
    STAGED,
    data_of,
    delete_staged,
    rows_of,
    sync_metadatasets,
)

if TYPE_CHECKING:
    from ..http import HttpClient

LABEL = "DataMeta"

__all__ = ["STAGED", "DataMetaConnector"]

STAGE = Step("stage_metadatasets", "Staging the samples' metadatasets", StepKind.CREATES_RECORD)
SUBMIT_STEPS = (
    Step(
        "upload",
        "Uploading files",
        StepKind.SENDS_FILES,
        files_label="Uploading file {n} of {total}",
    ),
    Step("presubvalidate", "Pre-validating the submission", StepKind.DESCRIBES),
    Step("submit", "Submitting", StepKind.PUBLISHES),
    Step("confirm", "Confirming the submission", StepKind.CONFIRMS),
)
DELETE_STAGED = Step("delete_staged", "Deleting the staged metadatasets and files")
# Submitted metadatasets and files never change on DataMeta: there is no edit and no
# discard of a submission. A new version is a new submission, possible whenever its
# site-unique values (sample ids) are new to the site; what it staged can be deleted.
ACTIONS = (
    ActionSpec(
        "publish",
        "Submit",
        frozenset({RemotePhase.NONE, RemotePhase.DRAFT}),
        (STAGE, *SUBMIT_STEPS),
        consequences=(
            "The samples are staged on DataMeta as metadatasets, the files they name are "
            "uploaded, and everything is submitted together.",
            "Submitted metadatasets and files can never be changed or deleted on DataMeta: "
            "corrections are a new submission.",
        ),
    ),
    ActionSpec(
        "new_version",
        "New submission",
        frozenset({RemotePhase.PUBLISHED}),
        (Step("new_submission", "Starting a new submission"), STAGE, *SUBMIT_STEPS),
        consequences=(
            "The table's samples and the files they name are submitted to DataMeta as a "
            "new submission.",
            "DataMeta accepts each site-unique value (a sample id) only once: samples "
            "submitted before need new ids first, or nothing is sent.",
            "The earlier submission stays as it is: DataMeta never changes submitted data.",
        ),
    ),
    ActionSpec(
        "discard_version",
        "Delete staged items",
        frozenset({RemotePhase.VERSION_DRAFT}),
        (DELETE_STAGED,),
        consequences=(
            "The metadatasets and files staged on DataMeta for the new submission are "
            "deleted; none of them was submitted.",
            "The earlier submission stays as it is, and your deposit, its samples and its "
            "files stay here.",
        ),
        danger=True,
    ),
    ActionSpec(
        "delete",
        "Delete staged items",
        frozenset({RemotePhase.DRAFT}),
        (DELETE_STAGED,),
        consequences=(
            "The metadatasets and files staged on DataMeta for this deposit are deleted; "
            "nothing was submitted.",
            "Your deposit, its samples and its files stay here.",
        ),
        danger=True,
    ),
)


class DataMetaConnector(Connector):
    """Any DataMeta site (CoGDat and others) through its REST API."""

    kind: ClassVar[str] = "datameta"
    label: ClassVar[str] = LABEL
    default_base_url: ClassVar[str] = "https://data.cogdat.de"
    # §26: DataMeta sends no rate headers at all, so this budget is ours to choose;
    # accounts can set their own (LinkedAccount.rate_windows).
    default_rate_windows: ClassVar[tuple[RateWindow, ...]] = (
        RateWindow(120, 60),
        RateWindow(3000, 3600),
    )
    # API document "Authentication"; §1: the scheme must be exactly "Bearer"
    auth_header: ClassVar[tuple[str, str]] = ("Authorization", "Bearer {token}")
    actions: ClassVar[tuple[ActionSpec, ...]] = ACTIONS
    identifier_schemes: ClassVar[tuple[IdentifierScheme, ...]] = (
        IdentifierScheme("datameta-submission", "DataMeta submission", cited=True),
        IdentifierScheme("datameta-metadataset", "DataMeta metadataset"),
        IdentifierScheme("datameta-result:", "Service result", prefix=True),
    )
    option_keys: ClassVar[tuple[str, ...]] = ("metadatasets", "label")
    uses_schema: ClassVar[bool] = True
    polls_after_publish: ClassVar[bool] = True
    sends_description: ClassVar[bool] = False  # only the samples (options) and files

    # ---------------------------------------------------------------- contract

    def phase(self, record: RemoteRecord) -> RemotePhase:
        """Published, with a new submission begun on top (``remote_data`` holds no
        submission then, only what is staged for the next one): its staged items can be
        deleted. Staged items of a first submission are a DRAFT (``remote_id`` STAGED)."""
        data = record.remote_data
        if record.published and record.remote_id and data and not data.get("submission"):
            return RemotePhase.VERSION_DRAFT
        return super().phase(record)

    def validate(
        self,
        metadata: dict[str, Any],
        options: dict[str, Any],
        files: list[FileJob],
        schema: dict[str, Any],
    ) -> list[Problem]:
        """The site's rules for every cell, as the server checks them (``rules``)."""
        if not definitions(schema):
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
        live = [f.name for f in files if f.status != FileState.DELETE]
        problems = []
        for p in rules.check_rows(rows, schema, live):
            prefix = f"Row {p.row + 1}: " if p.row is not None else ""
            problems.append(
                Problem(cell_path(p.row, p.column), prefix + p.message, repository=self.kind)
            )
        return problems

    def leaves_out(self, job: Job) -> set[str]:
        """The files no sample names (``files.left_out``)."""
        return set(left_out(job))

    def run_step(self, step: str, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        handlers = {
            "stage_metadatasets": self._stage_metadatasets,
            "upload": self._upload,
            "presubvalidate": submission.presubvalidate,
            "submit": submission.submit,
            "confirm": submission.confirm,
            "new_submission": self._new_submission,
            "delete_staged": self._delete_staged_step,
        }
        if step not in handlers:
            raise PermanentError(f"DataMeta has no step '{step}'.")
        return handlers[step](client, job, progress)

    def parse_error(self, status: int, body: bytes, content_type: str) -> RepositoryError:
        return parse_error(status, body, content_type)

    # ---------------------------------------------------------------- account

    def api_root(self, client: HttpClient) -> str:
        """The versioned API root, found through ``GET /api`` (``account``)."""
        return account.api_root(client)

    def verify(self, client: HttpClient) -> Identity:
        """Whose key it is and when it expires (``account``)."""
        return account.verify(client)

    def fetch_schema(self, client: HttpClient) -> dict[str, Any]:
        """The site's metadata definitions, in its order (``account``)."""
        return account.fetch_schema(client)

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
        result = op or StepResult(message="All files are uploaded and confirmed.")
        result.file_updates = {**left_out(job), **result.file_updates}
        return result

    def _new_submission(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """A new version on DataMeta is a new submission of the table's samples; the
        published one stays as it is (submitted data never changes).

        First the published submission's record is put aside (``published``, to return
        to if the new one is given up), then the table is checked against the
        site-unique values already submitted: DataMeta would refuse them only at
        pre-validation, after everything is staged, so they are refused here, before
        anything is sent.
        """
        data = data_of(job)
        if data.get("submission"):
            return StepResult(
                done=False,
                message="Starting a new submission; the previous one stays as it is.",
                remote_data={
                    "previous": [*(data.get("previous") or []), data["submission"]],
                    "submitted_ids": data.get("submitted_ids") or {},
                    "published": data,
                },
                file_updates=reset_all(job),
            )
        clashes = rules.already_submitted(
            rows_of(job.options), job.schema, data.get("submitted_ids") or {}
        )
        if clashes:
            raise PermanentError(
                f"Nothing was sent. {rules.new_ids_needed(clashes)} Then press Retry, or "
                "Delete staged items to return to the published submission."
            )
        return StepResult(message="No sample was submitted from this deposit before.")

    def _delete_staged_step(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Delete every staged item of this target (``POST /rpc/delete-metadatasets`` and
        ``/rpc/delete-files``, 204). Only unsubmitted items are recorded as staged:
        submitted ones answer 403 and are never asked for.

        On top of a published submission the record put aside when the new one began
        comes back (the lifecycle restores the published version too).
        """
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
            remote_data=_without_staged(data, version=job.action == "discard_version"),
            file_updates=reset_all(job),
        )

    # ---------------------------------------------------------------- after submitting

    def poll_published(self, client: HttpClient, job: Job) -> StepResult:
        """Values services add to the submitted metadatasets (``submission``)."""
        return submission.poll_published(client, job)


def _without_staged(data: dict[str, Any], *, version: bool) -> dict[str, Any]:
    """``remote_data`` once the staged items are deleted: on top of a published
    submission, the record put aside when the new one began (``_new_submission``; a
    new submission begun before that record was kept gets its submission back from
    ``previous``), else nothing but the earlier submissions."""
    published = data.get("published")
    if isinstance(published, dict):
        return published
    previous = list(data.get("previous") or [])
    if version and previous:
        return {"previous": previous[:-1], "submission": previous[-1]}
    return {"previous": previous}
