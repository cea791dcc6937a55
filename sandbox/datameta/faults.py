"""Fault injection and request counters, driven by ``POST /_control`` (at the sandbox's root).

A fault is armed for the next N API requests (optionally only those whose path contains
a fragment, or with one method): ``500`` answers like waitress after an unhandled
exception (exchange #19), ``html502`` like a reverse proxy whose upstream is down, and
``slow`` sleeps before handling the request normally. Nothing here adds rate-limit
headers: DataMeta sends none (notes-datameta.md §26).
"""

from __future__ import annotations

import time

from django.db.models import F
from django.http import HttpRequest, HttpResponse

from . import pages
from .models import ControlState, RequestCounter

MODES = ("500", "html502", "slow")


def count(key: str) -> None:
    if not RequestCounter.objects.filter(key=key).update(count=F("count") + 1):
        counter, created = RequestCounter.objects.get_or_create(key=key, defaults={"count": 1})
        if not created:
            RequestCounter.objects.filter(pk=counter.pk).update(count=F("count") + 1)


def counters() -> dict[str, int]:
    return dict(RequestCounter.objects.order_by("key").values_list("key", "count"))


def arm(
    mode: str, *, times: int = 1, path: str = "", method: str = "", seconds: float = 2.0
) -> None:
    ControlState.get()
    ControlState.objects.filter(pk=1).update(
        fault_mode=mode,
        fault_remaining=times,
        fault_path=path,
        fault_method=method.upper(),
        slow_seconds=seconds,
    )


def disarm() -> None:
    ControlState.get()
    ControlState.objects.filter(pk=1).update(fault_mode="", fault_remaining=0)


def armed() -> dict[str, object] | None:
    state = ControlState.get()
    if not state.fault_mode or state.fault_remaining <= 0:
        return None
    return {
        "mode": state.fault_mode,
        "remaining": state.fault_remaining,
        "path": state.fault_path,
        "method": state.fault_method,
        "seconds": state.slow_seconds,
    }


def injected(request: HttpRequest) -> HttpResponse | None:
    """The faulty reply for this request, if a fault is armed and matches it."""
    state = ControlState.get()
    if not state.fault_mode or state.fault_remaining <= 0:
        return None
    if state.fault_path and state.fault_path not in request.path:
        return None
    if state.fault_method and state.fault_method != request.method:
        return None
    # Claim one shot with compare-and-set, so N armed faults hit exactly N requests.
    claimed = ControlState.objects.filter(pk=1, fault_remaining__gt=0).update(
        fault_remaining=F("fault_remaining") - 1
    )
    if not claimed:
        return None
    if state.fault_mode == "slow":
        time.sleep(state.slow_seconds)
        return None
    if state.fault_mode == "html502":
        return HttpResponse(pages.PROXY_502, status=502, content_type="text/html")
    response = HttpResponse(
        pages.WAITRESS_500, status=500, content_type="text/plain; charset=utf-8"
    )
    response["Connection"] = "close"
    return response
