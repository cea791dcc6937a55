"""Zenodo: the remote operations.

Implements the legacy deposit REST API (reference/zenodo-rest-api.txt) as zenodo.org runs
it today on InvenioRDM (reference/notes-zenodo.md; "§" below means a section of the
notes). The metadata crosswalk lives in ``crosswalk``, Zenodo's rules checked
locally in ``rules``; reading Zenodo's replies and error replies into typed
objects lives in ``replies``.

Each ``run_step`` does one remote write (plus, where needed, one read that makes it
idempotent) and can be re-run after a crash at any instant:
never two drafts for one target, never a file sent twice into a record, never a lost DOI.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from deposits import metadata as md

from ..base import (
    MARKER,
    ActionSpec,
    ChecksumMismatch,
    Connector,
    FileJob,
    FileState,
    FileUpdate,
    IdentifierScheme,
    Identity,
    Job,
    LinkRole,
    NotFound,
    PermanentError,
    Problem,
    ProgressFn,
    RemotePhase,
    RemoteRecord,
    RepositoryError,
    Step,
    StepKind,
    StepResult,
    TransientError,
    ValidationFailed,
)
from ..limiter import RateWindow
from . import crosswalk, rules
from .replies import BucketObject, Deposition, parse_error

if TYPE_CHECKING:
    from ..http import HttpClient

LABEL = "Zenodo"
# How many of the most recent drafts a create retry looks through for its marker.
MARKER_SEARCH_SIZE = 50
# Deposition states of a published record: "inprogress" while an edit is open (§1.3).
PUBLISHED_STATES = ("done", "inprogress")


def _id_from_link(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- declarations

UPLOAD = Step(
    "upload", "Uploading files", StepKind.SENDS_FILES, files_label="Uploading file {n} of {total}"
)
DESCRIBE = Step("describe", "Sending the metadata", StepKind.DESCRIBES)
PUBLISH = Step("publish", "Publishing", StepKind.PUBLISHES)
CONFIRM = Step("confirm", "Confirming the DOI", StepKind.CONFIRMS)
ACTIONS = (
    ActionSpec(
        "publish",
        "Publish",
        frozenset({RemotePhase.NONE, RemotePhase.DRAFT}),
        (Step("create", "Creating the Zenodo draft", StepKind.CREATES_RECORD),
         UPLOAD, DESCRIBE, PUBLISH, CONFIRM),
        consequences=(
            "Zenodo mints a DOI and makes the record public as its access settings say.",
            "A published Zenodo record cannot be deleted: later changes need a new version "
            "or an edit.",
        ),
    ),
    ActionSpec(
        "new_version",
        "New version",
        frozenset({RemotePhase.PUBLISHED}),
        (Step("new_version", "Opening a draft of the new version", StepKind.CREATES_RECORD),),
        consequences=(
            "Zenodo opens a draft of a new version, with the published version's files "
            "carried over. Nothing is published yet.",
            "You then change the description and the files here (keep, replace, delete), "
            "compare with the published version, and publish the new version or discard it.",
        ),
    ),
    ActionSpec(
        "publish_version",
        "Publish new version",
        frozenset({RemotePhase.VERSION_DRAFT}),
        (Step("reconcile_files", "Comparing files with the previous version"),
         UPLOAD, DESCRIBE, PUBLISH, CONFIRM),
        consequences=(
            "Zenodo mints a DOI for the new version; the DOI for all versions stays the same.",
            "The files and description shown below as changed replace the published "
            "version's in the new version; the published version stays as it is.",
            "A published Zenodo version cannot be deleted.",
        ),
    ),
    ActionSpec(
        "discard_version",
        "Discard new version",
        frozenset({RemotePhase.VERSION_DRAFT}),
        (Step("discard_version", "Deleting the draft of the new version"),),
        consequences=(
            "The draft of the new version is deleted from Zenodo, with any files sent to it.",
            "The published version, its DOIs, and your deposit here stay as they are.",
        ),
        danger=True,
    ),
    ActionSpec(
        "edit",
        "Edit published metadata",
        frozenset({RemotePhase.PUBLISHED, RemotePhase.EDITING}),
        (Step("edit", "Opening the record for editing"), DESCRIBE, PUBLISH, CONFIRM),
        consequences=(
            "The published record's description on Zenodo is replaced by the one here, "
            "under the same DOI; the change is public at once.",
            "Its files stay as they are: changing files needs a new version.",
        ),
    ),
    ActionSpec(
        "discard",
        "Discard edit",
        frozenset({RemotePhase.EDITING}),
        (Step("discard", "Discarding the unpublished changes"),),
        consequences=(
            "The open edit of the published record on Zenodo is thrown away.",
            "The published record stays as it was before the edit.",
        ),
        danger=True,
    ),
    ActionSpec(
        "delete",
        "Delete remote draft",
        frozenset({RemotePhase.DRAFT}),
        (Step("delete", "Deleting the draft"),),
        consequences=(
            "The unpublished Zenodo draft is deleted, with the files uploaded to it.",
            "Your deposit, its metadata and its files stay here.",
        ),
        danger=True,
    ),
)  # fmt: skip


# --------------------------------------------------------------------------- connector


class ZenodoConnector(Connector):
    """Zenodo and its sandbox through the legacy deposit API (§1.2)."""

    kind: ClassVar[str] = "zenodo"
    label: ClassVar[str] = LABEL
    default_base_url: ClassVar[str] = "https://zenodo.org/api"
    # API document "Rate limiting", §1.9: authenticated 100/min and 5000/h
    default_rate_windows: ClassVar[tuple[RateWindow, ...]] = (
        RateWindow(100, 60),
        RateWindow(5000, 3600),
    )
    auth_header: ClassVar[tuple[str, str]] = ("Authorization", "Bearer {token}")
    actions: ClassVar[tuple[ActionSpec, ...]] = ACTIONS
    marks_creates: ClassVar[bool] = True  # the marker goes in metadata.notes
    identifier_schemes: ClassVar[tuple[IdentifierScheme, ...]] = (
        IdentifierScheme("doi", "DOI", "https://doi.org/{value}", cited=True),
    )
    # §1.3 links: "html" on depositions, "record_html" once published, "latest_html"
    link_keys: ClassVar[dict[LinkRole, tuple[str, ...]]] = {
        LinkRole.RECORD: ("html", "record_html"),
        LinkRole.LATEST: ("latest_html",),
    }
    option_keys: ClassVar[tuple[str, ...]] = ("communities", "prereserve_doi", "metadata_only")

    # ---------------------------------------------------------------- contract

    def validate(
        self,
        metadata: dict[str, Any],
        options: dict[str, Any],
        files: list[FileJob],
        schema: dict[str, Any],
    ) -> list[Problem]:
        """Zenodo's rules checked locally (§1.4, §1.5, §1.7); see ``rules``."""
        return rules.validate(metadata, options, files)

    def phase(self, record: RemoteRecord) -> RemotePhase:
        """A published record with ``state == "inprogress"`` has an edit open; one whose
        recorded deposition is an unsubmitted draft has a new version open (§1.3, §1.6)."""
        if record.published and record.remote_id and record.remote_state == "inprogress":
            return RemotePhase.EDITING
        if record.published and record.remote_id and record.remote_state == "unsubmitted":
            return RemotePhase.VERSION_DRAFT
        return super().phase(record)

    def crosswalk(self, job: Job) -> dict[str, Any]:
        """The full Zenodo ``metadata`` for ``job`` (API document "Deposit metadata")."""
        return crosswalk.to_zenodo(job.metadata, job.options, job.related)

    def run_step(self, step: str, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Do one remote operation of ``step``; idempotent when re-run after a crash.
        A retried publish still starts with ``create``, which is then a read of the
        existing draft."""
        handlers = {
            "create": self._create,
            "upload": self._upload,
            "describe": self._describe,
            "publish": self._publish,
            "confirm": self._confirm,
            "new_version": self._new_version,
            "reconcile_files": self._reconcile_files,
            "edit": self._edit,
            "discard": self._discard,
            "delete": self._delete,
            "discard_version": self._delete,
        }
        if step not in handlers:
            raise PermanentError(f"Zenodo has no step '{step}'.")
        return handlers[step](client, job, progress)

    def parse_error(self, status: int, body: bytes, content_type: str) -> RepositoryError:
        """See the module function ``parse_error`` (§1.8)."""
        return parse_error(status, body, content_type)

    def verify(self, client: HttpClient) -> Identity:
        """Prove the token works with the cheapest authenticated call (API document
        "List"). Zenodo has no "who am I" for personal tokens, so the owner id comes from
        a deposition when there is one."""
        data = client.json(client.request("GET", "deposit/depositions", params={"size": 1}))
        if isinstance(data, list) and data and isinstance(data[0], dict) and data[0].get("owner"):
            owner = str(data[0]["owner"])
            return Identity(name=f"Zenodo user {owner}", detail={"owner": owner})
        return Identity(name="token with deposit scope", detail={})

    # ---------------------------------------------------------------- steps

    def _get(self, client: HttpClient, job: Job) -> Deposition:
        """``GET /deposit/depositions/:id`` (resolves the draft first, §1.2)."""
        return Deposition.from_json(
            client.json(client.request("GET", f"deposit/depositions/{job.remote_id}"))
        )

    def _create(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Create the draft (API document "Create"), or find the one we already made.

        The lifecycle stores ``create_marker`` before calling us, and we put the marker in
        ``metadata.notes`` of the draft (``describe`` replaces it later). A resumed create
        first lists the account's most recent drafts and adopts the one carrying the marker.
        The list is search-index backed and lags by a second or two (§1.2, zenodo #627):
        this relies on the lifecycle retrying a crashed create only after a delay
        longer than that (Target.create_started_at) and on the draft being among the
        MARKER_SEARCH_SIZE most recent drafts of the account.
        """
        if job.remote_id:
            return self._get(client, job).result("The draft already exists.")
        if job.create_marker and job.resumed:
            found = self._find_marked_draft(client, job.create_marker)
            if found is not None:
                return found.result("Adopted the draft an earlier attempt created.")
        minimal: dict[str, Any] = {
            "title": md.title(job.metadata) or "Untitled",
            "upload_type": "other",
            **crosswalk.upload_type(job.metadata),
        }
        if job.create_marker:
            minimal["notes"] = job.create_marker
        data = client.json(
            client.request("POST", "deposit/depositions", json={"metadata": minimal})
        )
        return Deposition.from_json(data).result("Created the Zenodo draft.")

    def find_created(self, client: HttpClient, job: Job) -> StepResult | None:
        found = self._find_marked_draft(client, job.create_marker)
        return None if found is None else found.result("Adopted the draft a slow create made.")

    def marked_drafts(self, client: HttpClient) -> list[tuple[str, str]]:
        drafts = []
        for item in self._recent_drafts(client):
            notes = str((item.get("metadata") or {}).get("notes", ""))
            marker = MARKER.search(notes)
            if marker and not item.get("submitted") and item.get("id") is not None:
                drafts.append((str(item["id"]), marker.group(0)))
        return drafts

    def delete_orphan(self, client: HttpClient, remote_id: str) -> None:
        """``DELETE /deposit/depositions/:id`` of an unpublished draft (API document
        "Delete"); one already gone is what we wanted."""
        with contextlib.suppress(NotFound):
            client.request("DELETE", f"deposit/depositions/{remote_id}")

    def _find_marked_draft(self, client: HttpClient, marker: str) -> Deposition | None:
        """The most recent draft whose ``metadata.notes`` holds ``marker``."""
        for item in self._recent_drafts(client):
            if marker in str((item.get("metadata") or {}).get("notes", "")):
                return Deposition.from_json(item)
        return None

    def _recent_drafts(self, client: HttpClient) -> list[dict[str, Any]]:
        """The account's most recent drafts (API document "List": ``status=draft``,
        ``sort=mostrecent``)."""
        data = client.json(
            client.request(
                "GET",
                "deposit/depositions",
                params={"status": "draft", "sort": "mostrecent", "size": MARKER_SEARCH_SIZE},
            )
        )
        return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []

    def _upload(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Send the next pending file with the bucket PUT (API document "Quickstart",
        §1.2 ``PUT /files/:bucket/:key``, §1.7 checksums).

        A PUT to the same key overwrites (§1.2), so a re-run after a crash never leaves two
        copies. A file an earlier attempt may have sent (its status is no longer
        "pending") is looked for first, and not sent again if the draft holds our MD5.
        """
        pending = next(job.pending_files(), None)
        if pending is None:
            return StepResult(message="All files are uploaded.")
        more = any(f.name != pending.name for f in job.pending_files())
        bucket = job.remote_links.get("bucket")
        if pending.status != FileState.PENDING or not bucket:
            # An earlier attempt at this file may have sent it, or we lack the bucket link:
            # look at the draft first. A first attempt goes straight to the PUT.
            deposition = self._get(client, job)
            for remote in deposition.files:
                if remote.filename == pending.name and remote.checksum == pending.md5.lower():
                    return StepResult(
                        done=not more,
                        message=f"{pending.name} was already on Zenodo; not sent again.",
                        file_updates={pending.name: _file_done(remote.id, remote.checksum)},
                    )
            bucket = deposition.links.get("bucket")
            if not bucket:
                raise PermanentError(
                    f"Zenodo gave no upload location (bucket) for draft {deposition.id}; "
                    "the draft may have files disabled. Discard it and publish again."
                )
        with pending.open() as fileobj:
            response = client.upload(
                "PUT",
                f"{bucket}/{quote(pending.name, safe='')}",
                fileobj=fileobj,
                size=pending.size,
                headers={"Content-Type": "application/octet-stream"},
                progress=lambda sent: progress(pending.name, sent),
            )
        stored = BucketObject.from_json(client.json(response))
        if stored.checksum != pending.md5.lower():
            raise ChecksumMismatch(
                f"Zenodo holds different bytes for {pending.name}: expected MD5 "
                f"{pending.md5.lower()}, got {stored.checksum or 'none'}. It will be sent again."
            )
        return StepResult(
            done=not more,
            message=f"Uploaded {pending.name}.",
            file_updates={
                pending.name: _file_done(stored.version_id, stored.checksum, pending.size)
            },
        )

    def _describe(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Replace the whole metadata (API document "Update"; §1.4: PUT is a full
        replace, which also drops the create marker from ``notes``)."""
        data = client.json(
            client.request(
                "PUT",
                f"deposit/depositions/{job.remote_id}",
                json={"metadata": self.crosswalk(job)},
            )
        )
        return Deposition.from_json(data).result("Sent the metadata.")

    def _publish(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Publish (API document "Publish"; §1.2: 202, DOI set at once).

        A resumed publish reads first: if an earlier attempt published and crashed (or
        timed out, zenodo #2131) before recording, the DOI is taken from the record rather
        than publishing again (a second publish is a 404). A first attempt posts at once.
        """
        url = job.remote_links.get("publish")
        if job.resumed or not url:
            deposition = self._get(client, job)
            if deposition.published:
                return deposition.result("Already published.", identifiers=deposition.identifiers())
            url = deposition.links.get("publish")
        url = url or f"deposit/depositions/{job.remote_id}/actions/publish"
        published = Deposition.from_json(client.json(client.request("POST", url)))
        # the DOI is named once, by the "Published" line the lifecycle writes at the end
        return published.result(
            "Zenodo accepted the publish request.", identifiers=published.identifiers()
        )

    def _confirm(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Read the published record back and check its DOI (§1.3 links.record).

        ``links.latest`` is not followed: after someone publishes a newer version it
        names that version, not ours.
        """
        url = job.remote_links.get("record") or f"records/{job.remote_id}"
        record = Deposition.from_json(client.json(client.request("GET", url)))
        if not record.doi or record.state not in PUBLISHED_STATES:
            raise TransientError(
                "Zenodo has not finished publishing the record yet (no DOI); checking again."
            )
        links = {**job.remote_links, **record.links}
        return StepResult(
            message="Read the published record back from Zenodo.",
            remote_state="done",
            remote_links=links,
            identifiers=record.identifiers(),
        )

    def _new_version(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Open a new-version draft of the published record (API document "New version";
        §1.6). An open draft is reused: calling ``newversion`` again while it exists fails
        with "Please remove all files first." (langextract #461, preston #368).
        """
        record = self._get(client, job)
        if not record.submitted:
            # a re-run after the draft's id was recorded: we are already on the draft
            return self._adopt_version(record, job, "Continuing the new-version draft.")
        draft = self._open_version_draft(client, record)
        if draft is not None:
            return self._adopt_version(draft, job, "Reusing the open new-version draft.")
        url = (
            record.links.get("newversion") or f"deposit/depositions/{record.id}/actions/newversion"
        )
        try:
            reply = Deposition.from_json(client.json(client.request("POST", url)))
        except ValidationFailed:
            # a draft exists that the record's links did not show yet
            draft = self._open_version_draft(client, self._get(client, job))
            if draft is None:
                raise
            return self._adopt_version(draft, job, "Reusing the open new-version draft.")
        if reply.id == record.id:
            # the documented (legacy) reply is the old record; its latest_draft is the new one
            draft = self._open_version_draft(client, reply)
            if draft is None:
                raise TransientError("Zenodo did not show the new-version draft yet; retrying.")
            reply = draft
        return self._adopt_version(reply, job, "Started a new version.")

    def _open_version_draft(self, client: HttpClient, record: Deposition) -> Deposition | None:
        link = record.links.get("latest_draft", "")
        if not link or _id_from_link(link) == record.id:
            return None
        return Deposition.from_json(client.json(client.request("GET", link)))

    def _adopt_version(self, draft: Deposition, job: Job, message: str) -> StepResult:
        # every file is compared with what the draft inherited, in reconcile_files
        updates = {f.name: _file_pending() for f in job.live_files()}
        return draft.result(message, file_updates=updates)

    def _reconcile_files(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Make the new-version draft's inherited files match ours (§1.6, notes §4
        "explicit file diff"): delete one stale file per call, keep identical ones."""
        ours = {f.name: f.md5.lower() for f in job.live_files()}
        deposition = self._get(client, job)
        keep = {}
        stale = []
        for remote in deposition.files:
            if ours.get(remote.filename) == remote.checksum:
                keep[remote.filename] = _file_done(remote.id, remote.checksum)
            else:
                stale.append(remote)
        if not stale:
            return StepResult(message="The draft's files match ours.", file_updates=keep)
        gone = min(stale, key=lambda f: f.filename)  # a stable order, for people and tests
        # a 404: the attempt that crashed before recording it had deleted it already
        with contextlib.suppress(NotFound):
            client.request("DELETE", f"deposit/depositions/{deposition.id}/files/{gone.id}")
        updates = dict(keep)
        if gone.filename in ours:
            updates[gone.filename] = _file_pending()
        return StepResult(
            done=len(stale) == 1,
            message=f"Removed the previous version's {gone.filename}.",
            file_updates=updates,
            files_removed=[gone.filename],
        )

    def _edit(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Open the published record for editing (API document "Edit"; §1.2: 201 and
        idempotent, returns the open draft if there is one)."""
        data = client.json(
            client.request("POST", f"deposit/depositions/{job.remote_id}/actions/edit")
        )
        return Deposition.from_json(data).result("Opened the record for editing.")

    def _discard(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Discard the open changes (API document "Discard"; §1.2: 204, same handler as
        deleting the draft, so a never-published deposit is deleted as a whole). A repeat
        answers 404: the draft is already gone."""
        with contextlib.suppress(NotFound):
            client.request("POST", f"deposit/depositions/{job.remote_id}/actions/discard")
        if job.remote_state in PUBLISHED_STATES:
            return StepResult(message="Discarded the unpublished changes.", remote_state="done")
        return StepResult(
            message="Discarded the draft.", remote_id="", remote_state="deleted", remote_links={}
        )

    def _delete(self, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Delete the unpublished draft (API document "Delete"; §1.2: 204, a repeat
        answers 404, and so does a published record, hence the local check)."""
        if job.remote_state in PUBLISHED_STATES:
            raise PermanentError(
                "Zenodo never deletes published records; ask Zenodo support, or publish a "
                "new version instead."
            )
        if job.remote_id:
            with contextlib.suppress(NotFound):
                client.request("DELETE", f"deposit/depositions/{job.remote_id}")
        return StepResult(
            message="Deleted the draft.", remote_id="", remote_state="deleted", remote_links={}
        )


def _file_done(remote_id: str, checksum: str, bytes_sent: int | None = None) -> FileUpdate:
    return FileUpdate.done(remote_id, f"md5:{checksum}", bytes_sent=bytes_sent)


def _file_pending() -> FileUpdate:
    """Compared again with what the draft holds (a new version inherits files)."""
    return FileUpdate(status=FileState.PENDING, remote_id="", remote_checksum="")
