"""Users, API keys, ``/rpc/whoami`` and ``/server`` (notes-datameta.md §1-§6)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from ..models import MAX_KEY_DAYS, ApiKey, User
from ..records import naive_local
from ..responses import error, forbidden, json_reply, unauthorized, validation_failed
from ..schema import json_body
from ..security import authenticate, revalidate, start_session, user_by_credentials
from ..submission import by_id


def create_key(request: HttpRequest) -> HttpResponse:
    """``POST /keys``: 200 (not 201) with the token; ``label`` required (#7-#9).

    A valid key or session may ask for another key; otherwise email and password must
    be right (a wrong one counts as a failed login, #6). ``expires`` defaults to, and
    may not exceed, now + 30 days, and comes back as naive local time.
    """
    body = json_body(request, "CreateTokenRequest")
    user = revalidate(request)
    if user is None:
        if "email" not in body or "password" not in body:
            raise unauthorized(request)
        user = user_by_credentials(body["email"], body["password"])
        if user is None:
            raise unauthorized(request)
    expires = _expiry(body.get("expires"))
    key, token = ApiKey.issue(user, body["label"], expires)
    response = json_reply(
        {
            "id": {"uuid": str(key.uuid)},
            "userId": user.identifier(),
            "token": token,
            "label": key.label,
            "expires": naive_local(key.expires),
        }
    )
    start_session(response, user)
    return response


def _expiry(raw: str | None) -> datetime:
    latest = timezone.now() + timedelta(days=MAX_KEY_DAYS)
    if raw is None:
        return latest
    try:
        wanted = datetime.fromisoformat(raw)
    except ValueError:
        message = "Wrong datetime format. Please use isoformat."
        raise validation_failed([error(message, field="expires")]) from None
    if timezone.is_naive(wanted):
        wanted = timezone.make_aware(wanted)
    if wanted > latest:
        message = (
            "The defined expiration date exceeded the max allowed expiration period, "
            f"which is {MAX_KEY_DAYS} days."
        )
        raise validation_failed([error(message, field="expires")])
    return wanted


def delete_key(request: HttpRequest, id: str) -> HttpResponse:
    """``DELETE /keys/{id}``: only your own keys."""
    user = authenticate(request)
    key = by_id(ApiKey, id)
    if key is None or key.user_id != user.pk:
        raise forbidden(request)
    key.delete()
    return HttpResponse(status=200, content_type="application/json")


def list_keys(request: HttpRequest, id: str) -> HttpResponse:
    """``GET /users/{id}/keys`` (#12): labels and expiry, never the tokens."""
    user = authenticate(request)
    target = by_id(User, id)
    if target is None or target.pk != user.pk:
        raise forbidden(request)
    return json_reply(
        [
            {
                "id": {"uuid": str(key.uuid)},
                "label": key.label,
                "expires": naive_local(key.expires),
                "hasExpired": key.has_expired(),
            }
            for key in user.api_keys.order_by("id")
        ]
    )


def whoami(request: HttpRequest) -> HttpResponse:
    """``GET /rpc/whoami`` (#10, #83): identity, roles and group."""
    user = authenticate(request)
    return json_reply(
        {
            "id": user.identifier(),
            "name": user.name,
            "groupAdmin": user.group_admin,
            "siteAdmin": user.site_admin,
            "siteRead": user.site_read,
            "email": user.email,
            "group": {"id": user.group.identifier(), "name": user.group.name},
        }
    )


def get_user(request: HttpRequest, id: str) -> HttpResponse:
    """``GET /users/{id}``: yourself, your group's members, or anyone for site admins."""
    user = authenticate(request)
    target = by_id(User, id)
    if target is None:
        raise forbidden(request)
    if not (user.site_admin or target.group_id == user.group_id):
        raise forbidden(request)
    return json_reply(
        {
            "id": target.identifier(),
            "name": target.name,
            "groupAdmin": target.group_admin,
            "siteAdmin": target.site_admin,
            "siteRead": target.site_read,
            "email": target.email,
            "groupId": target.group.identifier(),
        }
    )


def server_info(request: HttpRequest) -> HttpResponse:
    """``GET /server``: needs a key in practice, else 500 ResponseNotFound (notes §4, #2)."""
    authenticate(request, listed_401=False)
    return json_reply({"apiVersion": "1.5.0", "datametaVersion": "1.1.1"})
