"""Coscine (RWTH Aachen): the connector, its steps in Coscine's order, and what each does.

Implements Coscine's Web API v2 (reference/coscine-openapi.yaml) as the service runs it
(reference/notes-coscine-cristin.md part A; "A.n" below is a section of it). Coscine
stores files in *resources* of *projects*; each file carries a metadata graph (RDF)
validated against the resource's *application profile* (SHACL shapes); every resource
gets a Handle PID, and publishing is a request to the institution's library (A.3).

The modules: reading Coscine's envelope, pages and error shapes in ``replies``; the
token, the lookups forms need (projects, resource types, licences, profiles...) and the
Handle checks in ``account``; application profiles as forms in ``profiles`` and
``form``, checked with pyshacl in ``shacl`` and by ``rules``; making or adopting the
resource in ``resources``; each file's metadata, bytes and confirmation in ``storage``
(the S3 fast path in ``s3``); the Handle and publication requests in ``publication``.

``Target.options`` of a Coscine target::

    {"project": {"id": "<uuid>", "name": "...", "slug": "..."},
     # either an existing resource ...
     "resource": {"id": "<uuid>", "name": "...", "type": "rdss3"},
     # ... or one to create (step prepare_resource)
     "new_resource": {"name": "...", "display_name": "...", "description": "...",
                      "visibility": "<id>", "disciplines": ["<id>", ...],
                      "license": "<id>" | "", "keywords": ["..."],
                      "resource_type": "<id>", "quota_gib": 1},
     "application_profile": "https://purl.org/coscine/ap/base/",
     # the profile form's values, by the shape's sh:path, as lists of lexical values:
     # "*" for every file, a file's name for that file alone (it wins per field)
     "file_metadata": {"*": {"<path uri>": ["..."]}, "<file name>": {...}},
     "publication": {"service": "<ror uri>", "message": "..."}}

Identifier scheme: ``handle`` (the resource's PID, ``21.11102/<uuid>``, resolved at
https://hdl.handle.net/...), labelled "persistent identifier (Handle)", never a DOI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ..base import (
    ActionSpec,
    Connector,
    FileJob,
    IdentifierScheme,
    Identity,
    Job,
    LinkRole,
    PermanentError,
    Problem,
    ProgressFn,
    RemotePhase,
    RepositoryError,
    Step,
    StepKind,
    StepResult,
)
from ..limiter import RateWindow
from . import account, publication, replies, resources, rules, storage

if TYPE_CHECKING:
    from ..http import HttpClient

LABEL = "Coscine"
PROFILE_KEY = "profile:"  # lookup key of an application profile: "profile:<uri>"

PREPARE = Step("prepare_resource", "Preparing the Coscine resource", StepKind.CREATES_RECORD)
SEND = Step(
    "send_files",
    "Storing the files with their metadata",
    StepKind.SENDS_FILES,
    files_label="Storing file {n} of {total} with its metadata",
)
CONFIRM = Step("confirm_files", "Checking every file and its metadata", StepKind.CONFIRMS)
REGISTER = Step("register", "Reading the resource's Handle", StepKind.PUBLISHES)
UPDATE = Step("update_metadata", "Sending the files' metadata again", StepKind.DESCRIBES)

ACTIONS = (
    ActionSpec(
        "publish",
        "Store on Coscine",
        frozenset({RemotePhase.NONE, RemotePhase.DRAFT}),
        (PREPARE, SEND, CONFIRM, REGISTER),
        consequences=(
            "The resource is created in the project if you asked for a new one; each file "
            "is stored in it with its metadata, checked against the application profile.",
            "The resource's persistent identifier is a Handle (21.11102/...), not a DOI: "
            "for a DOI, request publication from your library afterwards.",
        ),
    ),
    ActionSpec(
        "edit",
        "Update files and metadata",
        frozenset({RemotePhase.PUBLISHED}),
        (UPDATE, SEND, CONFIRM),
        consequences=(
            "Each file's metadata is sent again (Coscine keeps the earlier versions of it); "
            "files added to the deposit since are stored, changed ones replaced.",
        ),
    ),
    ActionSpec(
        "request_publication",
        "Request publication",
        frozenset({RemotePhase.PUBLISHED}),
        (Step("request_publication", "Asking the library to publish the resource"),),
        consequences=(
            "A publication request for this resource goes to the publication service you "
            "chose; its staff contact you. Coscine itself mints no DOI.",
        ),
    ),
    ActionSpec(
        "delete",
        "Delete what was stored",
        frozenset({RemotePhase.DRAFT}),
        (Step("delete_stored", "Deleting the files stored on Coscine"),),
        consequences=(
            "The files this deposit stored in the resource are deleted from Coscine, and "
            "the resource too if the portal created it.",
            "Your deposit and its files stay here.",
        ),
        danger=True,
    ),
)


class CoscineConnector(Connector):
    """Coscine (RWTH Aachen and partners) through its Web API v2."""

    kind: ClassVar[str] = "coscine"
    label: ClassVar[str] = LABEL
    default_base_url: ClassVar[str] = "https://coscine.rwth-aachen.de/coscine"
    # A.1: "Coscine limits the API requests per minute to 500"; no rate headers are
    # documented, so this budget, shared by all workers, is what keeps it under.
    default_rate_windows: ClassVar[tuple[RateWindow, ...]] = (RateWindow(500, 60),)
    auth_header: ClassVar[tuple[str, str]] = ("Authorization", "Bearer {token}")
    actions: ClassVar[tuple[ActionSpec, ...]] = ACTIONS
    identifier_schemes: ClassVar[tuple[IdentifierScheme, ...]] = (
        IdentifierScheme(
            "handle",
            "persistent identifier (Handle)",
            resolver="https://hdl.handle.net/{value}",
            cited=True,
            short="Handle",
        ),
    )
    link_keys: ClassVar[dict[LinkRole, tuple[str, ...]]] = {LinkRole.RECORD: ("html",)}
    option_keys: ClassVar[tuple[str, ...]] = (
        "project",
        "resource",
        "new_resource",
        "application_profile",
        "file_metadata",
        "publication",
    )
    marks_creates: ClassVar[bool] = True  # the marker is one of a new resource's keywords
    checks_identifiers: ClassVar[bool] = True

    # ---------------------------------------------------------------- contract

    def validate(
        self,
        metadata: dict[str, Any],
        options: dict[str, Any],
        files: list[FileJob],
        schema: dict[str, Any],
    ) -> list[Problem]:
        """The project and resource chosen, and every file's metadata against the
        application profile (``rules``)."""
        return rules.check(metadata, options, files, schema)

    def schema_keys(self, options: dict[str, Any]) -> tuple[str, ...]:
        profile = options.get("application_profile")
        return (PROFILE_KEY + profile,) if isinstance(profile, str) and profile else ()

    def run_step(self, step: str, client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
        handlers = {
            "prepare_resource": resources.prepare,
            "send_files": storage.send_next,
            "confirm_files": storage.confirm,
            "register": publication.register,
            "update_metadata": storage.mark_for_update,
            "request_publication": publication.request,
            "delete_stored": resources.delete_stored,
        }
        if step not in handlers:
            raise PermanentError(f"Coscine has no step '{step}'.")
        return handlers[step](client, job, progress)

    def parse_error(self, status: int, body: bytes, content_type: str) -> RepositoryError:
        return replies.parse_error(status, body, content_type)

    def trace_id(self, headers: Mapping[str, str], body: bytes) -> str:
        return replies.trace_id(headers, body)

    # ---------------------------------------------------------------- account

    def verify(self, client: HttpClient) -> Identity:
        """Whose token it is and when it expires (``account``)."""
        return account.verify(client)

    def fetch_lookup(self, client: HttpClient, key: str) -> Any:
        return account.fetch_lookup(client, key)

    def lookup_max_age(self, key: str) -> int:
        return account.lookup_max_age(key)

    def check_identifier(self, client: HttpClient, scheme: str, value: str) -> str:
        return account.check_identifier(client, scheme, value)

    # ---------------------------------------------------------------- interrupted creates

    def find_created(self, client: HttpClient, job: Job) -> StepResult | None:
        return resources.find_created(client, job)

    def marked_drafts(self, client: HttpClient) -> list[tuple[str, str]]:
        return resources.marked_drafts(client)

    def delete_orphan(self, client: HttpClient, remote_id: str) -> None:
        resources.delete_orphan(client, remote_id)
