"""GitLab's REST paths (``/api/v4/``): the project, its releases, ``/user`` (the token
check), and the source archives at the project's web path.

https://docs.gitlab.com/api/releases/, https://docs.gitlab.com/api/repositories/#get-file-archive
A project is named by its numeric id or its URL-encoded path (``group%2Fproject``).
"""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from . import access, payloads
from .models import GITLAB, ForgeRelease, ForgeRepo
from .paging import Page
from .views_github import archive_response

DEFAULT_PER_PAGE = 20


def _release(repo: ForgeRepo, tag: str) -> ForgeRelease:
    found = repo.releases.filter(tag=tag).first()
    if found is None:
        raise access.gitlab_error(404, "404 Not Found")
    return found


@require_GET
@access.answers
def project(request: HttpRequest, project: str) -> HttpResponse:
    repo = access.visible_repo(request, GITLAB, project)
    return JsonResponse(payloads.gitlab_project(repo, payloads.root_of(request)))


@require_GET
@access.answers
def releases(request: HttpRequest, project: str) -> HttpResponse:
    """Newest first, as GitLab sorts by ``released_at`` by default."""
    repo = access.visible_repo(request, GITLAB, project)
    found = list(repo.releases.order_by("-published_at", "-created_at", "-id"))
    root = payloads.root_of(request)
    url = f"{root}/api/v4/projects/{quote(project, safe='')}/releases"
    page = Page.of(request, total=len(found), default=DEFAULT_PER_PAGE, url=url)
    response = JsonResponse(
        [payloads.gitlab_release(r, root) for r in page.items(found)], safe=False
    )
    page.gitlab_headers(response)
    return response


@require_GET
@access.answers
def release(request: HttpRequest, project: str, tag: str) -> HttpResponse:
    repo = access.visible_repo(request, GITLAB, project)
    return JsonResponse(payloads.gitlab_release(_release(repo, tag), payloads.root_of(request)))


@require_GET
@access.answers
def user(request: HttpRequest) -> HttpResponse:
    token = access.require_caller(request, GITLAB)
    return JsonResponse(payloads.gitlab_user(token.login, payloads.root_of(request)))


@require_GET
@access.answers
def archive(request: HttpRequest, path: str, tag: str, filename: str, kind: str) -> HttpResponse:
    """``/{path}/-/archive/{tag}/{project}-{tag}.zip`` (or ``.tar.gz``)."""
    repo = access.visible_repo(request, GITLAB, path)
    return archive_response(_release(repo, tag), kind=kind, filename=f"{filename}.{kind}")
