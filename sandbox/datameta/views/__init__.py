"""The DataMeta API views, one module per resource, and the wrapper every route shares.

``route()`` gives each path what the real server does around its views: the seed on
first use, request counting, injected faults, the lazily run accession service, method
dispatch (a known path with an unknown method is Pyramid's short 404, notes §8), and the
``Server: waitress`` header (notes §26).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
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
        response: HttpResponseBase | None = faults.injected(request)
        if response is None:
            services.run_due()
            handler = handlers.get(method)
            if handler is None:
                response = pyramid_not_found()
            else:
                try:
                    response = handler(request, **kwargs)
                except ApiError as stop:
                    response = stop.response
        response["Server"] = "waitress"
        return response

    view.__name__ = f"datameta_{name.replace('-', '_').replace('/', '_')}"
    return view
