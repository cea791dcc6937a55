"""Who is asking, and the error replies both forges give, word for word.

Public repositories need no token. A token that is sent must be known, of that forge
and not revoked, or the request is refused as the forge refuses it (GitHub's
"Bad credentials", GitLab's "401 Unauthorized"), even for a public repository. A private
repository is "not found" to anyone without a valid token, as on both forges.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from .models import GITHUB, GITLAB, ForgeRepo, ForgeToken

GITHUB_DOCS = "https://docs.github.com/rest"


class ForgeError(Exception):
    """An error reply: ``body`` as the forge words it."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.status = status
        self.body = body

    def response(self) -> JsonResponse:
        return JsonResponse(self.body, status=self.status)


def github_error(status: int, message: str, docs: str = GITHUB_DOCS) -> ForgeError:
    return ForgeError(status, {"message": message, "documentation_url": docs})


def github_not_found() -> ForgeError:
    return github_error(404, "Not Found")


def gitlab_error(status: int, message: str) -> ForgeError:
    return ForgeError(status, {"message": message})


BAD_CREDENTIALS = {
    GITHUB: lambda: github_error(401, "Bad credentials"),
    GITLAB: lambda: gitlab_error(401, "401 Unauthorized"),
}


def answers(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view's ``ForgeError`` becomes its reply."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ForgeError as exc:
            return exc.response()

    return wrapped


def _sent_token(request: HttpRequest, forge: str) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if value.strip() and scheme.lower() in ("bearer", "token"):
        return value.strip()
    if forge == GITLAB:
        return request.headers.get("Private-Token") or request.GET.get("private_token") or None
    return None


def caller(request: HttpRequest, forge: str) -> ForgeToken | None:
    """The valid token the request carries, None if it carries none; a bad one is refused."""
    sent = _sent_token(request, forge)
    if sent is None:
        return None
    token = ForgeToken.objects.filter(token=sent, forge=forge, revoked=False).first()
    if token is None:
        raise BAD_CREDENTIALS[forge]()
    return token


def require_caller(request: HttpRequest, forge: str) -> ForgeToken:
    """``GET /user``: a valid token, or the 401 the forge gives without one."""
    token = caller(request, forge)
    if token is not None:
        return token
    if forge == GITHUB:
        raise github_error(
            401,
            "Requires authentication",
            "https://docs.github.com/rest/users/users#get-the-authenticated-user",
        )
    raise gitlab_error(401, "401 Unauthorized")


def visible_repo(request: HttpRequest, forge: str, path: str) -> ForgeRepo:
    """The repository at ``path`` (or numeric id, GitLab) if the caller may see it."""
    token = caller(request, forge)
    found = ForgeRepo.objects.filter(forge=forge)
    found = (
        found.filter(pk=int(path))
        if forge == GITLAB and path.isdigit()
        else found.filter(path=path)
    )
    repo = found.first()
    if repo is None or (repo.private and token is None):
        raise github_not_found() if forge == GITHUB else gitlab_error(404, "404 Project Not Found")
    return repo
