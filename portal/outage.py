"""When Redis (the task queue and the shared rate limiter) cannot be reached, a page says
so and answers 503 instead of failing with a 500.

Nothing is lost by such a request: a state change is committed before its task is sent,
and a target whose task could not be sent stays queued until the reconciler sends it
(deposits/lifecycle/reconciler.py). Views that can say something better (Publish: "queued,
starts when the workers are reachable") catch ``QueueUnreachable`` themselves; this is
the safety net for every other one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import kombu.exceptions
import redis.exceptions
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html

from deposits.lifecycle.states import QueueUnreachable

log = logging.getLogger(__name__)

# Connection errors only: a Redis that answers with an error is a bug, shown as one.
# (redis-py's BusyLoadingError, a Redis still loading after a restart, is a ConnectionError.)
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    QueueUnreachable,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)

MESSAGE = (
    "The portal is temporarily unavailable: the task queue cannot be reached. "
    "Nothing was lost; try again in a minute."
)
RETRY_AFTER_SECONDS = 60


def unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 for a person: a page, or for htmx a message it swaps into the page's
    message area (htmx does not swap error statuses, so that one answers 200 and says
    where to put it)."""
    if getattr(request, "htmx", False):
        response = HttpResponse(
            format_html('<p class="message message-error" role="alert">{}</p>', MESSAGE)
        )
        response["HX-Retarget"] = "#messages"
        response["HX-Reswap"] = "innerHTML"
        return response
    response = render(request, "503.html", {"message": MESSAGE}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class QueueOutageMiddleware:
    """Turns a Redis or broker connection error raised by a view into ``unavailable``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OUTAGE_ERRORS):
            return None
        log.warning("%s %s: Redis unreachable (%s)", request.method, request.path, exception)
        return unavailable(request)
