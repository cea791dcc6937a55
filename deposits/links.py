"""Links the pages show that came from a repository: untrusted input.

A link a repository handed back is shown only if it is http(s) on a host of
``ALLOWED_REPOSITORY_HOSTS`` (the same rule as the requests the portal makes); an
identifier links to its scheme's resolver, built here from its value, and otherwise to
the repository's URL for it under the same rule. The Content-Security-Policy (no inline
script) stops what a missed case could still do.
"""

from __future__ import annotations

from django.conf import settings

from deposits.models import Identifier
from deposits.repositories.base import IdentifierScheme
from deposits.repositories.http import host_allowed


def safe_link(url: str) -> str:
    """``url`` if a page may link to it, else ""."""
    if not isinstance(url, str) or not url:
        return ""
    return url if host_allowed(url, settings.ALLOWED_REPOSITORY_HOSTS) else ""


def identifier_link(identifier: Identifier, scheme: IdentifierScheme) -> str:
    """The resolver's URL for the value (``https://doi.org/...``), else the repository's."""
    return scheme.url(identifier.value) or safe_link(identifier.url)
