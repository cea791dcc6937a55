"""Making or adopting the Coscine resource a target stores into, and deleting it again.

A target either names an existing resource (``options["resource"]``), which is checked
(it exists, belongs to the project, takes files, is not archived) and adopted, or asks
for a new one (``options["new_resource"]``), created with ``POST
/api/v2/projects/{id}/resources`` (notes A.2 "Resources"). The create carries the
target's marker as one of the resource's keywords, so a create whose reply was lost is
found in the project's list and adopted instead of making a second resource.

The small helpers every step module uses (paths, the envelope, pages) live here too.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..base import (
    MARKER,
    FileJob,
    FileState,
    FileUpdate,
    Job,
    NotFound,
    PermanentError,
    ProgressFn,
    RepositoryError,
    StepResult,
)

if TYPE_CHECKING:
    from ..http import HttpClient

API = "api/v2"
PAGE_SIZE = 50  # the largest page Coscine serves (A.1)
MAX_PAGES = 200  # 10 000 items: a list longer than that is a misbehaving server
QUOTA_UNIT = "https://qudt.org/vocab/unit/GibiBYTE"
# ResourceTypeOptionsForCreationDto: the options key of each general resource type
OPTIONS_KEY = {
    "rds": "rdsResourceTypeOptions",
    "rdss3": "rdsS3ResourceTypeOptions",
    "rdss3worm": "rdsS3WormResourceTypeOptions",
    "dsnrwweb": "dataStorageNrwWebResourceTypeOptions",
    "dsnrws3": "dataStorageNrwS3ResourceTypeOptions",
    "dsnrws3worm": "dataStorageNrwS3WormResourceTypeOptions",
    "linked": "linkedResourceTypeOptions",
}


# --------------------------------------------------------------------------- helpers


def encoded(path: str) -> str:
    """A path inside a resource as Coscine's ``{encodedPath}`` wants it."""
    return quote(path, safe="")


def project_id(job: Job) -> str:
    project = job.options.get("project") or {}
    value = str(project.get("id") or "") if isinstance(project, dict) else ""
    if not value:
        raise PermanentError("No Coscine project is chosen for this target: choose one first.")
    return value


def resource_path(job: Job, resource: str = "") -> str:
    """``api/v2/projects/{project}/resources/{resource}`` (of the job's resource)."""
    return f"{API}/projects/{project_id(job)}/resources/{resource or job.remote_id}"


def data_of(client: HttpClient, response: Any) -> Any:
    """The ``data`` of Coscine's envelope (A.1)."""
    body = client.json(response)
    return body.get("data") if isinstance(body, dict) else None


def pages(client: HttpClient, path: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Every item of a paged list, following ``pagination.hasNext`` (A.1: page numbers
    go up, unlike the SDK's loop that asks for page 1 forever)."""
    items: list[Any] = []
    for number in range(1, MAX_PAGES + 1):
        query = {**(params or {}), "PageNumber": number, "PageSize": PAGE_SIZE}
        body = client.json(client.request("GET", path, params=query))
        data = body.get("data") if isinstance(body, dict) else None
        items.extend(item for item in data or [] if isinstance(item, dict))
        pagination = body.get("pagination") if isinstance(body, dict) else None
        if not (isinstance(pagination, dict) and pagination.get("hasNext")):
            return items
    raise PermanentError(
        f"Coscine kept announcing more pages of {path} after {MAX_PAGES}; stopped reading."
    )


def data_section(job: Job) -> dict[str, Any]:
    """A copy of ``remote_data`` with its sections in place, to change and return whole."""
    data = dict(job.remote_data or {})
    data["files"] = {k: dict(v) for k, v in (data.get("files") or {}).items()}
    data.setdefault("publication_requests", [])
    return data


def site_root(client: HttpClient) -> str:
    """Coscine's site for people: the API's base URL without its ``/coscine``."""
    return client.base_url.removesuffix("/coscine")


def links_for(client: HttpClient, job: Job, resource_id: str) -> dict[str, str]:
    project = job.options.get("project") or {}
    slug = str(project.get("slug") or project.get("id") or "") if isinstance(project, dict) else ""
    return {"html": f"{site_root(client)}/p/{quote(slug)}/r/{quote(resource_id)}/-/"}


def general_type(resource: dict[str, Any]) -> str:
    kind = resource.get("type") or {}
    return str(kind.get("generalType") or "").lower() if isinstance(kind, dict) else ""


def is_s3(kind: str) -> bool:
    return kind.startswith(("rdss3", "dsnrws3"))


def read_resource(client: HttpClient, job: Job, resource_id: str = "") -> dict[str, Any]:
    """``GET .../resources/{id}`` (the one call that includes ``type.options``)."""
    found = data_of(client, client.request("GET", resource_path(job, resource_id)))
    if not isinstance(found, dict) or not found.get("id"):
        raise PermanentError("Coscine answered the resource request without a resource.")
    return found


# --------------------------------------------------------------------------- stored files


def listing(client: HttpClient, job: Job, prefix: str = "") -> dict[str, list[int]]:
    """Every file of the resource (all pages) by path, with the sizes listed for it
    (more than one when Coscine lists a path twice)."""
    found: dict[str, list[int]] = {}
    params = {"Prefix": prefix} if prefix else None
    for item in pages(client, f"{resource_path(job)}/storage", params):
        if str(item.get("type", "Leaf")).lower() == "tree":
            continue
        path = str(item.get("path") or item.get("name") or "").lstrip("/")
        size = item.get("size")
        found.setdefault(path, []).append(size if isinstance(size, int) else -1)
    return found


def stored_result(
    job: Job, f: FileJob, data: dict[str, Any], *, via: str, checksum: str, message: str
) -> StepResult:
    """The file is stored with our bytes: recorded, and the step goes on to the next."""
    entry = data["files"].setdefault(f.name, {})
    entry.update(stage="stored", size=f.size, sha256=f.sha256, via=via)
    entry.pop("s3", None)
    more = any(other.name != f.name for other in job.pending_files())
    return StepResult(
        done=not more,
        message=message,
        file_updates={f.name: FileUpdate.done(encoded(f.name), checksum, bytes_sent=f.size)},
        remote_data=data,
    )


# --------------------------------------------------------------------------- prepare


def prepare(client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
    """Adopt the chosen resource, or create the new one (once)."""
    if job.remote_id:
        resource = _checked(client, job, job.remote_id)
        result = _adopted(client, job, resource, "The resource is ready.")
        return _recheck_files(client, job, result)
    chosen = job.options.get("resource") or {}
    if isinstance(chosen, dict) and chosen.get("id"):
        resource = _checked(client, job, str(chosen["id"]))
        return _adopted(client, job, resource, f"Using the resource {_name(resource)}.")
    if job.resumed and job.create_marker:
        found = find_created(client, job)
        if found is not None:
            return found
    resource = _create(client, job)
    return _adopted(client, job, resource, f"Created the resource {_name(resource)}.", created=True)


def _recheck_files(client: HttpClient, job: Job, result: StepResult) -> StepResult:
    """On a re-run (Retry) the files recorded as stored are looked for: any the resource
    does not hold once with our size is sent again, with its metadata."""
    done = [f for f in job.live_files() if f.status == FileState.DONE]
    if not done:
        return result
    held = listing(client, job)
    data = result.remote_data or {}
    for f in done:
        if held.get(f.name) != [f.size]:
            data["files"].setdefault(f.name, {})["stage"] = ""
            result.file_updates[f.name] = FileUpdate(status=FileState.PENDING, bytes_sent=0)
    if result.file_updates:
        result.message = (
            f"The resource is ready; {len(result.file_updates)} file(s) it should hold are "
            "missing or changed there and will be sent again."
        )
    return result


def _name(resource: dict[str, Any]) -> str:
    return str(resource.get("displayName") or resource.get("name") or resource.get("id"))


def _checked(client: HttpClient, job: Job, resource_id: str) -> dict[str, Any]:
    """An existing resource the target may store into, or why not."""
    try:
        resource = read_resource(client, job, resource_id)
    except NotFound:
        raise PermanentError(
            "The chosen Coscine resource no longer exists in the project (or your token "
            "cannot see it). Choose another resource, or ask for a new one."
        ) from None
    projects = [p.get("id") for p in resource.get("projects") or [] if isinstance(p, dict)]
    if projects and project_id(job) not in projects:
        raise PermanentError(
            f"The resource {_name(resource)} does not belong to the chosen project; choose "
            "one of the project's resources."
        )
    if resource.get("archived"):
        raise PermanentError(
            f"The resource {_name(resource)} is archived (read-only) on Coscine: choose "
            "another resource, or un-archive it on Coscine first."
        )
    if general_type(resource) in ("linked", "gitlab"):
        raise PermanentError(
            f"The resource {_name(resource)} is of type {general_type(resource)}, which "
            "stores no files: choose a storage resource (web storage or S3)."
        )
    return resource


def _create(client: HttpClient, job: Job) -> dict[str, Any]:
    """``POST /api/v2/projects/{id}/resources`` with a ResourceForCreationDto."""
    wanted = job.options.get("new_resource")
    if not isinstance(wanted, dict) or not wanted.get("resource_type"):
        raise PermanentError(
            "Neither an existing Coscine resource nor a new one is chosen: choose one."
        )
    body = creation_body(job, wanted, _type_of(client, job, str(wanted["resource_type"])))
    created = data_of(
        client, client.request("POST", f"{API}/projects/{project_id(job)}/resources", json=body)
    )
    if not isinstance(created, dict) or not created.get("id"):
        raise PermanentError("Coscine created the resource but did not say which it is.")
    return created


def _type_of(client: HttpClient, job: Job, type_id: str) -> str:
    """The general type of one of the project's resource types (which options it takes)."""
    for item in pages(client, f"{API}/projects/{project_id(job)}/resource-types"):
        if str(item.get("id")) == type_id:
            return str(item.get("generalType") or "").lower()
    raise PermanentError(
        "The chosen resource type is not available in this project any more: choose "
        "another one for the new resource."
    )


def creation_body(job: Job, wanted: dict[str, Any], kind: str) -> dict[str, Any]:
    keywords = [str(k) for k in wanted.get("keywords") or [] if str(k)]
    if job.create_marker:
        keywords.append(job.create_marker)
    options: dict[str, Any] = {}
    if kind != "linked":
        quota = wanted.get("quota_gib") or 1
        options = {"quota": {"value": quota, "unit": QUOTA_UNIT}}
    body: dict[str, Any] = {
        "name": wanted.get("name", ""),
        "displayName": wanted.get("display_name") or None,
        "description": wanted.get("description", ""),
        "keywords": keywords,
        "visibility": {"id": wanted.get("visibility", "")},
        "disciplines": [{"id": d} for d in wanted.get("disciplines") or []],
        "resourceTypeId": wanted["resource_type"],
        "applicationProfile": {"uri": job.options.get("application_profile", "")},
        "resourceTypeOptions": {OPTIONS_KEY.get(kind, f"{kind}ResourceTypeOptions"): options},
    }
    if wanted.get("license"):
        body["license"] = {"id": wanted["license"]}
    return body


def _adopted(
    client: HttpClient,
    job: Job,
    resource: dict[str, Any],
    message: str,
    *,
    created: bool | None = None,
) -> StepResult:
    data = data_section(job)
    before = data.get("resource") or {}
    data["project_id"] = project_id(job)
    data["resource"] = {
        "id": str(resource["id"]),
        "pid": str(resource.get("pid") or ""),
        "general_type": general_type(resource),
        "created_by_portal": bool(before.get("created_by_portal")) if created is None else created,
    }
    return StepResult(
        message=message,
        remote_id=str(resource["id"]),
        remote_state="stored",
        remote_links=links_for(client, job, str(resource["id"])),
        remote_data=data,
    )


# --------------------------------------------------------------------------- markers


def _marked(client: HttpClient, project: str) -> list[tuple[dict[str, Any], str]]:
    """The project's resources that carry one of our markers among their keywords."""
    found = []
    for item in pages(client, f"{API}/projects/{project}/resources"):
        for keyword in item.get("keywords") or []:
            match = MARKER.fullmatch(str(keyword))
            if match and item.get("id"):
                found.append((item, match.group(0)))
    return found


def find_created(client: HttpClient, job: Job) -> StepResult | None:
    """The resource an interrupted create made, found by the target's marker."""
    if not job.create_marker:
        return None
    for item, marker in _marked(client, project_id(job)):
        if marker == job.create_marker:
            resource = read_resource(client, job, str(item["id"]))
            message = f"Adopted the resource {_name(resource)} an earlier attempt created."
            return _adopted(client, job, resource, message, created=True)
    return None


def _projects(client: HttpClient) -> list[str]:
    return [str(p["id"]) for p in pages(client, f"{API}/projects") if p.get("id")]


def marked_drafts(client: HttpClient) -> list[tuple[str, str]]:
    """(resource id, marker) of every marked resource the token can see, in any of its
    projects (the id alone, as ``Target.remote_id`` holds it)."""
    drafts = []
    for project in _projects(client):
        for item, marker in _marked(client, project):
            drafts.append((str(item["id"]), marker))
    return drafts


def delete_orphan(client: HttpClient, remote_id: str) -> None:
    """Delete a marked resource no target uses, only while it holds no files (a resource
    the portal created and then lost sight of has had nothing stored in it)."""
    try:
        found = data_of(client, client.request("GET", f"{API}/resources/{remote_id}"))
    except NotFound:
        return
    projects = [p.get("id") for p in (found or {}).get("projects") or [] if isinstance(p, dict)]
    if not projects:
        raise PermanentError(f"Coscine did not say which project resource {remote_id} is in.")
    base = f"{API}/projects/{projects[0]}/resources/{remote_id}"
    try:
        stored = pages(client, f"{base}/storage")
    except NotFound:
        return
    if stored:
        raise PermanentError(
            f"The marked resource {remote_id} holds {len(stored)} entries; it is left as it "
            "is. Delete it on Coscine yourself if nobody needs it."
        )
    with contextlib.suppress(NotFound):
        client.request("DELETE", base)


# --------------------------------------------------------------------------- delete


def delete_stored(client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
    """The delete action, one delete per call: each file this target stored, then the
    resource itself if the portal created it. Something already gone is what we wanted."""
    data = data_section(job)
    files = data["files"]
    if files:
        name = next(iter(files))
        with contextlib.suppress(NotFound):
            client.request("DELETE", f"{resource_path(job)}/storage/{encoded(name)}")
        files.pop(name)
        same = [f for f in job.files if f.name == name]
        return StepResult(
            done=False,
            message=f"Deleted {name} from the resource.",
            remote_data=data,
            file_updates={f.name: FileUpdate.reset() for f in same if not _gone(f.status)},
            files_removed=[f.name for f in same if _gone(f.status)],
        )
    resource = data.get("resource") or {}
    if resource.get("created_by_portal") and job.remote_id:
        _delete_created(client, job)
        message = "Deleted the resource the portal had created."
    else:
        message = "Deleted the stored files; the resource itself was chosen, so it stays."
    data["resource"] = {}
    return StepResult(message=message, remote_id="", remote_state="", remote_data=data)


def _gone(status: FileState) -> bool:
    return status == FileState.DELETE


def _delete_created(client: HttpClient, job: Job) -> None:
    try:
        client.request("DELETE", resource_path(job))
    except NotFound:
        return
    except RepositoryError as exc:
        if exc.status == 404:
            return
        raise
