"""The contract between the lifecycle and a repository's connector.

A connector is plain Python: it never imports Django models, views or tasks. The
lifecycle hands it a ``Job`` (a snapshot of one target read from the database) and an
``HttpClient``; the connector does exactly one remote operation per ``run_step`` call and
returns a ``StepResult`` that the lifecycle records before queueing the next step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .http import HttpClient


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a deposit, attached to the field it concerns.

    ``field`` is a dotted path into the neutral metadata ("creators.0.orcid", "license"),
    "files", "options.<key>" for a target option, or "" for the deposit as a whole.
    ``source`` is "portal" for our own checks of the repository's rules, or the
    repository kind ("zenodo") when the repository itself said it.
    """

    field: str
    message: str
    source: str = "portal"
    repository: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "field": self.field,
            "message": self.message,
            "source": self.source,
            "repository": self.repository,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        return cls(
            field=str(data.get("field", "")),
            message=str(data.get("message", "")),
            source=str(data.get("source", "portal")),
            repository=str(data.get("repository", "")),
        )


# --------------------------------------------------------------------------- errors


class RepositoryError(Exception):
    """A remote operation failed. ``permanent`` decides: give up (True) or retry later."""

    permanent: bool = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        problems: list[Problem] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.problems = problems or []
        self.retry_after = retry_after


class TransientError(RepositoryError):
    """Timeouts, resets, 5xx, gateway HTML pages: retry with backoff."""

    permanent = False


class RateLimited(TransientError):
    """No budget now (ours or the server's): re-queue for ``retry_after`` seconds."""


class ChecksumMismatch(TransientError):
    """The repository holds different bytes than we sent: upload that file again."""


class PermanentError(RepositoryError):
    permanent = True


class AuthError(PermanentError):
    """401/403 or an expired token: a person must relink the account."""


class ValidationFailed(PermanentError):
    """The repository rejected the metadata; ``problems`` say which fields."""


class NotFound(PermanentError):
    pass


class UnsafeURL(PermanentError):
    """A URL outside ALLOWED_REPOSITORY_HOSTS; nothing was sent."""


# --------------------------------------------------------------------------- jobs


@dataclass
class FileJob:
    name: str
    size: int
    md5: str
    sha256: str
    open: Callable[[], IO[bytes]]
    remote_id: str = ""
    status: str = "pending"  # pending | uploading | done | delete | failed
    remote_checksum: str = ""


@dataclass
class Job:
    """A snapshot of one target, as a step needs it."""

    target_id: int
    action: str  # publish | new_version | edit | discard | delete
    metadata: dict[str, Any]  # neutral metadata (deposits/metadata.py)
    options: dict[str, Any]  # repository-specific target options
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
        return (f for f in self.files if f.status != "done" and f.status != "delete")


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
    # by file name: any of remote_id, status, remote_checksum, bytes_sent
    file_updates: dict[str, dict[str, Any]] = field(default_factory=dict)
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


# --------------------------------------------------------------------------- connector


class Connector:
    kind: ClassVar[str]
    label: ClassVar[str]
    default_base_url: ClassVar[str] = ""
    # Windows of the shared limiter: [{"limit": 100, "seconds": 60}, ...]
    default_rate_windows: ClassVar[list[dict[str, int]]] = [{"limit": 60, "seconds": 60}]
    # Identifier scheme people cite, for the dashboard ("doi", "handle", ...)
    identifier_scheme: ClassVar[str] = "doi"
    # How the token travels: ("Authorization", "Bearer {token}") or ("Access-Token", "{token}")
    auth_header: ClassVar[tuple[str, str]] = ("Authorization", "Bearer {token}")

    # True when the repository publishes rules that validation needs (fetch_schema).
    uses_schema: ClassVar[bool] = False

    def validate(
        self, metadata: dict[str, Any], options: dict[str, Any], files: list[FileJob]
    ) -> list[Problem]:
        """The repository's rules, checked locally before anything is sent.

        Connectors with ``uses_schema`` are called with a keyword ``schema=`` too.
        """
        raise NotImplementedError

    # True when results keep arriving after publishing (DataMeta service executions).
    polls_after_publish: ClassVar[bool] = False

    def poll_published(self, client: HttpClient, job: Job) -> StepResult:
        """One background look at a published record for results that arrived since."""
        return StepResult()

    def fetch_schema(self, client: HttpClient) -> dict[str, Any]:
        """The rules the repository publishes (cached per account by a worker)."""
        return {}

    def steps(self, job: Job) -> list[str]:
        """The ordered step names ``job.action`` needs on this repository."""
        raise NotImplementedError

    def run_step(self, step: str, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        """Do one remote operation of ``step``; idempotent when re-run after a crash."""
        raise NotImplementedError

    def verify(self, client: HttpClient) -> Identity:
        """Check the token works and say whose it is; raises AuthError if not."""
        raise NotImplementedError

    def parse_error(self, status: int, body: bytes, content_type: str) -> RepositoryError:
        """Turn an error reply into a typed error with problems mapped to neutral fields."""
        raise NotImplementedError

    def step_label(self, step: str, job: Job | None = None) -> str:
        return step.replace("_", " ").capitalize()
