"""What can go wrong with a deposit on a repository: problems on fields, and typed errors.

Plain Python, imported by the HTTP layer and the connectors alike; ``permanent`` on an
error decides retry later (False) or give up with the message (True).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


class StillLanding(RateLimited):
    """An earlier create got no answer and may still land: look again, do not create."""


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


class DamagedCopy(PermanentError):
    """The portal's stored copy of a file no longer matches the checksums taken when it
    was uploaded; nothing was sent, and only a person uploading it again can repair it."""
