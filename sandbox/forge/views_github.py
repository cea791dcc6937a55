"""GitHub's REST paths: releases, their source archives (the API redirects to codeload),
the repository, and ``/user`` (the token check).

https://docs.github.com/rest/releases/releases,
https://docs.github.com/rest/repos/contents#download-a-repository-archive-zip
"""

from __future__ import annotations

from urllib.parse import quote

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.http import require_GET

from . import access, archives, payloads
from .models import GITHUB, ForgeRelease, ForgeRepo
from .paging import Page

DEFAULT_PER_PAGE = 30


def _repo(request: HttpRequest, owner: str, repo: str) -> ForgeRepo:
    return access.visible_repo(request, GITHUB, f"{owner}/{repo}")


def _visible(request: HttpRequest, repo: ForgeRepo) -> QuerySet[ForgeRelease]:
    """Drafts are listed only to a caller with a token (push access, on GitHub)."""
    releases = repo.releases.all()
    return releases if access.caller(request, GITHUB) else releases.filter(draft=False)


def _one(releases: QuerySet[ForgeRelease], **match: object) -> ForgeRelease:
    found = releases.filter(**match).first()
    if found is None:
        raise access.github_not_found()
    return found


@require_GET
@access.answers
def releases(request: HttpRequest, owner: str, repo: str) -> HttpResponse:
    found = list(_visible(request, _repo(request, owner, repo)))
    url = request.build_absolute_uri(request.path)
    page = Page.of(request, total=len(found), default=DEFAULT_PER_PAGE, url=url)
    root = payloads.root_of(request)
    response = JsonResponse(
        [payloads.github_release(r, root) for r in page.items(found)], safe=False
    )
    page.github_headers(response)
    return response


@require_GET
@access.answers
def release(request: HttpRequest, owner: str, repo: str, release_id: int) -> HttpResponse:
    found = _one(_visible(request, _repo(request, owner, repo)), pk=release_id)
    return JsonResponse(payloads.github_release(found, payloads.root_of(request)))


@require_GET
@access.answers
def release_by_tag(request: HttpRequest, owner: str, repo: str, tag: str) -> HttpResponse:
    found = _one(_repo(request, owner, repo).releases.filter(draft=False), tag=tag)
    return JsonResponse(payloads.github_release(found, payloads.root_of(request)))


@require_GET
@access.answers
def latest_release(request: HttpRequest, owner: str, repo: str) -> HttpResponse:
    published = _repo(request, owner, repo).releases.filter(draft=False, prerelease=False)
    found = published.order_by("-published_at", "-id").first()
    if found is None:
        raise access.github_not_found()
    return JsonResponse(payloads.github_release(found, payloads.root_of(request)))


@require_GET
@access.answers
def repository(request: HttpRequest, owner: str, repo: str) -> HttpResponse:
    return JsonResponse(
        payloads.github_repository(_repo(request, owner, repo), payloads.root_of(request))
    )


@require_GET
@access.answers
def archive_redirect(
    request: HttpRequest, owner: str, repo: str, kind: str, tag: str
) -> HttpResponse:
    """``zipball``/``tarball``: 302 to the archive on codeload, as the API does."""
    found = _one(_repo(request, owner, repo).releases.all(), tag=tag)
    legacy = "legacy.zip" if kind == "zipball" else "legacy.tar.gz"
    target = f"/codeload/{found.repo.path}/{legacy}/refs/tags/{quote(found.tag, safe='')}"
    return HttpResponseRedirect(request.build_absolute_uri(target))


def archive_response(release: ForgeRelease, *, kind: str, filename: str) -> HttpResponse:
    """The archive's bytes, with their length and a file name."""
    if kind == "zip":
        data, content_type = archives.zip_bytes(release), "application/zip"
    else:
        data, content_type = archives.tar_gz_bytes(release), "application/x-gzip"
    response = HttpResponse(data, content_type=content_type)
    response["Content-Length"] = str(len(data))
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@access.answers
def codeload(request: HttpRequest, owner: str, repo: str, legacy: str, tag: str) -> HttpResponse:
    found = _one(_repo(request, owner, repo).releases.all(), tag=tag)
    kind = "zip" if legacy == "zip" else "tar.gz"
    filename = f"{archives.top_folder(found)}.{kind}"
    return archive_response(found, kind=kind, filename=filename)


@require_GET
@access.answers
def user(request: HttpRequest) -> HttpResponse:
    token = access.require_caller(request, GITHUB)
    return JsonResponse(payloads.github_user(token.login, payloads.root_of(request)))
