"""The sandbox's own pages: ``/`` lists repositories, releases and deliveries, with a
form to publish a release (and send its webhooks); each release's ``html_url`` page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from . import control, payloads
from .models import ForgeDelivery, ForgeHook, ForgeRelease, ForgeRepo

SHOWN = 50


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    releases = ForgeRelease.objects.select_related("repo")[:SHOWN]
    sent = ForgeDelivery.objects.select_related("hook__repo", "release").order_by("-id")[:SHOWN]
    context = {
        "repos": ForgeRepo.objects.all(),
        "releases": releases,
        "hooks": ForgeHook.objects.select_related("repo"),
        "deliveries": sent,
        "root": payloads.root_of(request),
    }
    return render(request, "sandbox_forge/index.html", context)


def _outcome(release: ForgeRelease, sent: list[ForgeDelivery]) -> str:
    answered = sum(1 for d in sent if d.status is not None and 200 <= d.status < 300)
    if not sent:
        return f"Published {release.tag} on {release.repo.path}; no webhook was sent."
    return (
        f"Published {release.tag} on {release.repo.path}: {len(sent)} "
        f"deliver{'y' if len(sent) == 1 else 'ies'} sent, {answered} answered with success."
    )


@require_POST
def publish(request: HttpRequest) -> HttpResponse:
    """The form's release: the same as ``POST /_control/releases``."""
    repo = ForgeRepo.objects.filter(pk=request.POST.get("repo") or 0).first()
    if repo is None:
        messages.error(
            request, "Choose a repository to publish on (create one with POST /_control/repos)."
        )
        return HttpResponseRedirect(reverse("sandbox_forge:index"))
    data: dict[str, Any] = {
        "forge": repo.forge,
        "path": repo.path,
        "tag": request.POST.get("tag", ""),
        "name": request.POST.get("name", ""),
        "body": request.POST.get("body", ""),
        "draft": request.POST.get("draft") == "on",
        "prerelease": request.POST.get("prerelease") == "on",
        "deliver": request.POST.get("deliver") == "on",
    }
    try:
        release, sent = control.publish(data, payloads.root_of(request))
    except control.ControlError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _outcome(release, sent))
    return HttpResponseRedirect(reverse("sandbox_forge:index"))


@require_GET
def release_page(request: HttpRequest, path: str, tag: str) -> HttpResponse:
    """The page a release's ``html_url`` (GitHub) or ``_links.self`` (GitLab) names."""
    release = get_object_or_404(
        ForgeRelease.objects.select_related("repo"), repo__path=path, tag=tag
    )
    context = {"release": release, "files": sorted(release.tree())}
    return render(request, "sandbox_forge/release.html", context)
