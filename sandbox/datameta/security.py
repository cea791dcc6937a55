"""Who is calling: API keys (Bearer) and the ``datameta`` session cookie.

Two layers answer differently, as on the real server (notes-datameta.md §1, §3, §4):

* the OpenAPI layer sees no usable credential at all (no ``Authorization`` header or a
  scheme other than bearer, and no cookie) and answers ``401 [{"exception":
  "InvalidSecurity", ...}]`` (#3) -- or ``500 ResponseNotFound`` on ``/server``, whose
  OpenAPI document lists no 401 (#2);
* the view then needs exactly ``Bearer <key>`` (case-sensitive) naming a live key of an
  enabled user, else Pyramid's own 401 page (#4, #5).

Expired keys and wrong passwords count as failed logins; five within an hour disable the
user, and a disabled user's keys stop working.
"""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import ApiKey, LoginFailure, User, hash_token
from .responses import ApiError, error_list, unauthorized

SESSION_COOKIE = "datameta"
SESSION_SALT = "sandbox.datameta.session"
MAX_FAILED_LOGINS = 5  # security_max_failed_login_attempts (notes §3)


def _has_credential(request: HttpRequest) -> bool:
    if SESSION_COOKIE in request.COOKIES:
        return True
    header = request.META.get("HTTP_AUTHORIZATION")
    if header is None:
        return False
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and bool(token)


def authenticate(request: HttpRequest, *, listed_401: bool = True) -> User:
    """The calling user, or an ApiError with the reply the real server gives."""
    if not _has_credential(request):
        if not listed_401:
            item = {"exception": "ResponseNotFound", "message": "Unknown response http status: 401"}
            raise ApiError(error_list([item], status=500))
        item = {"exception": "InvalidSecurity", "message": "Security not valid for any requirement"}
        raise ApiError(error_list([item], status=401))
    user = revalidate(request)
    if user is None:
        raise unauthorized(request)
    return user


def revalidate(request: HttpRequest) -> User | None:
    """DataMeta's ``revalidate_user``: the Bearer key wins over the session cookie."""
    header = request.META.get("HTTP_AUTHORIZATION")
    if header is not None:
        parts = header.split(" ")
        if len(parts) == 2 and parts[0] == "Bearer":
            return _user_for_key(parts[1])
    return _user_for_session(request)


def _user_for_key(token: str) -> User | None:
    key = (
        ApiKey.objects.select_related("user__group")
        .filter(token_hash=hash_token(token), user__enabled=True)
        .first()
    )
    if key is None:
        return None
    if key.has_expired():
        record_failed_login(key.user)
        return None
    return key.user


def _user_for_session(request: HttpRequest) -> User | None:
    cookie = request.COOKIES.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        user_id = signing.loads(cookie, salt=SESSION_SALT)
    except signing.BadSignature:
        return None
    return User.objects.select_related("group").filter(pk=user_id, enabled=True).first()


def start_session(response: HttpResponse, user: User) -> None:
    """``POST /keys`` also logs the browser in (notes §2)."""
    response.set_cookie(
        SESSION_COOKIE, signing.dumps(user.pk, salt=SESSION_SALT), path="/", samesite="Lax"
    )


def user_by_credentials(email: str, password: str) -> User | None:
    user = User.objects.select_related("group").filter(email=email).first()
    if user is None or not user.enabled:
        return None
    if user.check_password(password):
        return user
    record_failed_login(user)
    return None


def record_failed_login(user: User) -> None:
    now = timezone.now()
    LoginFailure.objects.create(user=user, at=now)
    recent = LoginFailure.objects.filter(user=user, at__gt=now - timedelta(hours=1)).count()
    if recent >= MAX_FAILED_LOGINS:
        User.objects.filter(pk=user.pk).update(enabled=False)
