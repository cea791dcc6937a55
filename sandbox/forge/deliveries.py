"""Webhook deliveries, sent as the forges send them: synchronously here, one request per
event and hook, each recorded (what was sent, what came back, how long it took, what
went wrong) before and after it is sent. A receiver that is down is recorded, never
raised.

GitHub: https://docs.github.com/webhooks/webhook-events-and-payloads#delivery-headers
(``X-Hub-Signature-256`` is "sha256=" + the hex HMAC-SHA256 of the raw body).
GitLab: https://docs.gitlab.com/user/project/integrations/webhooks/ (``X-Gitlab-Token``
is the hook's secret token itself).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import requests

from . import payloads
from .models import GITHUB, ForgeDelivery, ForgeHook, ForgeRelease

TIMEOUT_SECONDS = 10
GITHUB_AGENT = "GitHub-Hookshot/sandbox"
GITLAB_AGENT = "GitLab/17.5.0"
GITLAB_RELEASE_EVENT = "Release Hook"
REDACTED = "[REDACTED]"
KEEP_RESPONSE_CHARS = 10_000


def github_actions(release: ForgeRelease, *, was_draft: bool = False) -> list[str]:
    """The ``release`` events GitHub sends, in order, when ``release`` is saved: a draft
    only "created"; a published one "created" (not when a saved draft is published), then
    "published", then "released" ("prereleased" for a pre-release)."""
    if release.draft:
        return ["created"]
    last = "prereleased" if release.prerelease else "released"
    return ["published", last] if was_draft else ["created", "published", last]


def encode(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))


def github_headers(hook: ForgeHook, guid: str, event: str, body: bytes) -> dict[str, str]:
    headers = {
        "Accept": "*/*",
        "Content-Type": "application/json",
        "User-Agent": GITHUB_AGENT,
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": guid,
        "X-GitHub-Hook-ID": str(hook.pk),
        "X-GitHub-Hook-Installation-Target-Type": "repository",
        "X-GitHub-Hook-Installation-Target-ID": str(hook.repo_id),
    }
    if hook.secret:  # GitHub signs only when the hook has a secret
        key = hook.secret.encode()
        sha1 = hmac.new(key, body, hashlib.sha1).hexdigest()
        headers["X-Hub-Signature"] = f"sha1={sha1}"
        headers["X-Hub-Signature-256"] = f"sha256={hmac.new(key, body, hashlib.sha256).hexdigest()}"
    return headers


def gitlab_headers(hook: ForgeHook, guid: str, root: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": GITLAB_AGENT,
        "X-Gitlab-Event": GITLAB_RELEASE_EVENT,
        "X-Gitlab-Event-UUID": guid,
        "X-Gitlab-Webhook-UUID": str(hook.uuid),
        "X-Gitlab-Instance": root,
    }
    if hook.secret:
        headers["X-Gitlab-Token"] = hook.secret
    return headers


def _headers(hook: ForgeHook, guid: str, event: str, body: str, root: str) -> dict[str, str]:
    if hook.repo.forge == GITHUB:
        return github_headers(hook, guid, event, body.encode())
    return gitlab_headers(hook, guid, root)


def _shown(headers: dict[str, str]) -> dict[str, str]:
    """Headers as the delivery log keeps them: GitLab's token redacted, as GitLab does."""
    return {k: (REDACTED if k == "X-Gitlab-Token" else v) for k, v in headers.items()}


def _reason(exc: BaseException) -> str:
    """The innermost system error's words ("Connection refused"), else the exception's."""
    found: BaseException | None = exc
    for _ in range(10):  # the chain, not a cycle in it
        if found is None:
            break
        if isinstance(found, OSError) and found.strerror:
            return f"{found.strerror}."
        found = found.__cause__ or found.__context__
    return str(exc)


def _post(delivery: ForgeDelivery, headers: dict[str, str]) -> ForgeDelivery:
    """Send ``delivery`` to its hook and write down what came back."""
    started = time.monotonic()
    outcome: dict[str, Any] = {}
    try:
        response = requests.post(
            delivery.hook.url,
            data=delivery.body.encode(),
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.Timeout:
        outcome["error"] = f"No answer within {TIMEOUT_SECONDS} s."
    except requests.RequestException as exc:
        outcome["error"] = f"Could not deliver to {delivery.hook.url}: {_reason(exc)}"[:1000]
    else:
        outcome["status"] = response.status_code
        outcome["response_headers"] = dict(response.headers)
        outcome["response_body"] = response.text[:KEEP_RESPONSE_CHARS]
    outcome["duration_ms"] = round((time.monotonic() - started) * 1000)
    ForgeDelivery.objects.filter(pk=delivery.pk).update(**outcome)
    delivery.refresh_from_db()
    return delivery


def send(
    hook: ForgeHook,
    *,
    event: str,
    action: str,
    body: str,
    root: str,
    release: ForgeRelease | None = None,
    guid: str | None = None,
) -> ForgeDelivery:
    """One delivery of ``body`` to ``hook`` (a redelivery when ``guid`` is given)."""
    delivery_id = guid or str(uuid.uuid4())
    headers = _headers(hook, delivery_id, event, body, root)
    delivery = ForgeDelivery.objects.create(
        hook=hook,
        release=release,
        guid=delivery_id,
        event=event,
        action=action,
        redelivery=guid is not None,
        headers=_shown(headers),
        body=body,
    )
    return _post(delivery, headers)


def deliver_release(
    release: ForgeRelease, root: str, *, was_draft: bool = False
) -> list[ForgeDelivery]:
    """Every delivery saving ``release`` causes, to every active hook of its repository."""
    hooks = list(release.repo.hooks.filter(active=True))
    sent: list[ForgeDelivery] = []
    if release.repo.forge == GITHUB:
        for action in github_actions(release, was_draft=was_draft):
            body = encode(payloads.github_release_event(release, action, root))
            for hook in hooks:
                sent.append(
                    send(
                        hook, event="release", action=action, body=body, root=root, release=release
                    )
                )
        return sent
    body = encode(payloads.gitlab_release_event(release, root))
    for hook in hooks:
        sent.append(
            send(
                hook,
                event=GITLAB_RELEASE_EVENT,
                action="create",
                body=body,
                root=root,
                release=release,
            )
        )
    return sent


def ping(hook: ForgeHook, root: str) -> ForgeDelivery | None:
    """GitHub pings a new hook; GitLab sends nothing."""
    if hook.repo.forge != GITHUB:
        return None
    body = encode(payloads.github_ping(hook, root))
    return send(hook, event="ping", action="", body=body, root=root)


def redeliver(original: ForgeDelivery, root: str) -> ForgeDelivery:
    """The same delivery again: its id and body, signed again with the hook's secret."""
    return send(
        original.hook,
        event=original.event,
        action=original.action,
        body=original.body,
        root=root,
        release=original.release,
        guid=original.guid,
    )
