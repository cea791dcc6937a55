"""Browser tests against a live system of real processes (tests/livesystem.py); the
browser and its pages are ``tests/browsing.py``'s (registered in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.livesystem import LiveSystem, purge_queues


@pytest.fixture
def live_system(transactional_db: None, tmp_path: Path) -> Iterator[LiveSystem]:
    purge_queues()
    system = LiveSystem(tmp_path)
    try:  # a server that does not come up is stopped too, not left running
        system.start_web()
        system.start_worker()
        yield system
    finally:
        system.stop()
        purge_queues()
