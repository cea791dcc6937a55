"""What the control API and the sandbox's page do: create repositories and hooks, publish
releases (delivering their webhooks, or not: a lost webhook), redeliver, accept and
revoke tokens, reset. Each takes the request's JSON object and raises ``ControlError``
with a message that says what to send instead."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from . import deliveries
from .models import GITHUB, GITLAB, ForgeDelivery, ForgeHook, ForgeRelease, ForgeRepo, ForgeToken


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _text(data: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ControlError(f'"{key}" must be a non-empty string.')
    return value.strip()


def _flag(data: dict[str, Any], key: str, default: bool = False) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ControlError(f'"{key}" must be true or false.')
    return value


def _forge(data: dict[str, Any]) -> str:
    forge = data.get("forge")
    if forge not in (GITHUB, GITLAB):
        raise ControlError(f'"forge" must be "{GITHUB}" or "{GITLAB}".')
    return str(forge)


def _files(data: dict[str, Any]) -> dict[str, str]:
    files = data.get("files", {})
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in files.items()
    ):
        raise ControlError('"files" must be an object of {file name: text}.')
    return files


def _path(data: dict[str, Any]) -> str:
    path = _text(data, "path").strip("/")
    if "/" not in path:
        raise ControlError('"path" must be "owner/name" (GitLab: "group/project").')
    return path


def find_repo(data: dict[str, Any]) -> ForgeRepo:
    forge, path = _forge(data), _path(data)
    repo = ForgeRepo.objects.filter(forge=forge, path=path).first()
    if repo is None:
        raise ControlError(
            f"There is no {forge} repository {path}: create it with POST /_control/repos.", 404
        )
    return repo


def put_repo(data: dict[str, Any]) -> tuple[ForgeRepo, bool]:
    """Create the repository, or replace the files of the one at that path."""
    repo, created = ForgeRepo.objects.update_or_create(
        forge=_forge(data),
        path=_path(data),
        defaults={"files": _files(data), "private": _flag(data, "private")},
    )
    return repo, created


def put_hook(data: dict[str, Any], root: str) -> tuple[ForgeHook, ForgeDelivery | None]:
    """A hook on the repository (GitHub pings a new one); the same URL again changes its
    secret and whether it is active."""
    repo = find_repo(data)
    url = _text(data, "url")
    if not url.startswith(("http://", "https://")):
        raise ControlError('"url" must be an http:// or https:// address.')
    values = {
        "secret": _text(data, "secret", required=False),
        "active": _flag(data, "active", True),
    }
    hook, created = ForgeHook.objects.update_or_create(repo=repo, url=url, defaults=values)
    return hook, deliveries.ping(hook, root) if created and hook.active else None


def _release_fields(repo: ForgeRepo, data: dict[str, Any], tag: str) -> dict[str, Any]:
    draft, prerelease = _flag(data, "draft"), _flag(data, "prerelease")
    if repo.forge == GITLAB and (draft or prerelease):
        raise ControlError("GitLab releases are neither drafts nor pre-releases: leave both out.")
    return {
        "name": _text(data, "name", required=False) or tag,
        "body": _text(data, "body", required=False),
        "draft": draft,
        "prerelease": prerelease,
        "files": _files(data),  # changed or added at this tag
        "author": _text(data, "author", required=False) or repo.owner.split("/")[0],
        "published_at": None if draft else timezone.now(),
    }


def _with_tree(
    base: dict[str, str], repo: ForgeRepo, tag: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """The tree at the tag (``base`` with the release's files), fixed from now on."""
    files = {**base, **fields["files"]}
    return {**fields, "files": files, "sha": ForgeRelease.commit_of(repo, tag, files)}


def _save_release(repo: ForgeRepo, tag: str, fields: dict[str, Any]) -> tuple[ForgeRelease, bool]:
    """A new release, or a saved draft published now (then ``True``; its files are kept,
    with those sent now over them)."""
    with transaction.atomic():
        existing = ForgeRelease.objects.select_for_update().filter(repo=repo, tag=tag).first()
        if existing is None:
            fields = _with_tree(repo.files, repo, tag, fields)
            return ForgeRelease.objects.create(repo=repo, tag=tag, **fields), False
        if not existing.draft or fields["draft"]:
            raise ControlError(
                f"{repo.path} already has a release at {tag}: choose another tag "
                "(or publish a saved draft with draft false).",
                409,
            )
        for key, value in _with_tree(existing.files, repo, tag, fields).items():
            setattr(existing, key, value)
        existing.save()
        return existing, True


def publish(data: dict[str, Any], root: str) -> tuple[ForgeRelease, list[ForgeDelivery]]:
    """Save the release at ``tag``; with ``deliver`` (the default) send its webhooks,
    after the release is saved, outside any transaction (the receiver may call back)."""
    repo = find_repo(data)
    tag = _text(data, "tag")
    deliver = _flag(data, "deliver", True)
    release, was_draft = _save_release(repo, tag, _release_fields(repo, data, tag))
    sent = deliveries.deliver_release(release, root, was_draft=was_draft) if deliver else []
    return release, sent


def redeliver(data: dict[str, Any], root: str) -> ForgeDelivery:
    """``delivery``: a delivery id (GUID) or a delivery's row number."""
    key = data.get("delivery")
    found = ForgeDelivery.objects.select_related("hook__repo", "release")
    if isinstance(key, int) and not isinstance(key, bool):
        original = found.filter(pk=key).first()
    elif isinstance(key, str) and key:
        original = found.filter(guid=key).order_by("id").first()
    else:
        raise ControlError('"delivery" must be a delivery id (or its row number).')
    if original is None:
        raise ControlError(f"There is no delivery {key}: see GET /_control/deliveries.", 404)
    return deliveries.redeliver(original, root)


def add_token(data: dict[str, Any]) -> ForgeToken:
    token, _ = ForgeToken.objects.update_or_create(
        token=_text(data, "token"),
        defaults={"forge": _forge(data), "login": _text(data, "login"), "revoked": False},
    )
    return token


def revoke_token(data: dict[str, Any]) -> ForgeToken:
    token = ForgeToken.objects.filter(token=_text(data, "token")).first()
    if token is None:
        raise ControlError("That token is not known: add it with POST /_control/tokens.", 404)
    token.revoked = True
    token.save(update_fields=["revoked"])
    return token


def reset() -> None:
    """Forget everything: repositories (with their releases, hooks, deliveries), tokens."""
    ForgeRepo.objects.all().delete()
    ForgeToken.objects.all().delete()
