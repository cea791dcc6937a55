"""The rate limiter every Celery worker shares, kept in Redis.

Each repository credential (``LinkedAccount.limiter_key``) has one sorted set per window
holding the instants of the requests it sent: a sliding log. That is the moving-window
strategy Zenodo's Flask-Limiter runs (notes-zenodo.md §1.9 ``RATELIMIT_STRATEGY =
"moving-window"``), so counting the same way we never burst past the server, which a
GCRA or token bucket would allow at the edge of a window.

All decisions happen inside one Lua script with Redis ``TIME`` as the clock, so workers
on different hosts agree on "now" and two workers can never both take the last slot.
The limiter never sleeps: ``acquire`` answers how long to wait and the caller re-queues
(DESIGN.md "Rate limits": a worker never sleeps holding a slot).
"""

from __future__ import annotations

import email.utils
import functools
import logging
import math
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

import redis
from django.conf import settings

from .errors import TransientError


class Priority(StrEnum):
    """Who is waiting: a person (interactive) or nobody (background polling, reconciling).

    The one place a priority meets a Celery queue: each has a queue of its own name, so
    workers can be dedicated to interactive work (README "Running on several machines").
    """

    INTERACTIVE = "interactive"
    BACKGROUND = "background"

    @property
    def queue(self) -> str:
        return self.value


@dataclass(frozen=True)
class RateWindow:
    """At most ``limit`` requests in any ``seconds``-long window."""

    limit: int
    seconds: int

    @classmethod
    def from_json(cls, data: Any) -> RateWindow:
        """From the stored form ``{"limit": 100, "seconds": 60}``."""
        return cls(int(data["limit"]), int(data["seconds"]))

    def as_json(self) -> dict[str, int]:
        return {"limit": self.limit, "seconds": self.seconds}


# Background work (polling, reconciling) may use this share of each window, so a person
# pressing Publish always finds a slot (DESIGN.md "Interactive work goes ahead").
BACKGROUND_SHARE = 0.8
# Kept unused in every window: our clock and the server's differ by network latency, so a
# request we counted just inside a window can land just outside it on the server.
SAFETY_MARGIN = 0.02
# Blocks and learned limits outlive no window by more than this.
META_TTL_SECONDS = 24 * 3600

# KEYS[1] meta hash, KEYS[2..] one sorted set per window.
# ARGV[1] share (1.0 or BACKGROUND_SHARE), ARGV[2] margin, ARGV[3] unique member,
# ARGV[4..] limit, seconds pairs in the order of KEYS[2..].
# Returns "0" when a slot was taken in every window, else the seconds to wait (string,
# because Redis truncates Lua numbers to integers).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0')
if blocked > now then
  return tostring(blocked - now)
end
local share = tonumber(ARGV[1])
local margin = tonumber(ARGV[2])
local wait = 0
for i = 2, #KEYS do
  local limit = tonumber(ARGV[2 + (i - 1) * 2])
  local seconds = tonumber(ARGV[3 + (i - 1) * 2])
  local learned = tonumber(redis.call('HGET', KEYS[1], 'limit:' .. seconds) or '0')
  if learned > 0 and learned < limit then
    limit = learned
  end
  local budget = limit - math.max(1, math.ceil(limit * margin))
  budget = math.max(1, math.floor(budget * share))
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - seconds)
  local used = redis.call('ZCARD', KEYS[i])
  if used >= budget then
    -- the slot frees when the entry that keeps us at the budget leaves the window
    local entry = redis.call('ZRANGE', KEYS[i], used - budget, used - budget, 'WITHSCORES')
    local w = tonumber(entry[2]) + seconds - now
    if w > wait then
      wait = w
    end
  end
end
if wait > 0 then
  return tostring(math.max(wait, 0.001))
end
for i = 2, #KEYS do
  local seconds = tonumber(ARGV[3 + (i - 1) * 2])
  redis.call('ZADD', KEYS[i], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[i], math.ceil(seconds * 1000) + 1000)
end
return '0'
"""

# A 429 that does not say when to come back (no Retry-After, no reset header) blocks the
# key for BACKOFF_BASE_SECONDS (or the shortest window, if shorter), doubling with each
# such 429 in a row (no request taken in between: a success resets the count) up to
# BACKOFF_MAX_SECONDS. A stray 429 (DataMeta's proxy sends no hint, ever) then costs
# seconds, and a real limit is reached in a few doublings.
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 15 * 60

# KEYS[1] meta hash. ARGV[1] base seconds, ARGV[2] ceiling, ARGV[3] ttl.
# A 429 while the key is already blocked came from a request sent before the block: it
# is not a new strike. One after a quiet spell (the last block ended more than ``base``
# ago) starts again from ``base``. Returns "<block seconds>:<strikes>".
_BACKOFF = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local base = tonumber(ARGV[1])
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0')
local strikes = tonumber(redis.call('HGET', KEYS[1], 'strikes') or '0')
if blocked > now then
  return tostring(blocked - now) .. ':' .. tostring(math.max(strikes, 1))
end
if now - blocked > base then
  strikes = 0
end
strikes = strikes + 1
local block = math.min(base * 2 ^ (strikes - 1), tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'strikes', tostring(strikes), 'blocked_until', tostring(now + block))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return tostring(block) .. ':' .. tostring(strikes)
"""


@dataclass(frozen=True)
class Backoff:
    """What a 429 without a hint did to the account's budget."""

    seconds: float  # the key is blocked this long from now
    strikes: int  # such 429s in a row, this one included


# KEYS[1] meta hash. ARGV[1] block seconds from now (or "" for none),
# ARGV[2] ttl, ARGV[3..] field, value pairs to set ("" value deletes the field).
_OBSERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
if ARGV[1] ~= '' then
  local until_ = now + tonumber(ARGV[1])
  local current = tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0')
  if until_ > current then
    redis.call('HSET', KEYS[1], 'blocked_until', tostring(until_))
  end
end
for i = 3, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return 1
"""


def _windows(windows: Iterable[RateWindow]) -> list[tuple[int, int]]:
    """(limit, seconds) pairs, shortest window first."""
    pairs = [(w.limit, w.seconds) for w in windows]
    if not pairs or any(limit < 1 or seconds < 1 for limit, seconds in pairs):
        raise ValueError(f"rate windows need a positive limit and seconds: {windows!r}")
    return sorted(pairs, key=lambda pair: pair[1])


def budget(limit: int, *, priority: Priority = Priority.INTERACTIVE) -> int:
    """How many requests per window we allow ourselves under a server limit of ``limit``."""
    allowed = limit - max(1, math.ceil(limit * SAFETY_MARGIN))
    if priority == Priority.BACKGROUND:
        allowed = math.floor(allowed * BACKGROUND_SHARE)
    return max(1, allowed)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # requests' headers are case-insensitive, a plain dict from a test or a record is not
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


log = logging.getLogger(__name__)

# Redis cannot be reached (refused, gone, timed out, still loading after a restart).
_UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
UNREACHABLE_MESSAGE = "The rate limiter (Redis) is unreachable."


def _unreachable_is_transient[**P, R](method: Callable[P, R]) -> Callable[P, R]:
    """Redis down is a transient error: the worker backs off and retries the step, as
    for a repository that does not answer, instead of failing it as unexpected."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except _UNREACHABLE as exc:
            raise TransientError(UNREACHABLE_MESSAGE) from exc

    return wrapper


def _unreachable_is_skipped[**P, R](method: Callable[P, R | None]) -> Callable[P, R | None]:
    """For ``observe``, which runs after the request went out: its reply stands (made
    to look failed, a write would be redone and its audit row lost), only the server's
    hint about its limits is dropped; the next ``acquire`` fails while Redis is down."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return method(*args, **kwargs)
        except _UNREACHABLE as exc:
            log.warning("rate-limit headers not recorded: %s (%s)", UNREACHABLE_MESSAGE, exc)
            return None

    return wrapper


class Limiter:
    """Sliding-log limits per key, several windows each, shared through Redis."""

    def __init__(self, redis_client: redis.Redis) -> None:
        self.redis = redis_client
        self._acquire = redis_client.register_script(_ACQUIRE)
        self._observe = redis_client.register_script(_OBSERVE)
        self._backoff = redis_client.register_script(_BACKOFF)

    @staticmethod
    def _meta_key(key: str) -> str:
        # the hash tag keeps a key's sets in one slot, so the script also runs on a cluster
        return f"ratelimit:{{{key}}}:meta"

    @staticmethod
    def _window_key(key: str, seconds: int) -> str:
        return f"ratelimit:{{{key}}}:{seconds}s"

    @_unreachable_is_transient
    def acquire(
        self, key: str, windows: Iterable[RateWindow], *, priority: Priority = Priority.INTERACTIVE
    ) -> float:
        """Take one slot in every window and return 0.0, or take none and return the wait.

        ``priority="background"`` may fill only BACKGROUND_SHARE of each window, so
        interactive calls still find slots while pollers run flat out.
        """
        pairs = _windows(windows)
        share = BACKGROUND_SHARE if priority == Priority.BACKGROUND else 1.0
        keys = [self._meta_key(key)] + [self._window_key(key, s) for _, s in pairs]
        args: list[Any] = [share, SAFETY_MARGIN, uuid.uuid4().hex]
        for limit, seconds in pairs:
            args += [limit, seconds]
        return float(self._acquire(keys=keys, args=args))

    @_unreachable_is_skipped
    def observe(
        self,
        key: str,
        windows: Iterable[RateWindow],
        *,
        status: int,
        headers: Mapping[str, str],
    ) -> Backoff | None:
        """Adapt to what the server said about its limits (notes-zenodo.md §1.9).

        * ``X-RateLimit-Limit`` below a configured window's limit shrinks that window;
          a later higher value restores it, never beyond the configured limit.
        * ``X-RateLimit-Remaining: 0`` blocks the key until ``X-RateLimit-Reset``.
        * 429/503 with ``Retry-After`` (seconds or HTTP date) blocks the key until then.
        * A 429 with neither blocks the key with a backoff that doubles while such 429s
          keep coming (returned, so the error can say how long and why).
        """
        pairs = _windows(windows)
        server_now = _server_now(headers)
        fields: list[str] = []
        block: float | None = None

        reset_in = _reset_in(headers, server_now)
        header_limit = _int_header(headers, "X-RateLimit-Limit")
        if header_limit is not None and header_limit > 0:
            limit, seconds = _window_for(pairs, header_limit, reset_in)
            fields += [f"limit:{seconds}", str(header_limit) if header_limit < limit else ""]

        remaining = _int_header(headers, "X-RateLimit-Remaining")
        if remaining is not None and remaining <= 0 and reset_in is not None:
            block = reset_in
        if status in (429, 503):
            retry_after = parse_retry_after(_header(headers, "Retry-After"), now=server_now)
            if retry_after is None and status == 429:
                retry_after = reset_in
                if retry_after is None:
                    self._store(key, pairs, block, fields)
                    return self._back_off(key, pairs)
            if retry_after is not None:
                block = max(block or 0.0, retry_after)
        if status < 400:
            # the server took a request: hintless 429s since were not "in a row"
            fields += ["strikes", ""]
        self._store(key, pairs, block, fields)
        return None

    def _back_off(self, key: str, pairs: list[tuple[int, int]]) -> Backoff:
        # a moving window frees a slot within its length: never wait longer than that first
        base = min(BACKOFF_BASE_SECONDS, float(min(s for _, s in pairs)))
        reply = _text(
            self._backoff(
                keys=[self._meta_key(key)], args=[base, BACKOFF_MAX_SECONDS, META_TTL_SECONDS]
            )
        )
        seconds, _, strikes = reply.partition(":")
        return Backoff(float(seconds), int(float(strikes or 1)))

    def _store(
        self, key: str, pairs: list[tuple[int, int]], block: float | None, fields: list[str]
    ) -> None:
        if block is None and not fields:
            return
        # a server's reset beyond its longest window is a clock problem, not a limit
        if block is not None:
            block = min(block, float(max(s for _, s in pairs)))
        self._observe(
            keys=[self._meta_key(key)],
            args=["" if block is None else block, META_TTL_SECONDS, *fields],
        )

    def paused_by_server(self, key: str) -> bool:
        """True while the server's own signal (a 429, Retry-After, a reset) blocks ``key``,
        rather than our count of its windows."""
        seconds_now, micros = self.redis.time()
        blocked = self.redis.hget(self._meta_key(key), "blocked_until")
        return float(_text(blocked or "0")) > int(seconds_now) + int(micros) / 1_000_000

    @_unreachable_is_transient
    def usage(self, key: str, windows: Iterable[RateWindow]) -> list[dict[str, Any]]:
        """Per window: limit, seconds, used, remaining, resets_in, blocked, blocked_until.

        ``limit`` is the effective limit (shrunk if the server said so) and
        ``configured_limit`` what the account asks for; ``remaining`` counts interactive
        budget. ``blocked_until`` is an epoch time on the Redis clock, or None.
        """
        pairs = _windows(windows)
        seconds_now, micros = self.redis.time()
        now = int(seconds_now) + int(micros) / 1_000_000
        meta = {_text(k): _text(v) for k, v in self.redis.hgetall(self._meta_key(key)).items()}
        blocked_until = float(meta.get("blocked_until", "0") or 0)
        blocked = blocked_until > now
        out = []
        for configured, seconds in pairs:
            learned = int(float(meta.get(f"limit:{seconds}", "0") or 0))
            limit = learned if 0 < learned < configured else configured
            zkey = self._window_key(key, seconds)
            used = int(self.redis.zcount(zkey, f"({now - seconds}", "+inf"))
            oldest: Any = self.redis.zrangebyscore(
                zkey, f"({now - seconds}", "+inf", start=0, num=1, withscores=True
            )
            resets_in = max(0.0, float(oldest[0][1]) + seconds - now) if oldest else 0.0
            out.append(
                {
                    "limit": limit,
                    "configured_limit": configured,
                    "seconds": seconds,
                    "used": used,
                    "remaining": max(0, budget(limit) - used),
                    "resets_in": round(resets_in, 3),
                    "blocked": blocked,
                    "blocked_until": blocked_until if blocked else None,
                    "blocked_for": round(blocked_until - now, 3) if blocked else 0.0,
                }
            )
        return out

    def reset(self, key: str, windows: Iterable[RateWindow]) -> None:
        """Forget everything about ``key`` (tests, and an admin's "unblock" button)."""
        pairs = _windows(windows)
        self.redis.delete(self._meta_key(key), *(self._window_key(key, s) for _, s in pairs))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = _header(headers, name)
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _server_now(headers: Mapping[str, str]) -> float:
    """The server's clock from its ``Date`` header, so a skewed local clock cannot
    misread ``X-RateLimit-Reset`` (epoch seconds on the server's clock)."""
    date = _header(headers, "Date")
    if date:
        try:
            return email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            pass
    return time.time()


def _reset_in(headers: Mapping[str, str], server_now: float) -> float | None:
    value = _header(headers, "X-RateLimit-Reset")
    try:
        reset = float(value) if value is not None else None
    except ValueError:
        return None
    if reset is None:
        return None
    return max(0.0, reset - server_now)


def _window_for(
    pairs: list[tuple[int, int]], header_limit: int, reset_in: float | None
) -> tuple[int, int]:
    """Which configured window a server's ``X-RateLimit-*`` headers describe.

    Flask-Limiter reports one limit per response, the one nearest to being breached; its
    reset lies at most one window ahead, so the reset names the window. Without a
    reset, a configured limit equal to the header wins, else the shortest window.
    """
    for limit, seconds in pairs:
        if limit == header_limit:
            return limit, seconds
    if reset_in is not None:
        for limit, seconds in pairs:
            if reset_in <= seconds + 1:
                return limit, seconds
        return pairs[-1]
    return pairs[0]


@cache
def get_limiter() -> Limiter:
    """The process-wide limiter on ``settings.REDIS_URL`` (``redis://`` or ``unix://``)."""
    # Timeouts: a Redis that hangs (rather than refusing) must not hang pages and workers.
    return Limiter(
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=3)
    )
