"""Injected misbehaviour: the failures clients meet on the real service (notes §1.8, §4, §5.2).

500 with an ``error_id``, the proxy's HTML 502/504 pages, slow replies, and connections
reset in the middle of a large upload (zenodo/zenodo #2328, #2514, #2582).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import stat
import struct
import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse

from .control import count
from .models import Fault

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


class ConnectionDropped(ConnectionResetError):
    """Raised when no socket could be found to reset (an in-process test client)."""


def drop_connection(request: HttpRequest) -> None:
    """Reset the client's TCP connection now, as a proxy giving up on an upload does.

    The connection's socket gets ``SO_LINGER`` 0 and its descriptor is swapped for
    ``/dev/null`` with ``dup2``: that closes the last reference to the socket, so the
    kernel sends a RST at once and the client, still sending or waiting for the reply,
    sees "connection reset by peer". Swapping rather than closing keeps the server's
    descriptor number valid (it later writes into /dev/null and closes it), so no other
    thread can be handed that number in between. Raising an exception instead would only
    give the client a 500, and closing gracefully would leave it blocked on a full window.
    """
    fd = _socket_fd(request)
    if fd is None:
        raise ConnectionDropped("sandbox: connection reset in the middle of the upload")
    with socket.socket(fileno=os.dup(fd)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _socket_fd(request: HttpRequest) -> int | None:
    """The descriptor of the client connection under gunicorn or Django's own server."""
    gunicorn_socket = request.META.get("gunicorn.socket")
    if gunicorn_socket is not None:
        return int(gunicorn_socket.fileno())
    # Django's server hands the view nested LimitedStreams over the socket file; each one
    # keeps the read method of the stream it wraps.
    stream: Any = request.META.get("wsgi.input")
    for _ in range(5):
        if stream is None:
            return None
        with contextlib.suppress(OSError, ValueError):
            fd = stream.fileno()
            if isinstance(fd, int) and _is_socket(fd):
                return fd
        stream = getattr(getattr(stream, "_read", None), "__self__", None) or getattr(
            stream, "raw", None
        )
    return None


def _is_socket(fd: int) -> bool:
    return stat.S_ISSOCK(os.fstat(fd).st_mode)
