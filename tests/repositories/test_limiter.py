"""The shared limiter, against a real Redis (REDIS_URL)."""

from __future__ import annotations

import email.utils
import threading
import time

import redis

from deposits.repositories import limiter as limiter_module
from deposits.repositories.limiter import (
    Backoff,
    Limiter,
    RateWindow,
    budget,
    get_limiter,
    parse_retry_after,
)

MINUTE = [RateWindow(100, 60)]


def take(limiter: Limiter, key: str, windows: list[dict], n: int, **kw: str) -> int:
    return sum(1 for _ in range(n) if limiter.acquire(key, windows, **kw) == 0.0)


def test_it_keeps_a_safety_margin(limiter, limiter_key):
    assert take(limiter, limiter_key, MINUTE, 120) == 98
    wait = limiter.acquire(limiter_key, MINUTE)
    assert 59 < wait <= 60


def test_a_refused_acquire_takes_nothing(limiter, limiter_key):
    windows = [RateWindow(10, 60), RateWindow(1000, 3600)]
    assert take(limiter, limiter_key, windows, 20) == 9
    hour = limiter.usage(limiter_key, windows)[1]
    assert hour["used"] == 9


def test_the_tightest_window_decides(limiter, limiter_key):
    windows = [RateWindow(100, 60), RateWindow(5, 3600)]
    assert take(limiter, limiter_key, windows, 10) == 4
    wait = limiter.acquire(limiter_key, windows)
    assert 3590 < wait <= 3600
    minute, hour = limiter.usage(limiter_key, windows)
    assert (minute["used"], hour["used"]) == (4, 4)


def test_slots_free_as_the_window_slides(limiter, limiter_key):
    windows = [RateWindow(3, 1)]
    assert take(limiter, limiter_key, windows, 5) == 2  # 3 minus the 1-request margin
    wait = limiter.acquire(limiter_key, windows)
    assert 0 < wait <= 1
    time.sleep(wait + 0.01)
    assert limiter.acquire(limiter_key, windows) == 0.0


def test_background_work_leaves_room_for_people(limiter, limiter_key):
    assert take(limiter, limiter_key, MINUTE, 100, priority="background") == budget(
        100, priority="background"
    )
    assert budget(100, priority="background") == 78
    assert limiter.acquire(limiter_key, MINUTE, priority="background") > 0
    # a person pressing Publish still gets the rest
    assert take(limiter, limiter_key, MINUTE, 30) == 98 - 78


def test_it_never_exceeds_the_limit_under_concurrency(limiter, limiter_key, redis_client):
    windows = [RateWindow(50, 2)]
    stop = time.monotonic() + 4.5
    granted = 0
    lock = threading.Lock()

    def hammer() -> None:
        nonlocal granted
        worker = Limiter(redis.Redis.from_url(_url()))  # one connection per "worker"
        while time.monotonic() < stop:
            if worker.acquire(limiter_key, windows) == 0.0:
                with lock:
                    granted += 1

    # Redis's own log is the truth about when each slot was taken: snapshot it more
    # often than entries expire, so every admission is seen with its Redis timestamp.
    admitted: dict[bytes, float] = {}

    def watch() -> None:
        while time.monotonic() < stop + 0.1:
            for member, score in redis_client.zrange(
                f"ratelimit:{{{limiter_key}}}:2s", 0, -1, withscores=True
            ):
                admitted[member] = score
            time.sleep(0.1)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    threads.append(threading.Thread(target=watch))
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    stamps = sorted(admitted.values())
    assert len(stamps) == granted
    busiest = max(sum(1 for s in stamps if end - 2.0 < s <= end) for end in stamps)
    assert busiest <= 49  # the limit minus the safety margin, never more
    # flat out it still uses the budget: >= 0.95 L in each of the two full windows
    assert granted >= 0.95 * 50 * 2
    assert granted <= 49 * 3


def _url() -> str:
    from django.conf import settings

    return settings.REDIS_URL


def test_a_lower_server_limit_shrinks_the_budget_and_a_higher_one_restores_it(limiter, limiter_key):
    windows = [RateWindow(100, 60), RateWindow(5000, 3600)]
    now = time.time()
    limiter.observe(
        limiter_key,
        windows,
        status=200,
        headers={
            "X-RateLimit-Limit": "20",
            "X-RateLimit-Remaining": "19",
            "X-RateLimit-Reset": str(int(now + 59)),
        },
    )
    minute, hour = limiter.usage(limiter_key, windows)
    assert (minute["limit"], minute["configured_limit"], hour["limit"]) == (20, 100, 5000)
    assert take(limiter, limiter_key, windows, 30) == 19

    limiter.observe(
        limiter_key,
        windows,
        status=200,
        headers={
            "x-ratelimit-limit": "1000",
            "x-ratelimit-remaining": "980",
            "x-ratelimit-reset": str(int(now + 60)),
        },
    )
    # followed back up, but never beyond what the account is configured for
    assert limiter.usage(limiter_key, windows)[0]["limit"] == 100
    assert take(limiter, limiter_key, windows, 100) == 98 - 19


def test_an_hourly_header_shrinks_the_hour_window(limiter, limiter_key):
    windows = [RateWindow(100, 60), RateWindow(5000, 3600)]
    limiter.observe(
        limiter_key,
        windows,
        status=200,
        headers={"X-RateLimit-Limit": "2000", "X-RateLimit-Reset": str(int(time.time() + 1800))},
    )
    minute, hour = limiter.usage(limiter_key, windows)
    assert (minute["limit"], hour["limit"]) == (100, 2000)


def test_remaining_zero_blocks_until_reset(limiter, limiter_key):
    reset = time.time() + 30
    limiter.observe(
        limiter_key,
        MINUTE,
        status=200,
        headers={
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(reset),
        },
    )
    wait = limiter.acquire(limiter_key, MINUTE)
    assert 28 < wait <= 30.5
    usage = limiter.usage(limiter_key, MINUTE)[0]
    assert usage["blocked"] is True
    assert 28 < usage["blocked_for"] <= 30.5
    assert usage["used"] == 0  # nothing was taken while blocked


def test_retry_after_on_429_blocks_every_worker(limiter, limiter_key, redis_client):
    limiter.observe(limiter_key, MINUTE, status=429, headers={"Retry-After": "39"})
    other_worker = Limiter(redis.Redis.from_url(_url()))
    wait = other_worker.acquire(limiter_key, MINUTE)
    assert 38 < wait <= 39


def test_retry_after_as_http_date_on_503(limiter, limiter_key):
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    limiter.observe(limiter_key, MINUTE, status=503, headers={"Retry-After": when})
    assert 18 < limiter.acquire(limiter_key, MINUTE) <= 21


def test_retry_after_on_a_success_does_not_block(limiter, limiter_key):
    # Zenodo sends Retry-After on every reply (notes §1.9): only 429/503 mean "stop"
    limiter.observe(limiter_key, MINUTE, status=201, headers={"Retry-After": "60"})
    assert limiter.acquire(limiter_key, MINUTE) == 0.0


def test_a_longer_block_is_not_shortened(limiter, limiter_key):
    limiter.observe(limiter_key, MINUTE, status=429, headers={"Retry-After": "50"})
    limiter.observe(limiter_key, MINUTE, status=429, headers={"Retry-After": "5"})
    assert limiter.acquire(limiter_key, MINUTE) > 45


def test_usage_reports_each_window(limiter, limiter_key):
    windows = [RateWindow(100, 60), RateWindow(5000, 3600)]
    take(limiter, limiter_key, windows, 3)
    minute, hour = limiter.usage(limiter_key, windows)
    assert minute == {
        "limit": 100,
        "configured_limit": 100,
        "seconds": 60,
        "used": 3,
        "remaining": 95,
        "resets_in": minute["resets_in"],
        "blocked": False,
        "blocked_until": None,
        "blocked_for": 0.0,
    }
    assert 59 < minute["resets_in"] <= 60
    assert (hour["used"], hour["remaining"], hour["seconds"]) == (3, 4900 - 3, 3600)


def test_parse_retry_after():
    assert parse_retry_after("39") == 39.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = time.time()
    wait = parse_retry_after(email.utils.formatdate(now + 10, usegmt=True), now=now)
    assert wait is not None and 9 < wait <= 10


def test_get_limiter_is_cached():
    assert get_limiter() is get_limiter()


# A 429 that says nothing about when to come back (issue 9 item 9): back off, doubling.
SECOND = [RateWindow(50, 1), RateWindow(1000, 3600)]


def _hintless_429(limiter: Limiter, key: str, windows: list[RateWindow]) -> Backoff | None:
    return limiter.observe(key, windows, status=429, headers={})


def test_a_429_without_a_hint_pauses_the_account_briefly(limiter, limiter_key):
    backoff = _hintless_429(limiter, limiter_key, MINUTE)
    assert backoff == Backoff(2.0, 1)
    assert 1.5 < limiter.acquire(limiter_key, MINUTE) <= 2
    assert limiter.paused_by_server(limiter_key)
    # never longer than the shortest window, which frees a slot within its length
    assert _hintless_429(limiter, f"{limiter_key}-s", SECOND) == Backoff(1.0, 1)
    limiter.reset(f"{limiter_key}-s", SECOND)


def test_hintless_429s_in_a_row_back_off_doubling_up_to_a_ceiling(
    limiter, limiter_key, monkeypatch
):
    monkeypatch.setattr(limiter_module, "BACKOFF_MAX_SECONDS", 3.0)
    delays = []
    for _ in range(4):
        backoff = _hintless_429(limiter, limiter_key, SECOND)
        assert backoff is not None
        delays.append((backoff.seconds, backoff.strikes))
        time.sleep(backoff.seconds + 0.05)  # the pause ends; the next request is a 429 again
    assert delays == [(1.0, 1), (2.0, 2), (3.0, 3), (3.0, 4)]


def test_429s_from_requests_already_in_flight_are_one_strike(limiter, limiter_key):
    """Several workers' requests were on the wire when the first 429 came back: their
    429s are the same signal, not a reason to back off further."""
    first = _hintless_429(limiter, limiter_key, SECOND)
    again = [_hintless_429(limiter, limiter_key, SECOND) for _ in range(3)]
    assert first == Backoff(1.0, 1)
    assert all(b is not None and b.strikes == 1 and b.seconds <= 1.0 for b in again)


def test_after_a_quiet_spell_the_backoff_starts_again(limiter, limiter_key):
    assert _hintless_429(limiter, limiter_key, SECOND) == Backoff(1.0, 1)
    time.sleep(1.05)
    assert _hintless_429(limiter, limiter_key, SECOND) == Backoff(2.0, 2)
    time.sleep(2 + 1.2)  # the pause ended more than a window ago with no 429 since
    assert _hintless_429(limiter, limiter_key, SECOND) == Backoff(1.0, 1)


def test_a_429_with_retry_after_is_not_a_backoff(limiter, limiter_key):
    assert limiter.observe(limiter_key, MINUTE, status=429, headers={"Retry-After": "5"}) is None
    assert not limiter.observe(limiter_key, MINUTE, status=200, headers={})


def test_a_request_taken_between_hintless_429s_resets_the_backoff(limiter, limiter_key):
    """DataMeta's proxy answers a stray 429 now and then, never with Retry-After: one
    that follows a success is a first strike again, not a reason to wait longer."""
    assert _hintless_429(limiter, limiter_key, SECOND) == Backoff(1.0, 1)
    time.sleep(1.05)
    assert limiter.observe(limiter_key, SECOND, status=201, headers={}) is None
    assert _hintless_429(limiter, limiter_key, SECOND) == Backoff(1.0, 1)
