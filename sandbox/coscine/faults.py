"""Faults armed through ``/_control/faults``: for the next n API requests (optionally
only those whose path starts with a prefix, or of one method) answer 429 (with or
without Retry-After), 500, 503, or an HTML error page of the front proxy instead of
Coscine's JSON; or wait ``delay`` seconds before reading the request (status 0: then
answer it normally), so a test can kill a worker while its upload is under way.
"""

from __future__ import annotations

import time
from typing import Any

from django.db.models import F
from django.http import HttpRequest, HttpResponse

from .models import ControlState
from .replies import problem

HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>{status} Service Unavailable</title></head>"
    "<body><h1>Coscine is currently unavailable</h1><p>Please try again later.</p>"
    "</body></html>"
)
STATUSES = (429, 500, 502, 503)


def arm(
    status: int,
    *,
    times: int = 1,
    html: bool = False,
    retry_after: str = "",
    path: str = "",
    method: str = "",
    delay: float = 0.0,
) -> None:
    ControlState.get()
    ControlState.objects.filter(pk=1).update(
        fault_status=status,
        fault_remaining=times,
        fault_html=html,
        fault_retry_after=retry_after,
        fault_path=path,
        fault_method=method.upper(),
        fault_delay=delay,
    )


def armed() -> dict[str, Any] | None:
    state = ControlState.get()
    if state.fault_remaining <= 0:
        return None
    return {
        "status": state.fault_status,
        "remaining": state.fault_remaining,
        "html": state.fault_html,
        "retry_after": state.fault_retry_after,
        "path": state.fault_path,
        "method": state.fault_method,
        "delay": state.fault_delay,
    }


def injected(request: HttpRequest) -> HttpResponse | None:
    """The faulty reply for this request, if a fault is armed and matches its path and
    method (after its delay, if it has one; None when it is only a delay)."""
    state = ControlState.get()
    if state.fault_remaining <= 0:
        return None
    if state.fault_path and not request.path.startswith(state.fault_path):
        return None
    if state.fault_method and request.method != state.fault_method:
        return None
    # Claim one shot with compare-and-set, so n armed faults hit exactly n requests.
    if not ControlState.objects.filter(pk=1, fault_remaining__gt=0).update(
        fault_remaining=F("fault_remaining") - 1
    ):
        return None
    if state.fault_delay > 0:
        time.sleep(state.fault_delay)
    return _reply(state) if state.fault_status else None


def _reply(state: ControlState) -> HttpResponse:
    status = state.fault_status
    if state.fault_html:
        body = HTML_PAGE.replace("{status}", str(status))
        response = HttpResponse(body, status=status, content_type="text/html")
    else:
        titles = {429: "Too Many Requests", 503: "Service Unavailable"}
        response = problem(
            status, titles.get(status, "An error occurred while processing your request.")
        )
    if state.fault_retry_after:
        response["Retry-After"] = state.fault_retry_after
    return response
