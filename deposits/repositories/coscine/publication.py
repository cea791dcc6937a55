"""The resource's Handle, and publication requests to the institution's library (A.3).

Coscine mints no DOI: every resource has a Handle PID (``21.11102/<uuid>``) from its
creation, which ``register`` reads and hands back as the target's identifier. Publishing
in the library's sense is a request a person at the publication service answers
(``POST /api/v2/projects/{id}/publications/requests``), sent by the
``request_publication`` action and kept in ``remote_data["publication_requests"]``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..base import IdentifierOut, Job, PermanentError, ProgressFn, StepResult, TransientError
from .resources import API, data_of, data_section, links_for, project_id, read_resource

if TYPE_CHECKING:
    from ..http import HttpClient

HANDLE_RESOLVER = "https://hdl.handle.net/"


def register(client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
    """Read the resource back for its PID (only a read: safe to repeat)."""
    resource = read_resource(client, job)
    pid = str(resource.get("pid") or "").strip()
    if not pid:
        raise TransientError("Coscine has not given the resource its Handle yet; asking again.")
    data = data_section(job)
    data["resource"] = {**(data.get("resource") or {}), "pid": pid}
    return StepResult(
        message=f"The resource's persistent identifier is the Handle {pid}.",
        remote_state="stored",
        remote_links=links_for(client, job, job.remote_id),
        identifiers=[IdentifierOut("handle", pid, HANDLE_RESOLVER + pid)],
        remote_data=data,
    )


def request(client: HttpClient, job: Job, progress: ProgressFn) -> StepResult:
    """Send one publication request for the resource.

    Coscine has no list of a project's requests to look in (the API reads one request
    only by its id), so a request whose reply was lost cannot be checked: a resumed
    attempt does not send it again, and says so, rather than asking the library twice.
    """
    wanted = job.options.get("publication") or {}
    service = str(wanted.get("service") or "") if isinstance(wanted, dict) else ""
    if not service:
        raise PermanentError(
            "No publication service is chosen: choose your library's service on the "
            "target, then request publication."
        )
    if job.resumed:
        raise PermanentError(
            "An earlier attempt to send the publication request got no answer from "
            "Coscine, which offers no way to check whether it arrived; it was not sent "
            "again, so the library is not asked twice. If the library does not contact "
            "you within a few days, request publication again."
        )
    message = str(wanted.get("message") or "")
    body = {"publicationServiceRorId": service, "resourceIds": [job.remote_id], "message": message}
    sent = data_of(
        client,
        client.request(
            "POST", f"{API}/projects/{project_id(job)}/publications/requests", json=body
        ),
    )
    request_id = str(sent.get("id") or "") if isinstance(sent, dict) else ""
    data = data_section(job)
    data["publication_requests"] = [
        *data["publication_requests"],
        {
            "id": request_id,
            "service": service,
            "requested_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "message": message,
        },
    ]
    return StepResult(
        message="Asked the publication service to publish the resource; its staff will "
        "contact you.",
        remote_data=data,
    )
