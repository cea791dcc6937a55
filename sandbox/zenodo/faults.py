"""Injected misbehaviour: the failures clients meet on the real service (notes §1.8, §4, §5.2).

500 with an ``error_id``, the proxy's HTML 502/504 pages, slow replies, and connections
reset in the middle of a large upload (zenodo/zenodo #2328, #2514, #2582): queued for the
next N matching requests (``take``), or at random rates for soak tests (``random_*``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse

from .. import fault_rates
from ..fault_rates import ConnectionDropped, drop_connection
from .control import count
from .models import Fault

__all__ = ["ConnectionDropped", "drop_connection"]

# werkzeug's InternalServerError description, which invenio returns with an error_id.
INTERNAL_ERROR = (
    "The server encountered an internal error and was unable to complete your request. "
    "Either the server is overloaded or there is an error in the application."
)
GATEWAY_TITLES = {
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def take(request: HttpRequest, kinds: Iterable[str]) -> Fault | None:
    """Claim one use of the oldest queued fault of ``kinds`` that matches this request.

    The claim is a compare-and-set on ``remaining``, so two threads never both spend the
    last use of a fault.
    """
    candidates = Fault.objects.filter(kind__in=list(kinds), remaining__gt=0)
    for fault in candidates:
        if fault.method and fault.method != request.method:
            continue
        if fault.path and not re.search(fault.path, request.path):
            continue
        if Fault.objects.filter(pk=fault.pk, remaining__gt=0).update(remaining=F("remaining") - 1):
            Fault.objects.filter(pk=fault.pk, remaining=0).delete()
            count("faults_injected")
            return fault
    return None


def error_reply(fault: Fault) -> HttpResponse:
    """The JSON error of flask-resources; 5xx replies carry an ``error_id`` (notes §1.8)."""
    status = fault.status or 500
    body: dict[str, Any] = {"status": status, "message": fault.message or INTERNAL_ERROR}
    if status >= 500:
        body["error_id"] = str(uuid.uuid4())
    response = JsonResponse(body, status=status)
    if status in (429, 503) and fault.delay_seconds:
        # An injected throttle announces its own wait instead of the window's.
        response["Retry-After"] = str(max(1, round(fault.delay_seconds)))
    return response


def gateway_reply(fault: Fault) -> HttpResponse:
    """What nginx sends when the application behind it is down or slow: HTML, not JSON."""
    status = fault.status or 502
    title = f"{status} {GATEWAY_TITLES[status]}"
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return HttpResponse(page, status=status, content_type="text/html")


# --------------------------------------------------------------------------- at random rates
# (``sandbox/fault_rates.py``: SANDBOX_FAULT_RATES, per process)


def random_throttle() -> HttpResponse | None:
    """A 429 at the ``rate_limit`` rate: Flask-Limiter's reply, with ``Retry-After`` on
    the share ``retry_after`` of them and none on the rest, as a throttling proxy sends."""
    dice = fault_rates.dice()
    if not dice.roll("rate_limit"):
        return None
    count("injected:rate_limit")
    wait = dice.retry_after()
    response = JsonResponse({"status": 429, "message": "100 per 1 minute"}, status=429)
    if wait is None:
        response.without_retry_after = True  # type: ignore[attr-defined]
    else:
        response["Retry-After"] = str(wait)
    return response


def random_error() -> HttpResponse | None:
    """A 500 with an ``error_id`` at the ``error`` rate, before the view does anything."""
    if not fault_rates.dice().roll("error"):
        return None
    count("injected:error")
    return error_reply(Fault(kind=Fault.Kind.ERROR, status=500))


def random_reset() -> bool:
    """Whether this bucket upload has its connection reset, at the ``reset`` rate."""
    if not fault_rates.dice().roll("reset"):
        return False
    count("injected:reset")
    return True


def random_slow_create() -> tuple[float, float] | None:
    """At the ``slow_create`` rate: seconds to wait before creating the draft and after."""
    dice = fault_rates.dice()
    if not dice.roll("slow_create"):
        return None
    count("injected:slow_create")
    return dice.split_delay()
