"""The control endpoint: knobs, faults and counters over HTTP (see ``control``)."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from . import control


@csrf_exempt
@require_http_methods(["GET", "POST"])
def control_view(request: HttpRequest) -> HttpResponse:
    """``GET`` returns the state; ``POST`` applies ``{reset, wipe, config, faults}`` and returns it.

    Only served while ``settings.SANDBOX_ENABLED``: it is an open door by design.
    """
    if not settings.SANDBOX_ENABLED:
        raise Http404
    if request.method == "GET":
        return JsonResponse(control.state())
    try:
        payload = json.loads(request.body or b"{}")
        return JsonResponse(control.apply(payload))
    except (ValueError, control.ControlError) as exc:
        return JsonResponse({"status": 400, "message": str(exc)}, status=400)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """A pointer for people who open the sandbox's root in a browser."""
    root = request.build_absolute_uri()
    return JsonResponse(
        {
            "service": "Zenodo sandbox (deposit API, InvenioRDM compatibility layer)",
            "api": f"{root}api/deposit/depositions",
            "control": f"{root}_control",
            "token": "python manage.py sandbox_token zenodo",
        }
    )
