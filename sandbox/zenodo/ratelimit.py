"""A moving-window rate limiter per token, shared through the database (notes §1.9).

Zenodo runs Flask-Limiter with ``RATELIMIT_STRATEGY = "moving-window"``: every accepted
request is remembered with its time, and a request is refused while the last minute (or
hour) already holds ``limit`` of them. Refused requests are not remembered. The caller's
``RateKey`` row is locked while its window is counted, so concurrent threads and
processes cannot both take the last slot.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from .control import Config
from .models import RateHit, RateKey

MINUTE = 60
HOUR = 3600


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: float
    window: int
    now: float

    @property
    def retry_after(self) -> int:
        return max(0, math.ceil(self.reset - self.now))

    def describe(self) -> str:
        """Flask-Limiter's wording, as seen in 429 bodies: "100 per 1 minute"."""
        return f"{self.limit} per 1 {'minute' if self.window == MINUTE else 'hour'}"

    def apply_headers(self, response: HttpResponseBase) -> None:
        response["X-RateLimit-Limit"] = str(self.limit)
        response["X-RateLimit-Remaining"] = str(self.remaining)
        response["X-RateLimit-Reset"] = str(math.ceil(self.reset))
        response["Retry-After"] = str(self.retry_after)


def caller_key(request: HttpRequest) -> str:
    """The token when one is sent, else the address (guests are limited per IP)."""
    token = token_from(request)
    return f"token:{token}" if token else f"ip:{request.META.get('REMOTE_ADDR', '')}"


def token_from(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.GET.get("access_token", "").strip()


def hit(key: str, config: Config) -> Decision:
    """Count one request of ``key`` against every enabled window; record it if allowed."""
    now = time.time()
    windows = [
        (seconds, limit)
        for seconds, limit in (
            (MINUTE, config.rate_limit_per_minute),
            (HOUR, config.rate_limit_per_hour),
        )
        if limit > 0
    ]
    if not windows:
        return Decision(True, 0, 0, now, MINUTE, now)
    RateKey.objects.get_or_create(key=key)
    with transaction.atomic():
        RateKey.objects.select_for_update().get(key=key)
        longest = max(seconds for seconds, _ in windows)
        RateHit.objects.filter(key=key, at__lt=now - longest).delete()
        decisions = []
        for seconds, limit in windows:
            recent = RateHit.objects.filter(key=key, at__gte=now - seconds)
            used = recent.count()
            oldest = recent.order_by("at").values_list("at", flat=True).first()
            decisions.append(
                Decision(
                    allowed=used < limit,
                    limit=limit,
                    remaining=max(0, limit - used - 1) if used < limit else 0,
                    reset=(oldest if oldest is not None else now) + seconds,
                    window=seconds,
                    now=now,
                )
            )
        refused = [d for d in decisions if not d.allowed]
        if refused:
            return max(refused, key=lambda d: d.reset)
        RateHit.objects.create(key=key, at=now)
        return min(decisions, key=lambda d: d.remaining)
