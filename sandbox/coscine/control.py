"""``/_control/``: what tests and the demo drive (no auth, sandbox only).

* ``POST /_control/faults`` ``{"status": 429|500|503, "html": bool, "times": n,
  "retry_after": "5", "path": "/coscine/api/v2/projects"}``; ``DELETE`` disarms; GET reads.
* ``POST /_control/tokens/expire`` ``{"user": name}``: that user's tokens expire now.
* ``POST /_control/resources/<id>/delete``: deleted out of band (its PID then 410s).
* ``PUT /_control/profiles`` ``{"uri", "turtle"}``: replace (or add) a profile.
* ``GET /_control/resources/<id>/stored``: each file's size and latest metadata graph.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from . import faults, s3
from .models import ApiToken, MetadataVersion, ProfileOverride, Resource
from .seed import ensure_seeded


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


@csrf_exempt
def fault(request: HttpRequest) -> HttpResponse:
    if request.method == "DELETE":
        faults.arm(0, times=0)
    elif request.method == "POST":
        body = _body(request)
        delay = float(body.get("delay") or 0)
        status = int(body.get("status", 0 if delay else 500))
        if status not in faults.STATUSES and not (status == 0 and delay > 0):
            return JsonResponse(
                {"error": f"status must be one of {faults.STATUSES} (or 0 with a delay)"},
                status=400,
            )
        faults.arm(
            status,
            times=int(body.get("times", 1)),
            html=bool(body.get("html", False)),
            retry_after=str(body.get("retry_after") or ""),
            path=str(body.get("path") or ""),
            method=str(body.get("method") or ""),
            delay=delay,
        )
    return JsonResponse({"armed": faults.armed()})


@csrf_exempt
def expire_tokens(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return JsonResponse({"error": "POST"}, status=405)
    user = str(_body(request).get("user", ""))
    count = ApiToken.objects.filter(user__name=user).update(expires=timezone.now())
    return JsonResponse({"expired": count})


@csrf_exempt
def delete_resource(request: HttpRequest, resource_id: str) -> HttpResponse:
    if request.method != "POST":
        return JsonResponse({"error": "POST"}, status=405)
    count = Resource.objects.filter(uuid=resource_id).update(deleted=True)
    return JsonResponse({"deleted": count}, status=200 if count else 404)


@csrf_exempt
def profile(request: HttpRequest) -> HttpResponse:
    if request.method != "PUT":
        return JsonResponse({"error": "PUT"}, status=405)
    body = _body(request)
    if not body.get("uri") or not isinstance(body.get("turtle"), str):
        return JsonResponse({"error": "give uri and turtle"}, status=400)
    ProfileOverride.objects.update_or_create(uri=body["uri"], defaults={"turtle": body["turtle"]})
    return JsonResponse({"uri": body["uri"]})


def stored(request: HttpRequest, resource_id: str) -> HttpResponse:
    ensure_seeded()
    resource = Resource.objects.filter(uuid=resource_id).first()
    if resource is None:
        return JsonResponse({"error": "unknown resource"}, status=404)
    if resource.bucket:
        sizes = {o["Key"]: o["Size"] for o in s3.list_objects(resource.bucket, "")}
    else:
        sizes = {f.path: f.size for f in resource.files.order_by("path")}
    graphs: dict[str, dict[str, Any]] = {}
    for version in MetadataVersion.objects.filter(resource=resource):
        entry = graphs.setdefault(version.path, {"versions": 0})
        entry.update(versions=entry["versions"] + 1, turtle=version.turtle, version=version.version)
    return JsonResponse({"deleted": resource.deleted, "files": sizes, "metadata": graphs})
