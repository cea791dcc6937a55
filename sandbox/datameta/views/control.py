"""``/_control`` at the DataMeta sandbox's root: what tests and benchmarks need beyond the real API.

``GET`` returns request counters, the armed fault and the service delay. ``POST`` takes
one JSON object with an ``action``:

* ``{"action": "reset"}``: forget every metadataset, file, submission and service
  execution (and their bytes), counters and faults; ``"keys": true`` also drops API
  keys and login failures and re-enables users. The seed is kept.
* ``{"action": "fault", "mode": "500"|"html502"|"slow", "times": 1, "path": "/files",
  "method": "PUT", "seconds": 2}``: arm a fault for the next ``times`` API requests
  (``path``: a fragment the request path must contain; ``method``: only that method).
* ``{"action": "clear_faults"}``.
* ``{"action": "fault_rates", "rates": "error=0.1,rate_limit=0.05"}``: faults at random
  rates (``sandbox/fault_rates.py``) for the process that answers; ``reset`` goes back
  to those it started with (``SANDBOX_FAULT_RATES``).
* ``{"action": "run_services"}``: let the accession service process every submitted
  metadataset now, whatever the delay.
* ``{"action": "configure", "service_delay": 0}``: seconds after submission the service
  runs by itself (null: back to the setting; negative: only on ``run_services``).
* ``{"action": "issue_token", "user": "alice", "days": 30}``: an API key, as
  ``manage.py sandbox_token datameta`` prints.
* ``{"action": "expire_keys", "user": "alice"}``: make that user's keys (all keys
  without ``user``) expired, to exercise the expired-key reply.

``GET /_control/users`` lists each user's failed logins in the last hour and whether the
user is still enabled.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from ... import fault_rates
from .. import faults, services
from ..models import (
    ApiKey,
    ControlState,
    DownloadToken,
    File,
    LoginFailure,
    MetaDataSet,
    RequestCounter,
    ServiceExecution,
    Submission,
    User,
    storage_dir,
)
from ..seed import ensure_seeded, sandbox_user
from ..tokens import issue_token


@csrf_exempt
def control(request: HttpRequest) -> HttpResponse:
    ensure_seeded()
    if request.method == "GET":
        return JsonResponse(_status())
    if request.method != "POST":
        return JsonResponse({"error": "use GET or POST"}, status=405)
    try:
        command: dict[str, Any] = json.loads(request.body or b"{}")
        action = command["action"]
        result = ACTIONS[action](command)
    except (ValueError, KeyError, TypeError) as problem:
        return JsonResponse({"error": f"bad control request: {problem!r}"}, status=400)
    return JsonResponse({"ok": True, **result, **_status()})


def _status() -> dict[str, Any]:
    return {
        "counters": faults.counters(),
        "fault": faults.armed(),
        "service_delay": services.current_delay(),
        "fault_rates": fault_rates.dice().rates.as_dict(),
    }


def _reset(command: dict[str, Any]) -> dict[str, Any]:
    with transaction.atomic():
        ServiceExecution.objects.all().delete()
        DownloadToken.objects.all().delete()
        MetaDataSet.objects.all().delete()
        Submission.objects.all().delete()
        File.objects.all().delete()
        RequestCounter.objects.all().delete()
        ControlState.objects.all().delete()
        if command.get("keys"):
            ApiKey.objects.all().delete()
            LoginFailure.objects.all().delete()
            User.objects.update(enabled=True)
    shutil.rmtree(storage_dir(), ignore_errors=True)
    fault_rates.restore()
    return {}


def _fault(command: dict[str, Any]) -> dict[str, Any]:
    mode = str(command["mode"])
    if mode not in faults.MODES:
        raise ValueError(f"mode must be one of {faults.MODES}")
    faults.arm(
        mode,
        times=int(command.get("times", 1)),
        path=str(command.get("path", "")),
        method=str(command.get("method", "")),
        seconds=float(command.get("seconds", 2.0)),
    )
    return {}


def _clear_faults(command: dict[str, Any]) -> dict[str, Any]:
    faults.disarm()
    return {}


def _fault_rates(command: dict[str, Any]) -> dict[str, Any]:
    """Random fault rates for this process (a ``FaultRatesError`` is a ``ValueError``)."""
    fault_rates.from_control(command["rates"])
    return {}


def _run_services(command: dict[str, Any]) -> dict[str, Any]:
    return {"executed": services.run_due(force=True)}


def _configure(command: dict[str, Any]) -> dict[str, Any]:
    delay = command["service_delay"]
    ControlState.get()
    ControlState.objects.filter(pk=1).update(service_delay=None if delay is None else float(delay))
    return {}


def _issue_token(command: dict[str, Any]) -> dict[str, Any]:
    user = str(command.get("user", "sandbox-user"))
    days = command.get("days")
    token = issue_token(user) if days is None else issue_token(user, days=float(days))
    return {"token": token}


def _expire_keys(command: dict[str, Any]) -> dict[str, Any]:
    keys = ApiKey.objects.all()
    if command.get("user"):
        keys = keys.filter(user=sandbox_user(str(command["user"])))
    expired = keys.update(expires=timezone.now() - timedelta(seconds=1))
    return {"expired": expired}


ACTIONS = {
    "reset": _reset,
    "fault": _fault,
    "clear_faults": _clear_faults,
    "fault_rates": _fault_rates,
    "run_services": _run_services,
    "configure": _configure,
    "issue_token": _issue_token,
    "expire_keys": _expire_keys,
}


def login_failures(request: HttpRequest) -> HttpResponse:
    """``GET /_control/users``: each user's failed logins in the last hour and whether the
    user is still enabled (five disable it, notes-datameta.md §3) -- what a test checks to
    prove a client never locks a user out."""
    ensure_seeded()
    since = timezone.now() - timedelta(hours=1)
    return JsonResponse(
        {
            "users": [
                {
                    "name": user.name,
                    "email": user.email,
                    "enabled": user.enabled,
                    "failed_logins_last_hour": user.login_failures.filter(at__gt=since).count(),
                }
                for user in User.objects.order_by("id")
            ]
        }
    )
