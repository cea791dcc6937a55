"""What every API request goes through before and after its view.

In the real service's order: the rate limiter (Flask-Limiter runs before the view, notes
§1.9), then whatever the front proxy or the application throws (injected faults, queued
or at random rates), then authentication and the view. Every reply carries the
rate-limit headers, except an injected 429 that imitates a proxy without ``Retry-After``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Concatenate

from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from . import faults, ratelimit
from .control import Config, count, load_config
from .errors import UNAUTHORIZED, ApiError, forbidden, not_found
from .models import Account, ApiToken, Deposition, Fault

View = Callable[Concatenate[HttpRequest, Config, ...], HttpResponseBase]


def endpoint(*methods: str) -> Callable[[View], Callable[..., HttpResponseBase]]:
    """Wrap a view taking ``(request, config, **kwargs)`` in the sandbox's request pipeline."""

    def decorate(view: View) -> Callable[..., HttpResponseBase]:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, **kwargs: object) -> HttpResponseBase:
            config = load_config()
            name = request.resolver_match.url_name if request.resolver_match else view.__name__
            count(f"endpoint:{request.method} {name}")
            decision = ratelimit.hit(ratelimit.caller_key(request), config)
            if decision.allowed:
                response = faults.random_throttle() or _serve(
                    view, methods, request, config, kwargs
                )
            else:
                count("rate_limited")
                response = JsonResponse({"status": 429, "message": decision.describe()}, status=429)
            if decision.limit:
                injected = response.get("Retry-After")
                decision.apply_headers(response)
                if injected:
                    response["Retry-After"] = injected
                elif getattr(response, "without_retry_after", False):
                    del response["Retry-After"]
            return response

        return wrapper

    return decorate


def _serve(
    view: View, methods: tuple[str, ...], request: HttpRequest, config: Config, kwargs: dict
) -> HttpResponseBase:
    if config.delay_seconds:
        time.sleep(config.delay_seconds)
    slow = faults.take(request, [Fault.Kind.SLOW])
    if slow:
        time.sleep(slow.delay_seconds)
    fault = faults.take(request, [Fault.Kind.ERROR, Fault.Kind.GATEWAY])
    if fault:
        if fault.kind == Fault.Kind.GATEWAY:
            return faults.gateway_reply(fault)
        return faults.error_reply(fault)
    injected = faults.random_error()
    if injected:
        return injected
    if request.method not in methods:
        return JsonResponse(
            {"status": 405, "message": "The method is not allowed for the requested URL."},
            status=405,
        )
    late = faults.random_slow_create() if _is_create(request) else None
    if late:
        time.sleep(late[0])
    try:
        return view(request, config, **kwargs)
    except ApiError as error:
        return error.response(legacy=config.legacy_doc_mode)
    finally:
        if late:
            # The draft exists (or was refused) by now; the client has stopped waiting.
            time.sleep(late[1])


def _is_create(request: HttpRequest) -> bool:
    """``POST /api/deposit/depositions``: the request that makes a new draft."""
    match = request.resolver_match
    return request.method == "POST" and match is not None and match.url_name == "depositions"


def authenticate(request: HttpRequest) -> Account:
    """The token's account: none sent is 403, an unknown one 401, as on zenodo.org (§1.2)."""
    key = ratelimit.token_from(request)
    if not key:
        raise forbidden()
    token = ApiToken.objects.select_related("account").filter(key=key).first()
    if token is None:
        raise ApiError(401, UNAUTHORIZED)
    return token.account


def owned_deposition(account: Account, deposition_id: int, *, lock: bool = False) -> Deposition:
    """The caller's deposition; ``lock`` holds its row until the transaction ends."""
    found = Deposition.objects.select_related("concept")
    if lock:
        found = found.select_for_update()
    deposition = found.filter(pk=deposition_id).first()
    if deposition is None:
        raise not_found()
    if deposition.owner_id != account.pk:
        raise forbidden()
    return deposition
