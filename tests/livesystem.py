"""The whole system as real processes for end-to-end tests: gunicorn serving the portal and
the sandboxes, Celery workers and beat, all sharing the test database and the test Redis."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.db import connection

from portal import processes

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url() -> str:
    conf = connection.settings_dict
    if conf["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{conf['NAME']}"
    user = conf.get("USER") or "postgres"
    host = conf.get("HOST") or "127.0.0.1"
    port = conf.get("PORT") or 5432
    password = f":{conf['PASSWORD']}" if conf.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{conf['NAME']}"


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


class LiveSystem:
    def __init__(self, tmp: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logs = tmp
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "SANDBOX_BASE_URL": f"{self.url}/sandbox",
            "LEASE_SECONDS": "4",
            "RECONCILE_EVERY_SECONDS": "2",
            "RETRY_BACKOFF_BASE": "0.5",
            "RETRY_BACKOFF_MAX": "2",
            "CREATE_RETRY_GRACE_SECONDS": "2",
            "DATABASE_CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        out = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def start_web(self) -> None:
        self._spawn("web", processes.web("127.0.0.1", self.port, workers=1))
        wait_until(self._web_up, 60, "the web server")

    def _web_up(self) -> bool:
        try:
            return requests.get(f"{self.url}/login/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def start_worker(self, name: str = "worker", concurrency: int = 2) -> subprocess.Popen[bytes]:
        proc = self._spawn(
            name, processes.worker(f"{name}-{self.port}", concurrency=concurrency, quiet=True)
        )
        log = self.logs / f"{name}.log"
        wait_until(lambda: b"ready" in log.read_bytes(), 60, f"{name} ready")
        return proc

    def start_beat(self) -> None:
        self._spawn("beat", processes.beat(self.logs / "celerybeat-schedule", loglevel="INFO"))

    def kill(self, name: str) -> None:
        """SIGKILL the process group: the worker gets no chance to clean up."""
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for proc in list(self.procs.values()):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()


def purge_queues() -> None:
    from portal.celery import app

    with app.connection_for_write() as conn:
        for queue in ("interactive", "background"):
            # A queue that does not exist yet is empty.
            with contextlib.suppress(Exception):
                conn.default_channel.queue_purge(queue)


def settings_summary() -> str:
    return f"db={connection.vendor} redis={'embedded' if settings.EMBEDDED_REDIS else 'server'}"
