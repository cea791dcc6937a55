"""Fixtures of the release tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis


@pytest.fixture(autouse=True)
def fresh_forge_budget(redis_client: redis.Redis) -> Iterator[None]:
    """The forge budgets a test spends in the shared limiter start and end unused."""

    def clear() -> None:
        for name in redis_client.scan_iter("ratelimit:{forge:*"):
            redis_client.delete(name)

    clear()
    yield
    clear()
