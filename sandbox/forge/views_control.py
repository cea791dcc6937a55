"""The control API under ``/_control/``: JSON in and out, for tests and the demo. Only
served while ``settings.SANDBOX_ENABLED`` (it is an open door by design). Secrets and
tokens are taken in, never shown back."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import control, payloads
from .models import GITHUB, ForgeDelivery, ForgeHook, ForgeRelease, ForgeRepo, ForgeToken

Handler = Callable[[HttpRequest, dict[str, Any]], HttpResponse]


def json_view(handler: Handler) -> Callable[[HttpRequest], HttpResponse]:
    """The request's JSON object to ``handler``; a ``ControlError`` to a JSON error."""

    @csrf_exempt
    @functools.wraps(handler)
    def view(request: HttpRequest) -> HttpResponse:
        if not settings.SANDBOX_ENABLED:
            raise Http404
        try:
            data = json.loads(request.body or b"{}") if request.method == "POST" else {}
        except ValueError:
            return JsonResponse({"message": "The body must be a JSON object."}, status=400)
        if not isinstance(data, dict):
            return JsonResponse({"message": "The body must be a JSON object."}, status=400)
        try:
            return handler(request, data)
        except control.ControlError as exc:
            return JsonResponse({"message": exc.message}, status=exc.status)

    return view


def release_json(release: ForgeRelease, root: str) -> dict[str, Any]:
    if release.repo.forge == GITHUB:
        return payloads.github_release(release, root)
    return payloads.gitlab_release(release, root)


def repo_json(repo: ForgeRepo, root: str) -> dict[str, Any]:
    api = (
        f"{root}/repos/{repo.path}" if repo.forge == GITHUB else f"{root}/api/v4/projects/{repo.pk}"
    )
    return {
        "id": repo.pk,
        "forge": repo.forge,
        "path": repo.path,
        "private": repo.private,
        "files": sorted(repo.files),
        "html_url": f"{root}/{repo.path}",
        "api_url": api,
        "releases": [r.tag for r in repo.releases.all()],
    }


def hook_json(hook: ForgeHook) -> dict[str, Any]:
    return {
        "id": hook.pk,
        "uuid": str(hook.uuid),
        "forge": hook.repo.forge,
        "path": hook.repo.path,
        "url": hook.url,
        "active": hook.active,
        "signed": bool(hook.secret),
    }


def token_json(token: ForgeToken) -> dict[str, Any]:
    return {"forge": token.forge, "login": token.login, "revoked": token.revoked}


@require_GET
@json_view
def index(request: HttpRequest, data: dict[str, Any]) -> HttpResponse:
    root = payloads.root_of(request)
    return JsonResponse(
        {
            "repos": [repo_json(r, root) for r in ForgeRepo.objects.all()],
            "hooks": [hook_json(h) for h in ForgeHook.objects.select_related("repo")],
            "tokens": [token_json(t) for t in ForgeToken.objects.all()],
        }
    )


@json_view
def repos(request: HttpRequest, data: dict[str, Any]) -> HttpResponse:
    root = payloads.root_of(request)
    if request.method != "POST":
        return JsonResponse({"repos": [repo_json(r, root) for r in ForgeRepo.objects.all()]})
    repo, created = control.put_repo(data)
    return JsonResponse({"repo": repo_json(repo, root)}, status=201 if created else 200)


@require_POST
@json_view
def hooks(request: HttpRequest, data: dict[str, Any]) -> HttpResponse:
    hook, ping = control.put_hook(data, payloads.root_of(request))
    sent = [ping.summary()] if ping else []
    return JsonResponse({"hook": hook_json(hook), "deliveries": sent}, status=201)


@require_POST
@json_view
def releases(request: HttpRequest, data: dict[str, Any]) -> HttpResponse:
    root = payloads.root_of(request)
    release, sent = control.publish(data, root)
    return JsonResponse(
        {"release": release_json(release, root), "deliveries": [d.summary() for d in sent]},
        status=201,
    )


@require_POST
@json_view
def redeliver(request: HttpRequest, data: dict[str, Any]) -> HttpResponse:
    delivery = control.redeliver(data, payloads.root_of(request))
    return JsonResponse({"delivery": delivery.summary()}, status=201)


@require_POST
@json_view
def tokens(request: HttpRequest, data: dict[str, Any]) -> HttpResponse:
    return JsonResponse({"token": token_json(control.add_token(data))}, status=201)


@require_POST
@json_view
def revoke_token(request: HttpRequest, data: dict[str, Any]) -> HttpResponse:
    return JsonResponse({"token": token_json(control.revoke_token(data))})


@require_GET
@json_view
def deliveries(request: HttpRequest, data: dict[str, Any]) -> HttpResponse:
    """What was sent and what came back, oldest first."""
    found = ForgeDelivery.objects.select_related("hook")
    return JsonResponse({"deliveries": [d.record() for d in found]})


@require_POST
@json_view
def reset(request: HttpRequest, data: dict[str, Any]) -> HttpResponse:
    control.reset()
    return JsonResponse({"reset": True})
