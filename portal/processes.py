"""The processes the system runs as, defined once for the demo, the tests and the
benchmarks: the web server, one server per sandbox, Celery workers and beat."""

from __future__ import annotations

import sys
from pathlib import Path

from portal.sandboxes import BY_KIND

CELERY = [sys.executable, "-m", "celery", "-A", "portal"]
QUEUES = "interactive,background"


def web(
    host: str,
    port: int | str,
    *,
    workers: int = 2,
    threads: int = 8,
    graceful_timeout: int = 30,
) -> list[str]:
    """gunicorn with threads: long uploads and slow repositories must not starve pages.

    The timeout is generous because a multi-gigabyte upload is one request. No control
    socket: gunicorn's default is one path per user, which the portal's and each
    sandbox's server would take from each other. ``graceful_timeout``: how long a worker
    may finish its requests after SIGTERM before gunicorn kills it (the demo's Ctrl-C
    wants a short one).
    """
    return [
        sys.executable, "-m", "gunicorn", "portal.wsgi:application",
        "--bind", f"{host}:{port}", "--worker-class", "gthread",
        "--workers", str(workers), "--threads", str(threads), "--timeout", "600",
        "--graceful-timeout", str(graceful_timeout), "--no-control-socket",
    ]  # fmt: skip


def sandbox(
    kind: str, host: str, port: int | str, *, workers: int = 2, graceful_timeout: int = 30
) -> list[str]:
    """The ``kind`` sandbox alone, at the root of ``host:port``: the same settings and
    database as the portal, another root URLconf (``PORTAL_ROOT_URLCONF``)."""
    args = web(host, port, workers=workers, graceful_timeout=graceful_timeout)
    return [*args, "--env", f"PORTAL_ROOT_URLCONF={BY_KIND[kind].urlconf}"]


def worker(name: str, *, concurrency: int = 4, quiet: bool = False) -> list[str]:
    """A Celery worker on both queues.

    Never with gossip and mingle (worker-to-worker chatter the portal has no use for):
    after Redis went away, restarting gossip fails inside kombu ("Error on restarting
    Gossip: AttributeError", celery/kombu#582). ``quiet`` is accepted from the callers
    that asked for that before it was the rule.
    """
    del quiet
    return [*CELERY, "worker", "-Q", QUEUES, "-c", str(concurrency),
            "--loglevel", "INFO", "-n", f"{name}@%h",
            "--without-gossip", "--without-mingle"]  # fmt: skip


def beat(schedule: Path, *, loglevel: str = "WARNING") -> list[str]:
    """Celery beat: the reconciler, token checks, schema refreshes, late-result polling."""
    return [*CELERY, "beat", "--loglevel", loglevel, "--schedule", str(schedule)]


def s3(host: str, port: int | str) -> list[str]:
    """The local S3-compatible server (moto's, in memory: ``portal.s3server``): the Coscine
    sandbox's S3 resources and, when asked, the portal's own ``STORAGE_BACKEND=s3``."""
    return [sys.executable, "-m", "portal.s3server", host, str(port)]
