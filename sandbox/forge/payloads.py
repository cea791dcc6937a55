"""The JSON the two forges answer with and send: releases, repositories, users, webhook
bodies. ``root`` is the sandbox's own address as the client reached it (every URL in a
reply points back at this port).

GitHub: https://docs.github.com/rest/releases/releases and
https://docs.github.com/webhooks/webhook-events-and-payloads#release
GitLab: https://docs.gitlab.com/api/releases/ and
https://docs.gitlab.com/user/project/integrations/webhook_events/#release-events
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest

from . import archives
from .models import ForgeHook, ForgeRelease, ForgeRepo


def github_time(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def gitlab_time(moment: datetime | None) -> str | None:
    return (
        moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        if moment
        else None
    )


def user_id(login: str) -> int:
    """A stable numeric id for a login (both forges give users numbers)."""
    return zlib.crc32(login.encode()) % 10_000_000 + 1


def _tag(tag: str) -> str:
    return quote(tag, safe="")


# -- GitHub ------------------------------------------------------------------------------


def github_user(login: str, root: str) -> dict[str, Any]:
    return {
        "login": login,
        "id": user_id(login),
        "type": "User",
        "html_url": f"{root}/{login}",
        "url": f"{root}/users/{login}",
    }


def github_repository(repo: ForgeRepo, root: str) -> dict[str, Any]:
    return {
        "id": repo.pk,
        "name": repo.name,
        "full_name": repo.path,
        "private": repo.private,
        "owner": github_user(repo.owner, root),
        "html_url": f"{root}/{repo.path}",
        "url": f"{root}/repos/{repo.path}",
        "default_branch": "main",
    }


def github_release(release: ForgeRelease, root: str) -> dict[str, Any]:
    api = f"{root}/repos/{release.repo.path}"
    return {
        "id": release.pk,
        "node_id": f"RE_sandbox{release.pk}",
        "url": f"{api}/releases/{release.pk}",
        "assets_url": f"{api}/releases/{release.pk}/assets",
        "html_url": f"{root}/{release.repo.path}/releases/tag/{_tag(release.tag)}",
        "tag_name": release.tag,
        "target_commitish": "main",
        "name": release.name or release.tag,
        "body": release.body,
        "draft": release.draft,
        "prerelease": release.prerelease,
        "created_at": github_time(release.created_at),
        "published_at": github_time(release.published_at),
        "author": github_user(release.author, root),
        "assets": [],
        "zipball_url": f"{api}/zipball/{_tag(release.tag)}",
        "tarball_url": f"{api}/tarball/{_tag(release.tag)}",
    }


def github_release_event(release: ForgeRelease, action: str, root: str) -> dict[str, Any]:
    return {
        "action": action,
        "release": github_release(release, root),
        "repository": github_repository(release.repo, root),
        "sender": github_user(release.author, root),
    }


def github_ping(hook: ForgeHook, root: str) -> dict[str, Any]:
    repo = hook.repo
    return {
        "zen": "Keep it logically awesome.",
        "hook_id": hook.pk,
        "hook": {
            "type": "Repository",
            "id": hook.pk,
            "name": "web",
            "active": hook.active,
            "events": ["release"],
            "config": {"content_type": "json", "insecure_ssl": "0", "url": hook.url},
            "created_at": github_time(hook.created),
        },
        "repository": github_repository(repo, root),
        "sender": github_user(repo.owner, root),
    }


# -- GitLab ------------------------------------------------------------------------------


def gitlab_user(login: str, root: str) -> dict[str, Any]:
    return {
        "id": user_id(login),
        "username": login,
        "name": login,
        "state": "active",
        "web_url": f"{root}/{login}",
    }


def gitlab_project(repo: ForgeRepo, root: str) -> dict[str, Any]:
    return {
        "id": repo.pk,
        "name": repo.name,
        "path": repo.name,
        "path_with_namespace": repo.path,
        "visibility": "private" if repo.private else "public",
        "web_url": f"{root}/{repo.path}",
        "default_branch": "main",
    }


def gitlab_sources(release: ForgeRelease, root: str) -> list[dict[str, str]]:
    folder = f"{root}/{release.repo.path}/-/archive/{_tag(release.tag)}"
    return [
        {"format": kind, "url": f"{folder}/{archives.gitlab_filename(release, kind)}"}
        for kind in ("zip", "tar.gz")
    ]


def gitlab_release(release: ForgeRelease, root: str) -> dict[str, Any]:
    web = f"{root}/{release.repo.path}"
    return {
        "tag_name": release.tag,
        "name": release.name or release.tag,
        "description": release.body,
        "created_at": gitlab_time(release.created_at),
        "released_at": gitlab_time(release.published_at or release.created_at),
        "upcoming_release": False,
        "author": gitlab_user(release.author, root),
        "commit": {"id": release.sha, "short_id": release.sha[:8], "title": release.tag},
        "commit_path": f"/{release.repo.path}/-/commit/{release.sha}",
        "tag_path": f"/{release.repo.path}/-/tags/{_tag(release.tag)}",
        "assets": {"count": 2, "sources": gitlab_sources(release, root), "links": []},
        "_links": {"self": f"{web}/-/releases/{_tag(release.tag)}"},
    }


def gitlab_release_event(release: ForgeRelease, root: str) -> dict[str, Any]:
    repo = release.repo
    return {
        "object_kind": "release",
        "action": "create",
        "id": release.pk,
        "tag": release.tag,
        "name": release.name or release.tag,
        "description": release.body,
        "created_at": gitlab_time(release.created_at),
        "released_at": gitlab_time(release.published_at or release.created_at),
        "url": f"{root}/{repo.path}/-/releases/{_tag(release.tag)}",
        "project": {
            "id": repo.pk,
            "name": repo.name,
            "path_with_namespace": repo.path,
            "web_url": f"{root}/{repo.path}",
        },
        "commit": {"id": release.sha},
        "assets": {"count": 2, "links": [], "sources": gitlab_sources(release, root)},
    }


def root_of(request: HttpRequest) -> str:
    """The sandbox's address as this request reached it (``http://host:port``)."""
    return request.build_absolute_uri("/").rstrip("/")
