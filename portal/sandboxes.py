"""The local sandboxes, one line each: the demo, the settings, the process commands, the
demo seed and the tests' live system all read this table, so a repository's sandbox is
added here once (beside its app, ``sandbox/<kind>/`` with a ``root_urls`` module).

Imports nothing from Django: the settings read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sandbox:
    kind: str  # the repository kind, and the app ``sandbox.<kind>``
    label: str
    offset: int  # its port: DEMO_PORT + offset in the demo, 8000 + offset by default
    api_path: str = ""  # a linked account's base URL is the sandbox's root + this
    note: str = ""  # printed beside its URL by the demo
    # False for a stand-in that is not a repository (the code forge): no linked account
    # of its kind, no sandbox token
    repository: bool = True

    @property
    def app(self) -> str:
        return f"sandbox.{self.kind}"

    @property
    def urlconf(self) -> str:
        """Its root URLconf: the sandbox at ``/`` of its own port, as the real service is
        at the root of its host (an official client builds its URLs from the host alone)."""
        return f"sandbox.{self.kind}.root_urls"

    @property
    def env(self) -> str:
        """The environment variable (and setting key) naming its root URL."""
        return f"{self.kind.upper()}_SANDBOX_URL"

    def default_url(self, host: str = "127.0.0.1", base_port: int = 8000) -> str:
        return f"http://{host}:{base_port + self.offset}"


SANDBOXES = (
    Sandbox("zenodo", "Zenodo", 1, "/api", "a linked account's base URL: {url}/api"),
    Sandbox("datameta", "DataMeta", 2, "", "the site's address; dmclient's DATAMETA_URL"),
    Sandbox(
        "forge",
        "Forge",
        3,
        "",
        "a GitHub- and GitLab-like code forge: releases, archives, signed webhooks",
        repository=False,
    ),
    Sandbox(
        "coscine",
        "Coscine",
        4,
        "/coscine",
        "a linked account's base URL: {url}/coscine (projects, resources, application "
        "profiles, Handles; S3 resources on the local S3 server)",
    ),
)
# The local S3-compatible server (moto's, ``portal.s3server``): the Coscine sandbox's S3
# resources and the portal's own STORAGE_BACKEND=s3 in the demo and the tests. Not a
# Django sandbox: its own process, at DEMO_PORT + this.
S3_OFFSET = 5
REPOSITORIES = tuple(s for s in SANDBOXES if s.repository)
BY_KIND = {s.kind: s for s in SANDBOXES}
