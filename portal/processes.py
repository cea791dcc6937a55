"""The processes the system runs as, defined once for the demo, the tests and the
benchmarks: the web server, one server per sandbox, Celery workers and beat."""

from __future__ import annotations

import sys
from pathlib import Path

from portal.sandboxes import BY_KIND

CELERY = [sys.executable, "-m", "celery", "-A", "portal"]
QUEUES = "interactive,background"


def web(host: str, port: int | str, *, workers: int = 2, threads: int = 8) -> list[str]:
    """gunicorn with threads: long uploads and slow repositories must not starve pages.

    The timeout is generous because a multi-gigabyte upload is one request. No control
    socket: gunicorn's default is one path per user, which the portal's and each
    sandbox's server would take from each other.
    """
    return [
        sys.executable, "-m", "gunicorn", "portal.wsgi:application",
        "--bind", f"{host}:{port}", "--worker-class", "gthread",
        "--workers", str(workers), "--threads", str(threads), "--timeout", "600",
        "--no-control-socket",
    ]  # fmt: skip


def sandbox(kind: str, host: str, port: int | str, *, workers: int = 2) -> list[str]:
    """The ``kind`` sandbox alone, at the root of ``host:port``: the same settings and
    database as the portal, another root URLconf (``PORTAL_ROOT_URLCONF``)."""
    args = web(host, port, workers=workers)
    return [*args, "--env", f"PORTAL_ROOT_URLCONF={BY_KIND[kind].urlconf}"]


def worker(name: str, *, concurrency: int = 4, quiet: bool = False) -> list[str]:
    """A Celery worker on both queues. ``quiet`` skips the chatter between workers
    (gossip, mingle) that tests and benchmarks have no use for."""
    args = [*CELERY, "worker", "-Q", QUEUES, "-c", str(concurrency),
            "--loglevel", "INFO", "-n", f"{name}@%h"]  # fmt: skip
    return [*args, "--without-gossip", "--without-mingle"] if quiet else args


def beat(schedule: Path, *, loglevel: str = "WARNING") -> list[str]:
    """Celery beat: the reconciler, token checks, schema refreshes, late-result polling."""
    return [*CELERY, "beat", "--loglevel", loglevel, "--schedule", str(schedule)]
