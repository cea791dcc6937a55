"""The processes the system runs as, defined once for the demo, the tests and the
benchmarks: the web server (which also serves the sandboxes), Celery workers and beat."""

from __future__ import annotations

import sys
from pathlib import Path

CELERY = [sys.executable, "-m", "celery", "-A", "portal"]
QUEUES = "interactive,background"


def web(host: str, port: int | str, *, workers: int = 2, threads: int = 8) -> list[str]:
    """gunicorn with threads: long uploads and slow repositories must not starve pages.

    The timeout is generous because a multi-gigabyte upload into the sandbox is one request.
    """
    return [
        sys.executable, "-m", "gunicorn", "portal.wsgi:application",
        "--bind", f"{host}:{port}", "--worker-class", "gthread",
        "--workers", str(workers), "--threads", str(threads), "--timeout", "600",
    ]  # fmt: skip


def worker(name: str, *, concurrency: int = 4, quiet: bool = False) -> list[str]:
    """A Celery worker on both queues. ``quiet`` skips the chatter between workers
    (gossip, mingle) that tests and benchmarks have no use for."""
    args = [*CELERY, "worker", "-Q", QUEUES, "-c", str(concurrency),
            "--loglevel", "INFO", "-n", f"{name}@%h"]  # fmt: skip
    return [*args, "--without-gossip", "--without-mingle"] if quiet else args


def beat(schedule: Path, *, loglevel: str = "WARNING") -> list[str]:
    """Celery beat: the reconciler, token checks, schema refreshes, late-result polling."""
    return [*CELERY, "beat", "--loglevel", loglevel, "--schedule", str(schedule)]
