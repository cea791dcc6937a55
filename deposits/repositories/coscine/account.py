"""Coscine accounts: whose token it is and until when, the lookups the forms and the
validation need, and whether a published Handle still resolves.

Implements the parts of Coscine's Web API v2 (reference/coscine-openapi.yaml) an account
needs (reference/notes-coscine-cristin.md A.1-A.3): ``GET /api/v2/self`` and
``/self/api-tokens`` for the token, the paged lists behind each lookup (their shapes are
the shared contract, helpers/interfaces.md "Lookup keys"), and ``GET /api/v2/pids/...``,
which answers 410 once a resource is deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..base import Identity
from ..errors import AuthError, NotFound, PermanentError, RepositoryError, TransientError
from . import replies
from .replies import data_of, pages

if TYPE_CHECKING:
    from ..http import HttpClient

API = "/api/v2"
PROFILE_KEY = "profile:"
MAX_IMPORTS = 20  # profiles one profile may pull in through owl:imports, transitively
GIB = {
    "https://qudt.org/vocab/unit/BYTE": 1 / 1024**3,
    "https://qudt.org/vocab/unit/KibiBYTE": 1 / 1024**2,
    "https://qudt.org/vocab/unit/MebiBYTE": 1 / 1024,
    "https://qudt.org/vocab/unit/GibiBYTE": 1.0,
    "https://qudt.org/vocab/unit/TebiBYTE": 1024.0,
    "https://qudt.org/vocab/unit/PebiBYTE": 1024.0**2,
}


def _segment(value: str) -> str:
    return quote(str(value), safe="")


# --------------------------------------------------------------------------- the token


def verify(client: HttpClient) -> Identity:
    """Whose token it is (``GET /api/v2/self``) and when it expires (the token list)."""
    me = data_of(client, f"{API}/self")
    if not isinstance(me, dict) or not me.get("id"):
        raise TransientError("Coscine's reply about the token's user named nobody; retrying.")
    emails = [e for e in me.get("emails") or [] if isinstance(e, dict) and e.get("email")]
    primary = next((e for e in emails if e.get("isPrimary")), emails[0] if emails else {})
    email = str(primary.get("email") or "")
    full = " ".join(str(me.get(k) or "") for k in ("givenName", "familyName")).strip()
    name = str(me.get("displayName") or full or email or me["id"])
    token, exact = _this_token(client)
    return Identity(
        name=name,
        detail={
            "user_id": str(me["id"]),
            "email": email,
            "organizations": [
                str(o.get("uri") or o.get("displayName") or "")
                for o in me.get("organizations") or []
                if isinstance(o, dict)
            ],
            "token": {"id": token.get("id"), "name": token.get("name")} if token else None,
            "token_expiry_exact": exact,
        },
        expires_at=_aware(token.get("expiryDate")) if token else None,
    )


def _this_token(client: HttpClient) -> tuple[dict[str, Any], bool]:
    """(the token this client uses, whether that is certain).

    Coscine's token list gives each token's id, name and expiry but never its value, so
    the token a request carries cannot be matched. With one live token it is ours; with
    several, the one expiring first is taken: the warning may come early, never late.
    """
    try:
        tokens = list(pages(client, f"{API}/self/api-tokens"))
    except AuthError:
        raise
    except RepositoryError:
        return {}, False
    now = datetime.now(UTC)
    live = [
        (stamp, t) for t in tokens if (stamp := _parsed(t.get("expiryDate"))) is None or stamp > now
    ]
    dated = sorted(((s, t) for s, t in live if s is not None), key=lambda pair: pair[0])
    if not dated:
        return {}, False
    return dated[0][1], len(live) == 1


def _parsed(stamp: Any) -> datetime | None:
    if not stamp:
        return None
    try:
        parsed = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _aware(stamp: Any) -> str | None:
    parsed = _parsed(stamp)
    return parsed.isoformat() if parsed else None


# --------------------------------------------------------------------------- lookups


def lookup_max_age(key: str) -> int:
    """Profiles change when their maintainers edit them (1 h); projects, resources and
    resource types when people work (5 min); the rest hardly ever (24 h)."""
    if key == "profiles" or key.startswith(PROFILE_KEY):
        return 3600
    if key == "projects" or key.startswith(("resources:", "resource_types:")):
        return 300
    return 24 * 3600


def fetch_lookup(client: HttpClient, key: str) -> Any:
    """One lookup in the shape of helpers/interfaces.md; LookupError for an unknown key."""
    simple: dict[str, Callable[[HttpClient], Any]] = {
        "projects": projects,
        "visibilities": lambda c: _listed(c, "visibilities", _visibility),
        "disciplines": lambda c: _listed(c, "disciplines", _discipline),
        "licenses": lambda c: _listed(c, "licenses", _license),
        "profiles": lambda c: _listed(c, "application-profiles/profiles", _profile_entry),
        "publication_services": lambda c: _listed(c, "publication-service", _service),
    }
    if key in simple:
        return simple[key](client)
    kind, _, arg = key.partition(":")
    if arg and kind == "resource_types":
        return resource_types(client, arg)
    if arg and kind == "resources":
        return resources(client, arg)
    if arg and kind == "profile":
        return profile(client, arg)
    raise LookupError(f"Coscine has no lookup {key!r}")


def _listed(client: HttpClient, path: str, shape: Callable[[dict[str, Any]], Any]) -> list[Any]:
    return [shape(item) for item in pages(client, f"{API}/{path}")]


def _visibility(v: dict[str, Any]) -> dict[str, Any]:
    return {"id": v.get("id"), "name": v.get("displayName") or ""}


def _discipline(d: dict[str, Any]) -> dict[str, Any]:
    label = d.get("displayNameEn") or d.get("displayNameDe") or d.get("uri") or ""
    return {"id": d.get("id"), "label": label, "uri": d.get("uri") or ""}


def _license(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item.get("id"), "name": item.get("displayName") or "", "url": item.get("url")}


def _profile_entry(p: dict[str, Any]) -> dict[str, Any]:
    uri = p.get("uri") or ""
    return {"uri": uri, "name": p.get("displayName") or uri, "description": p.get("description")}


def _service(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "ror": s.get("organizationRor") or "",
        "name": s.get("displayName") or "",
        "description": s.get("description") or "",
    }


def projects(client: HttpClient) -> list[dict[str, Any]]:
    """Every project the token's user is in: each top-level one followed by its
    sub-projects (depth 1, 2...), in Coscine's order."""
    found = list(pages(client, f"{API}/projects", {"IncludeOrganizations": "true"}))
    rows = [_project(p) for p in found if p.get("id")]
    ids = {r["id"] for r in rows}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for row in rows:
        parent = row["parent_id"] if row["parent_id"] in ids else None
        children.setdefault(parent, []).append(row)
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def walk(parent: str | None, depth: int) -> None:
        for row in children.get(parent, []):
            if row["id"] not in seen:
                seen.add(row["id"])
                ordered.append({**row, "depth": depth})
                walk(row["id"], depth + 1)

    walk(None, 0)
    # a cycle of parents (a server bug) leaves projects unreached: list them at the top
    ordered += [{**r, "depth": 0} for r in rows if r["id"] not in seen]
    return ordered


def _project(p: dict[str, Any]) -> dict[str, Any]:
    parent = p.get("parent")
    parent_id = parent.get("id") if isinstance(parent, dict) else None
    return {
        "id": str(p["id"]),
        "name": p.get("name") or "",
        "display_name": p.get("displayName") or p.get("name") or "",
        "slug": p.get("slug") or "",
        "pid": p.get("pid") or "",
        "organizations": [
            str(o.get("uri")) for o in p.get("organizations") or [] if isinstance(o, dict)
        ],
        "parent_id": str(parent_id) if parent_id else None,
        "depth": 0,
    }


def resource_types(client: HttpClient, project_id: str) -> list[dict[str, Any]]:
    """The resource types a project may use, with its quota of each when Coscine says."""
    base = f"{API}/projects/{_segment(project_id)}"
    found = data_of(client, f"{base}/resource-types") or []
    if not isinstance(found, list):
        raise PermanentError(
            f"Coscine sent the resource types of project {project_id} as something other "
            "than a list; report this to the portal's maintainers."
        )
    quotas = _quotas(client, base)
    return [_resource_type(t, quotas.get(str(t.get("id")))) for t in found if isinstance(t, dict)]


def _resource_type(t: dict[str, Any], quota: dict[str, Any] | None) -> dict[str, Any]:
    general = str(t.get("generalType") or "")
    return {
        "id": t.get("id"),
        "general_type": general,
        "specific_type": t.get("specificType") or "",
        "can_create": bool(t.get("canCreate")),
        "is_enabled": bool(t.get("isEnabled")),
        "status": "active" if t.get("status") == "active" else "hidden",
        "supports_s3": general.startswith(("rdss3", "dsnrws3")),
        "quota": quota,
    }


def _quotas(client: HttpClient, base: str) -> dict[str, dict[str, Any]]:
    """The project's quota per resource type id; {} when the user may not read them
    (only some roles can): the form then shows no quota."""
    try:
        found = list(pages(client, f"{base}/quotas"))
    except AuthError:
        raise
    except RepositoryError:
        return {}
    quotas = {}
    for q in found:
        kind = q.get("resourceType")
        if isinstance(kind, dict) and kind.get("id"):
            quotas[str(kind["id"])] = {
                "allocated_gib": _gib(q.get("allocated")),
                "used_gib": _gib(q.get("totalUsed")),
                "maximum_gib": _gib(q.get("maximum")),
            }
    return quotas


def _gib(quota: Any) -> float | None:
    if not isinstance(quota, dict) or not isinstance(quota.get("value"), int | float):
        return None
    factor = GIB.get(str(quota.get("unit") or ""))
    return None if factor is None else round(float(quota["value"]) * factor, 6)


def resources(client: HttpClient, project_id: str) -> list[dict[str, Any]]:
    found = pages(client, f"{API}/projects/{_segment(project_id)}/resources")
    return [_resource(r) for r in found]


def _resource(r: dict[str, Any]) -> dict[str, Any]:
    kind = r.get("type") if isinstance(r.get("type"), dict) else {}
    profile = r.get("applicationProfile") if isinstance(r.get("applicationProfile"), dict) else {}
    return {
        "id": r.get("id"),
        "name": r.get("name") or "",
        "display_name": r.get("displayName") or r.get("name") or "",
        "pid": r.get("pid") or "",
        "general_type": (kind or {}).get("generalType") or "",
        "application_profile": (profile or {}).get("uri") or "",
        "archived": bool(r.get("archived")),
    }


# --------------------------------------------------------------------------- profiles


def profile(client: HttpClient, uri: str) -> dict[str, Any]:
    """An application profile with everything validation needs: its Turtle (merged with
    the profiles it owl:imports) and the instances of every class its shapes name."""
    from rdflib import Graph
    from rdflib.namespace import SH

    text = _profile_turtle(client, uri)
    graph = _parsed_turtle(uri, text)
    imports = _imports(client, uri, graph)
    if imports:
        merged = Graph()
        for prefix, namespace in graph.namespaces():
            merged.bind(prefix, namespace)
        merged += graph
        for imported_graph in imports.values():
            merged += imported_graph
        graph = merged
        text = merged.serialize(format="turtle")
    classes = sorted({str(o) for o in graph.objects(None, SH["class"])})
    return {
        "uri": uri,
        "turtle": text,
        "vocabularies": {c: _instances(client, c) for c in classes},
        "imports": list(imports),
    }


def _profile_turtle(client: HttpClient, uri: str) -> str:
    found = data_of(
        client,
        f"{API}/application-profiles/profiles/{_segment(uri)}",
        {"format": "text/turtle"},
    )
    definition = found.get("definition") if isinstance(found, dict) else None
    content = definition.get("content") if isinstance(definition, dict) else None
    if not isinstance(content, str) or not content.strip():
        raise PermanentError(
            f"Coscine sent the application profile {uri} without its definition; it cannot "
            "be used to check metadata. Choose another profile, or ask Coscine's support."
        )
    return content


def _parsed_turtle(uri: str, text: str) -> Any:
    from rdflib import Graph

    try:
        return Graph().parse(data=text, format="turtle")
    except Exception as exc:  # rdflib raises many kinds for bad input
        raise PermanentError(
            f"Coscine's application profile {uri} is not valid Turtle ({type(exc).__name__}), "
            "so it cannot be used to check metadata. Choose another profile, or ask "
            "Coscine's support."
        ) from None


def _imports(client: HttpClient, uri: str, graph: Any) -> dict[str, Any]:
    """The profiles ``graph`` owl:imports, transitively, each parsed (uri -> graph).
    Imports Coscine has no profile for (404: vocabularies such as DC terms) are left out."""
    from rdflib.namespace import OWL

    found: dict[str, Any] = {}
    skipped: set[str] = set()
    queue = [str(o) for o in graph.objects(None, OWL.imports)]
    while queue:
        current = queue.pop(0)
        if current == uri or current in found or current in skipped:
            continue
        if len(found) >= MAX_IMPORTS:
            raise PermanentError(
                f"Coscine's application profile {uri} imports more than {MAX_IMPORTS} "
                "profiles; it was not used. Ask Coscine's support."
            )
        try:
            text = _profile_turtle(client, current)
        except NotFound:
            # a vocabulary rather than a profile (the base profile imports DC terms)
            skipped.add(current)
            continue
        imported = _parsed_turtle(current, text)
        found[current] = imported
        queue += [str(o) for o in imported.objects(None, OWL.imports)]
    return found


def _instances(client: HttpClient, class_uri: str) -> list[dict[str, str]]:
    found: Iterator[dict[str, Any]] = pages(
        client, f"{API}/vocabularies/instances", {"Class": class_uri}
    )
    return [
        {"value": str(i["instanceUri"]), "label": str(i.get("displayName") or i["instanceUri"])}
        for i in found
        if i.get("instanceUri")
    ]


# --------------------------------------------------------------------------- handles


def check_identifier(client: HttpClient, scheme: str, value: str) -> str:
    """What is wrong with one Handle Coscine handed out ("" when it still resolves).

    ``GET /api/v2/pids/{prefix}/{suffix}`` answers 410 once the resource is deleted and
    404 for a PID it does not know (A.3). A TransientError when Coscine cannot say."""
    prefix, _, suffix = value.strip().partition("/")
    if scheme != "handle" or not prefix or not suffix:
        return ""
    try:
        found = data_of(client, f"{API}/pids/{_segment(prefix)}/{_segment(suffix)}")
    except NotFound as exc:
        return _gone(exc)
    except (TransientError, AuthError):
        raise
    except RepositoryError as exc:
        raise TransientError(
            f"Coscine could not say whether the Handle {value} still resolves: {exc.message}"
        ) from None
    if isinstance(found, dict) and found.get("isEntityValid") is False:
        return _gone(NotFound("", status=410))
    return ""


def _gone(exc: NotFound) -> str:
    trace = exc.message.rpartition("Coscine trace id: ")[2] if "trace id" in exc.message else ""
    if exc.status == 410:
        message = (
            "Coscine says this Handle is no longer valid: the resource was deleted. Links and "
            "citations using it no longer lead to the data. If it was deleted by mistake, "
            "ask Coscine's support (give them the Handle); otherwise store the deposit on "
            "Coscine again and update where the Handle is cited."
        )
    else:
        message = (
            "Coscine does not know this Handle (404): the resource was removed for good, or "
            "the value was changed. Check the Handle; to give the data a new one, store the "
            "deposit on Coscine again and update where the old one is cited."
        )
    return replies.with_trace(message, trace)
