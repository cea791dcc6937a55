"""The wrapper every API view goes through: faults, seeding, the Bearer token, the
method, and ``ApiError`` replies.

A missing, unknown or expired token gets a 401 with an empty body and a
``WWW-Authenticate: Bearer`` header (an expired one says so in it), as ASP.NET's JWT
bearer handler answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from . import faults
from .models import ApiToken, User, hash_token
from .replies import ApiError, empty
from .seed import ensure_seeded

View = Callable[..., HttpResponseBase]


def authenticate(request: HttpRequest) -> User:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(_unauthorized("Bearer"))
    found = (
        ApiToken.objects.select_related("user").filter(token_hash=hash_token(token.strip())).first()
    )
    if found is None:
        raise ApiError(_unauthorized('Bearer error="invalid_token"'))
    if found.has_expired():
        raise ApiError(
            _unauthorized('Bearer error="invalid_token", error_description="The token expired"')
        )
    return found.user


def _unauthorized(challenge: str) -> HttpResponse:
    response = empty(401)
    response["WWW-Authenticate"] = challenge
    return response


def route(methods: dict[str, View]) -> View:
    """A Django view calling ``methods[request.method](request, user, **kwargs)``."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
        fault = faults.injected(request)
        if fault is not None:
            return fault
        handler = methods.get(request.method or "")
        if handler is None:
            return empty(405)
        ensure_seeded()
        try:
            user = authenticate(request)
            return handler(request, user, **kwargs)
        except ApiError as error:
            return error.response

    return view
