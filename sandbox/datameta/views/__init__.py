"""The DataMeta API views, one module per resource, and the wrapper every route shares.

``route()`` gives each path what the real server does around its views: the seed on
first use, request counting, injected faults (armed, or at random rates for soak tests),
the lazily run accession service, method dispatch (a known path with an unknown method
is Pyramid's short 404, notes §8), and the ``Server: waitress`` header (notes §26).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from .. import faults, services
from ..responses import ApiError, pyramid_not_found
from ..seed import ensure_seeded

Handler = Callable[..., HttpResponseBase]


def route(name: str, handlers: dict[str, Handler]) -> Callable[..., HttpResponseBase]:
    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
        method = request.method or "GET"
        ensure_seeded()
        faults.count(f"{method} {name}")
        response: HttpResponseBase | None = faults.injected(request) or faults.random_reply()
        if response is None and faults.random_reset(request, name):
            response = HttpResponse(status=500)  # nobody reads it: the connection is gone
        if response is None:
            services.run_due()
            response = _handle(request, name, handlers.get(method), kwargs)
        response["Server"] = "waitress"
        return response

    view.__name__ = f"datameta_{name.replace('-', '_').replace('/', '_')}"
    return view


def _handle(
    request: HttpRequest, name: str, handler: Handler | None, kwargs: dict[str, Any]
) -> HttpResponseBase:
    if handler is None:
        return pyramid_not_found()
    slow = faults.random_slow_create(request, name)
    if slow:
        time.sleep(slow[0])
    try:
        return handler(request, **kwargs)
    except ApiError as stop:
        return stop.response
    finally:
        if slow:
            # The item exists (or was refused) by now; the client has stopped waiting.
            time.sleep(slow[1])
