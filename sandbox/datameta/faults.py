"""Fault injection and request counters, driven by ``POST /_control`` (at the sandbox's root).

A fault is armed for the next N API requests (optionally only those whose path contains
a fragment, or with one method): ``500`` answers like waitress after an unhandled
exception (exchange #19), ``html502`` like a reverse proxy whose upstream is down, and
``slow`` sleeps before handling the request normally. Nothing here adds rate-limit
headers: DataMeta sends none (notes-datameta.md §26).

For soak tests, faults also come at random rates (``sandbox/fault_rates.py``,
``SANDBOX_FAULT_RATES``, per process): waitress's 500, a throttling proxy's 429 (never
with ``Retry-After``), a connection reset half-way through an upload, and creates (a
metadataset, an announced file, a submission) whose reply comes after a long delay.
"""

from __future__ import annotations

import time

from django.db.models import F
from django.http import HttpRequest, HttpResponse

from .. import fault_rates
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


# --------------------------------------------------------------------------- at random rates

# Routes whose POST creates something on the site (the names ``views.route`` gives them).
CREATES = frozenset({"metadatasets", "files", "submissions"})
# nginx's ``limit_req_status 429`` page: a DataMeta site's proxy throttling; no Retry-After.
PROXY_429 = (
    "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
    "<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def random_reply() -> HttpResponse | None:
    """A 429 or a 500 at the process's rates, before the view does anything."""
    dice = fault_rates.dice()
    if dice.roll("rate_limit"):
        count("injected rate_limit")
        return HttpResponse(PROXY_429, status=429, content_type="text/html")
    if dice.roll("error"):
        count("injected error")
        response = HttpResponse(
            pages.WAITRESS_500, status=500, content_type="text/plain; charset=utf-8"
        )
        response["Connection"] = "close"
        return response
    return None


def random_reset(request: HttpRequest, name: str) -> bool:
    """At the ``reset`` rate, an upload reads half its body and then loses its connection.

    Returns whether it did (the reply then goes nowhere)."""
    if name != "upload" or request.method != "POST":
        return False
    if not fault_rates.dice().roll("reset"):
        return False
    count("injected reset")
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    fault_rates.read_part(request, length // 2)
    fault_rates.drop_connection(request)
    return True


def random_slow_create(request: HttpRequest, name: str) -> tuple[float, float] | None:
    """At the ``slow_create`` rate: seconds a create waits before it is made and after."""
    if name not in CREATES or request.method != "POST":
        return None
    dice = fault_rates.dice()
    if not dice.roll("slow_create"):
        return None
    count("injected slow_create")
    return dice.split_delay()
