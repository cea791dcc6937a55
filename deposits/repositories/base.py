"""The contract between the lifecycle and a repository's connector.

A connector is plain Python: it never imports Django models, views or tasks. It
**declares** what its repository can do, and the pages and the lifecycle read only these
declarations (DESIGN.md "Which way the imports go"):

* ``actions``: each action (publish, new version, edit, discard, delete) with its label,
  the remote phases it exists in, the wording of its confirmation in the repository's
  own terms, and its ordered ``Step``s, each with a label and a ``StepKind``;
* ``identifier_schemes``: what it hands back (DOI, submission ids...), with labels and
  resolvers; ``link_keys``: which of its links play which ``LinkRole``;
* ``option_keys``: the keys of ``Target.options`` it owns (Zenodo communities, a
  DataMeta sample table), changed only through ``lifecycle.set_target_options``.

The lifecycle hands it a ``Job`` (a snapshot of one target read from the database) and an
``HttpClient``; the connector does exactly one remote operation per ``run_step`` call and
returns a ``StepResult`` that the lifecycle records before queueing the next step.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, TYPE_CHECKING, Any, ClassVar

from .errors import (
    AuthError,
    ChecksumMismatch,
    NotFound,
    PermanentError,
    Problem,
    RateLimited,
    RepositoryError,
    StillLanding,
    TransientError,
    UnsafeURL,
    ValidationFailed,
)
from .limiter import RateWindow

if TYPE_CHECKING:
    from .http import HttpClient

__all__ = [
    "ActionSpec",
    "AuthError",
    "ChecksumMismatch",
    "Connector",
    "FileJob",
    "FileState",
    "FileUpdate",
    "IdentifierOut",
    "IdentifierScheme",
    "Identity",
    "Job",
    "LinkRole",
    "NotFound",
    "PermanentError",
    "Problem",
    "ProgressFn",
    "RateLimited",
    "RemotePhase",
    "RemoteRecord",
    "RepositoryError",
    "Step",
    "StepKind",
    "StepResult",
    "StillLanding",
    "TransientError",
    "UnsafeURL",
    "ValidationFailed",
]


# --------------------------------------------------------------------------- files


class FileState(StrEnum):
    """Where one deposit file stands on one target's repository."""

    PENDING = "pending"  # not sent (or to be sent again)
    UPLOADING = "uploading"  # written before its bytes move: a re-run looks first
    DONE = "done"  # the repository holds it with our checksum
    DELETE = "delete"  # removed from the deposit: to delete remotely
    FAILED = "failed"


@dataclass
class FileJob:
    name: str
    size: int
    md5: str
    sha256: str
    open: Callable[[], IO[bytes]]
    remote_id: str = ""
    status: FileState = FileState.PENDING
    remote_checksum: str = ""


@dataclass(frozen=True)
class FileUpdate:
    """What a step changed about one file; ``None`` leaves a value as it is."""

    status: FileState | None = None
    remote_id: str | None = None
    remote_checksum: str | None = None
    bytes_sent: int | None = None

    @classmethod
    def done(cls, remote_id: str, checksum: str, *, bytes_sent: int | None = None) -> FileUpdate:
        """Held by the repository with ``checksum`` ("md5:<hex>")."""
        return cls(FileState.DONE, remote_id, checksum, bytes_sent)

    @classmethod
    def reset(cls) -> FileUpdate:
        """To be sent again from the start."""
        return cls(FileState.PENDING, "", "", 0)

    def changes(self) -> dict[str, Any]:
        """The columns of ``RemoteFile`` to update."""
        values = {
            "status": self.status,
            "remote_id": self.remote_id,
            "remote_checksum": self.remote_checksum,
            "bytes_sent": self.bytes_sent,
        }
        return {k: v for k, v in values.items() if v is not None}


# --------------------------------------------------------------------------- jobs

# What a create writes into the record it makes (Zenodo: ``metadata.notes``), so that a
# re-run after an interrupted create, and the orphan watchdog, can tell it is ours.
MARKER = re.compile(r"deposit-portal:[0-9a-f]{32}")


def new_marker() -> str:
    return f"deposit-portal:{uuid.uuid4().hex}"


@dataclass
class Job:
    """A snapshot of one target, as a step needs it."""

    target_id: int
    action: str  # publish | new_version | edit | discard | delete
    metadata: dict[str, Any]  # neutral metadata (deposits/metadata.py)
    options: dict[str, Any]  # repository-specific target options (``option_keys``)
    files: list[FileJob]
    remote_id: str = ""
    remote_state: str = ""
    remote_links: dict[str, Any] = field(default_factory=dict)
    create_marker: str = ""
    # Identifiers other targets of the same deposit already have, to cite:
    # [{"scheme": "doi", "value": "10.5281/zenodo.1", "url": "...", "scope": "version"}]
    related: list[dict[str, str]] = field(default_factory=list)
    # Connector-private remote state that has no column of its own (e.g. the ids of the
    # metadatasets DataMeta staged for this target). Returned whole in StepResult.remote_data.
    remote_data: dict[str, Any] = field(default_factory=dict)
    # True when this step was begun before and its result never recorded (a crash, a
    # timeout, a 5xx): the repository may have done it, so look before doing it again.
    # A file's own write-ahead is its status "uploading" (set before its bytes move).
    resumed: bool = False
    # What the repository publishes about its own rules, as fetch_schema returned it
    # (DataMeta metadata definitions, Coscine application profiles); {} when none.
    schema: dict[str, Any] = field(default_factory=dict)

    def pending_files(self) -> Iterator[FileJob]:
        return (f for f in self.files if f.status not in (FileState.DONE, FileState.DELETE))

    def live_files(self) -> list[FileJob]:
        """The files the deposit still has (not removed from it)."""
        return [f for f in self.files if f.status != FileState.DELETE]


@dataclass
class IdentifierOut:
    scheme: str
    value: str
    url: str = ""
    scope: str = "version"  # version | concept


@dataclass
class StepResult:
    """What one step did. ``done=False`` asks for the same step again (next file)."""

    done: bool = True
    message: str = ""
    remote_id: str | None = None
    remote_state: str | None = None
    remote_links: dict[str, Any] | None = None
    file_updates: dict[str, FileUpdate] = field(default_factory=dict)  # by file name
    identifiers: list[IdentifierOut] = field(default_factory=list)
    # names of remote files that are gone (deleted remotely)
    files_removed: list[str] = field(default_factory=list)
    remote_data: dict[str, Any] | None = None


ProgressFn = Callable[[str, int], None]  # (file name, bytes sent so far)


@dataclass
class Identity:
    """Whose token it is, as the repository reports it."""

    name: str
    detail: dict[str, Any] = field(default_factory=dict)
    expires_at: str | None = None  # ISO 8601, when the repository says


# --------------------------------------------------------------------------- declarations


class StepKind(StrEnum):
    """What a step does remotely: the lifecycle's write-ahead and progress key on this."""

    CREATES_RECORD = "creates_record"  # marker first, adopt on a re-run, wait for the index
    SENDS_FILES = "sends_files"  # one file per call, each marked before its bytes move
    DESCRIBES = "describes"
    PUBLISHES = "publishes"
    CONFIRMS = "confirms"
    OTHER = "other"


@dataclass(frozen=True)
class Step:
    name: str
    label: str  # while it runs: "Creating the Zenodo draft"
    kind: StepKind = StepKind.OTHER
    # SENDS_FILES only: the label once the counts are known, "{n}" of "{total}"
    files_label: str = ""

    def label_for(self, files_done: int, files_total: int) -> str:
        if self.files_label and files_total:
            return self.files_label.format(n=min(files_done + 1, files_total), total=files_total)
        return self.label


class RemotePhase(StrEnum):
    """What the repository holds of a target, as far as actions are concerned."""

    NONE = "none"  # nothing yet
    DRAFT = "draft"  # an unpublished draft (or staged items)
    PUBLISHED = "published"
    EDITING = "editing"  # published, with unpublished changes open on the repository
    # published, and a draft (or staged items) of a next version open on top of it
    VERSION_DRAFT = "version_draft"


@dataclass(frozen=True)
class RemoteRecord:
    """What the lifecycle knows of a target's remote record, for ``Connector.phase``."""

    remote_id: str
    remote_state: str
    published: bool  # a version of it has been published
    remote_data: dict[str, Any] = field(default_factory=dict)  # the connector's own


@dataclass(frozen=True)
class ActionSpec:
    """One thing a person can ask of a target on this repository."""

    # publish | new_version | publish_version | discard_version | edit | discard | delete
    # (models.Action)
    action: str
    label: str  # the button, in the repository's terms
    phases: frozenset[RemotePhase]  # offered only while the target is in one of these
    steps: tuple[Step, ...]
    # What happens and what cannot be undone, shown on the confirmation page; an
    # action with no consequences listed runs without asking.
    consequences: tuple[str, ...] = ()
    danger: bool = False  # destroys something remote (styled and worded as such)

    @property
    def confirm(self) -> bool:
        return bool(self.consequences)

    @property
    def sends_deposit(self) -> bool:
        """It sends the deposit's description (so the repository's rules must be met)."""
        return any(step.kind in (StepKind.DESCRIBES, StepKind.PUBLISHES) for step in self.steps)

    @property
    def publishes(self) -> bool:
        return any(step.kind == StepKind.PUBLISHES for step in self.steps)


@dataclass(frozen=True)
class IdentifierScheme:
    """A kind of identifier the repository hands back."""

    scheme: str  # as stored on Identifier.scheme; with ``prefix`` the start of it
    label: str  # "DOI", "DataMeta submission"
    resolver: str = ""  # "https://doi.org/{value}"; "" when it resolves nowhere public
    cited: bool = False  # the one citations and badges name
    prefix: bool = False  # "datameta-result:" names a family (one scheme per field)
    short: str = ""  # the badge's word when ``label`` is long ("Handle"); else the label

    def matches(self, scheme: str) -> bool:
        return scheme.startswith(self.scheme) if self.prefix else scheme == self.scheme

    def url(self, value: str) -> str:
        return self.resolver.format(value=value) if self.resolver else ""

    def label_for(self, scheme: str) -> str:
        """The label of one stored scheme: a family's member adds its own name."""
        if self.prefix and scheme != self.scheme:
            return f"{self.label} {scheme[len(self.scheme) :]}"
        return self.label


class LinkRole(StrEnum):
    RECORD = "record"  # the record's page for people
    LATEST = "latest"  # the page of the latest version


# --------------------------------------------------------------------------- connector


class Connector:
    kind: ClassVar[str]
    label: ClassVar[str]
    default_base_url: ClassVar[str] = ""
    # Windows of the shared limiter; an account may set its own.
    default_rate_windows: ClassVar[tuple[RateWindow, ...]] = (RateWindow(60, 60),)
    # How the token travels: ("Authorization", "Bearer {token}") or ("Access-Token", "{token}")
    auth_header: ClassVar[tuple[str, str]] = ("Authorization", "Bearer {token}")

    actions: ClassVar[tuple[ActionSpec, ...]] = ()
    identifier_schemes: ClassVar[tuple[IdentifierScheme, ...]] = ()
    link_keys: ClassVar[dict[LinkRole, tuple[str, ...]]] = {}
    option_keys: ClassVar[tuple[str, ...]] = ()

    # True when the repository publishes rules that validation needs (fetch_schema).
    uses_schema: ClassVar[bool] = False
    # False when the deposit's description is never sent (DataMeta takes only its
    # samples and their files): its changes are then nothing this repository misses.
    sends_description: ClassVar[bool] = True
    # True when results keep arriving after publishing (DataMeta service executions).
    polls_after_publish: ClassVar[bool] = False
    # True when a create carries the target's marker, so an interrupted create's record
    # can be found (find_created) and stray ones cleaned up (marked_drafts, delete_orphan).
    marks_creates: ClassVar[bool] = False

    # ---------------------------------------------------------------- declarations read

    def action_spec(self, action: str) -> ActionSpec | None:
        return next((a for a in self.actions if a.action == action), None)

    def phase(self, record: RemoteRecord) -> RemotePhase:
        """Which phase a target's remote record is in (override for open edits and
        new-version drafts)."""
        if not record.remote_id:
            return RemotePhase.NONE
        return RemotePhase.PUBLISHED if record.published else RemotePhase.DRAFT

    def offered(self, phase: RemotePhase) -> list[ActionSpec]:
        return [a for a in self.actions if phase in a.phases]

    def step(self, name: str) -> Step:
        """The declaration of a step, whichever action it belongs to."""
        for spec in self.actions:
            for step in spec.steps:
                if step.name == name:
                    return step
        return Step(name, name.replace("_", " ").capitalize())

    def scheme(self, scheme: str) -> IdentifierScheme:
        found = next((s for s in self.identifier_schemes if s.matches(scheme)), None)
        return found or IdentifierScheme(scheme, scheme.upper())

    def link(self, role: LinkRole, links: dict[str, Any]) -> str:
        """The first of the role's link keys the repository gave (untrusted: the page
        shows it only if it is http(s))."""
        for key in self.link_keys.get(role, ()):
            value = links.get(key)
            if isinstance(value, str) and value:
                return value
        return ""

    # ---------------------------------------------------------------- remote work

    def validate(
        self,
        metadata: dict[str, Any],
        options: dict[str, Any],
        files: list[FileJob],
        schema: dict[str, Any],
    ) -> list[Problem]:
        """The repository's rules, checked locally before anything is sent. ``schema`` is
        what ``fetch_schema`` returned ({} for repositories that publish none)."""
        raise NotImplementedError

    def leaves_out(self, job: Job) -> set[str]:
        """Names of the deposit's files this repository is not sent (DataMeta takes only
        the files a sample names); progress counts and upload marks skip them."""
        return set()

    def poll_published(self, client: HttpClient, job: Job) -> StepResult:
        """One background look at a published record for results that arrived since."""
        return StepResult()

    def find_created(self, client: HttpClient, job: Job) -> StepResult | None:
        """The record an interrupted create made, found by ``job.create_marker`` and
        adopted as the create step's result; None while it is not there."""
        return None

    def marked_drafts(self, client: HttpClient) -> list[tuple[str, str]]:
        """(remote id, marker) of the account's recent unpublished drafts that carry a
        create marker: what an interrupted create may have left behind."""
        return []

    def delete_orphan(self, client: HttpClient, remote_id: str) -> None:
        """Delete a draft no target uses that carries one of our markers."""
        raise NotImplementedError

    def fetch_schema(self, client: HttpClient) -> dict[str, Any]:
        """The rules the repository publishes (cached per account by a worker)."""
        return {}

    # ---------------------------------------------------------------- lookups
    # Things a repository serves that forms and validation need and that change rarely
    # (Coscine's projects, licences, application profiles; Cristin's persons): fetched
    # by a worker, cached per account (``models.Lookup``, ``lifecycle.lookups``). A key
    # is the connector's own string, e.g. "licenses" or "profile:https://purl.org/...".

    def schema_keys(self, options: dict[str, Any]) -> tuple[str, ...]:
        """The lookups a target with ``options`` is validated against: they reach
        ``validate`` and ``Job.schema`` under ``schema["lookups"][key]`` once cached."""
        return ()

    def fetch_lookup(self, client: HttpClient, key: str) -> Any:
        """Fetch one lookup (JSON-serialisable); raise LookupError for a key it does not
        know, a RepositoryError when the repository fails."""
        raise LookupError(f"{self.label} has no lookup {key!r}")

    def lookup_max_age(self, key: str) -> int:
        """Seconds a cached lookup is used before a worker fetches it again."""
        return 6 * 3600

    # True when the repository can be asked whether its identifiers still resolve
    # (Coscine: GET /api/v2/pids/{prefix}/{suffix} answers 410 once a resource is gone).
    checks_identifiers: ClassVar[bool] = False

    def check_identifier(self, client: HttpClient, scheme: str, value: str) -> str:
        """What is wrong with one identifier this repository handed back ("" when it
        resolves). Raise a TransientError when the repository cannot say now."""
        return ""

    def trace_id(self, headers: Mapping[str, str], body: bytes) -> str:
        """The repository's id of one exchange, kept in the API call log ("" if none)."""
        return ""

    def steps(self, action: str) -> list[str]:
        """The ordered step names of ``action`` on this repository."""
        spec = self.action_spec(action)
        if spec is None:
            raise PermanentError(f"{self.label} has no action '{action}'.")
        return [step.name for step in spec.steps]

    def run_step(self, step: str, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Do one remote operation of ``step``; idempotent when re-run after a crash."""
        raise NotImplementedError

    def verify(self, client: HttpClient) -> Identity:
        """Check the token works and say whose it is; raises AuthError if not."""
        raise NotImplementedError

    def parse_error(self, status: int, body: bytes, content_type: str) -> RepositoryError:
        """Turn an error reply into a typed error with problems mapped to neutral fields."""
        raise NotImplementedError
