"""DataMeta accounts: the site's API root, whose key an account holds and until when, and
the site's metadata definitions.

Implements the parts of DataMeta's REST API (reference/datameta-rest-api.txt, "API URL",
"Metadata Information") that a linked account needs, as a real DataMeta 1.1.1 runs them
(reference/notes-datameta.md; "§" = one of its numbered findings, "#n" = exchange n of
datameta-exchanges.md): the versioned API root is discovered through ``GET /api`` (§5,
§18), the key is verified with ``GET /rpc/whoami`` (§6) and its expiry read from the
user's key list (§2, #12), and the definitions come from ``GET /metadata`` (#21).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..base import AuthError, Identity, PermanentError, RepositoryError, TransientError
from .fields import Definition
from .staging import ids_of

if TYPE_CHECKING:
    from ..http import HttpClient

# How long a discovered API root (GET /api -> /api/v1) is trusted by this process.
API_ROOT_TTL = 600.0
_API_VERSION = re.compile(r"/api/(v[0-9][^/?#]*)/?$")
_api_roots: dict[str, tuple[str, float]] = {}


def api_root(client: HttpClient) -> str:
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


def verify(client: HttpClient) -> Identity:
    """Whose key it is (``GET /rpc/whoami``, §6) and when it expires (``GET
    /users/{id}/keys``; keys last at most 30 days, §2)."""
    root = api_root(client)
    who = client.json(client.request("GET", f"{root}/rpc/whoami"))
    if not isinstance(who, dict) or not who.get("id"):
        raise TransientError("DataMeta's whoami reply named nobody; retrying.")
    user = ids_of(who)
    group = who.get("group") or {}
    group_name = str(group.get("name") or "") if isinstance(group, dict) else ""
    expires, exact = _key_expiry(client, root, user["uuid"])
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


def _key_expiry(client: HttpClient, root: str, user: str) -> tuple[str | None, bool]:
    """(expiry, whether it is surely this key's).

    DataMeta gives no way to tell which of a user's keys a request used: ``whoami``
    names the user only (§6), the key list (#12) gives each key's id, label and expiry
    but not which one authenticated, and the server keeps only a hash of each token (the
    key a request uses is found by it), so no id or label of ours can be matched. With
    one live key it is ours; with several, the earliest expiry among them is taken: the
    warning may come early, never late. A key without expiry (``null``, e.g. one made by
    the site's init script) never expires and is passed over; expired ones answer 401.
    """
    try:
        keys = client.json(client.request("GET", f"{root}/users/{user}/keys"))
    except AuthError:
        raise
    except RepositoryError:
        return None, False
    live = [k for k in keys if isinstance(k, dict) and not k.get("hasExpired")]
    dated = [stamp for stamp in (_aware(k.get("expires")) for k in live) if stamp]
    earliest = min(dated, key=datetime.fromisoformat, default=None)
    return earliest, len(live) == 1


def fetch_schema(client: HttpClient) -> dict[str, Any]:
    """The site's metadata definitions (``GET /metadata``, #21), in its order."""
    root = api_root(client)
    data = client.json(client.request("GET", f"{root}/metadata"))
    if not isinstance(data, list):
        raise TransientError("DataMeta's metadata definitions were not a list; retrying.")
    found = [Definition.from_json(d) for d in data if isinstance(d, dict)]
    ordered = sorted((d for d in found if d.name), key=lambda d: (d.order, d.name))
    return {"definitions": [d.as_json() for d in ordered]}


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
