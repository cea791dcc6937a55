from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.livesystem import LiveSystem, purge_queues


@pytest.fixture
def live_system(transactional_db: None, tmp_path: Path) -> Iterator[LiveSystem]:
    """Web server + sandboxes; tests start the workers they need."""
    purge_queues()
    system = LiveSystem(tmp_path)
    try:  # a server that does not come up is stopped too, not left running
        system.start_web()
        yield system
    finally:
        system.stop()
        purge_queues()
