"""What every benchmark shares: its own database and Redis, the system as real processes,
the Zenodo sandbox's control endpoint, seeding, and small statistics helpers.

Benchmarks never touch the demo's or the tests' data: unless ``DATABASE_URL`` /
``REDIS_URL`` are given, they use ``var/bench/portal.sqlite3`` and an embedded Redis on
``var/bench/redis.sock`` (``PORTAL_VAR_DIR=var/bench``). Each benchmark starts from an
empty database (``flush``), so a ``DATABASE_URL`` given here must name a database kept
for benchmarks (e.g. ``postgres://postgres@127.0.0.1:5432/portal_bench``), and a
``REDIS_URL`` a Redis database of their own (its two Celery queues are purged).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import os
import platform
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

# The test harness's helpers serve here too: same processes, same waiting.
from tests.livesystem import free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
# Always its own directory, whatever PORTAL_VAR_DIR the shell has (the demo's, maybe).
VAR = Path(os.environ.get("BENCH_VAR_DIR") or ROOT / "var" / "bench").resolve()

# A deposit Zenodo accepts (the same metadata the e2e tests publish), as the editor's
# fields; ``record(title)`` is what a deposit stores.
METADATA: dict[str, Any] = {
    "title": "Soil moisture at the Lindenberg site, 2024",
    "resource_type": "dataset",
    "publication_date": "2025-01-15",
    "creators": [
        {"name": "Lovelace, Ada", "affiliation": "Analytical Engines Ltd"},
        {"name": "Hopper, Grace", "affiliation": "US Navy"},
    ],
    "description": "<p>Hourly soil moisture from <b>12</b> probes.</p>",
    "access_right": "open",
    "license": "cc-by-4.0",
    "keywords": ["soil", "moisture"],
    "version": "1.0",
    "language": "eng",
}

_embedded_redis: subprocess.Popen[bytes] | None = None


def record(title: str) -> dict[str, Any]:
    """The stored metadata (a DataCite record) of a bench deposit called ``title``."""
    from deposits.metadata import to_record

    return to_record({**METADATA, "title": title})


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------- setup


def configure() -> None:
    """Point this process (and every process it starts) at the benchmarks' own database
    and Redis, set Django up and migrate. Safe to call more than once."""
    global _embedded_redis
    os.environ["PORTAL_VAR_DIR"] = str(VAR)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    # DEBUG keeps every SQL query in memory and renders slower: production does not.
    os.environ["DEBUG"] = "0"
    VAR.mkdir(parents=True, exist_ok=True)
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    from django.conf import settings

    if settings.EMBEDDED_REDIS and _embedded_redis is None:
        from portal import embedded_redis

        _embedded_redis = embedded_redis.ensure_running(settings.EMBEDDED_REDIS_SOCKET)
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)


def shutdown() -> None:
    """Stop the embedded Redis if this process started it."""
    global _embedded_redis
    if _embedded_redis is not None and _embedded_redis.poll() is None:
        _embedded_redis.terminate()
        _embedded_redis.wait(timeout=10)
    _embedded_redis = None


def database_label() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return "SQLite (WAL) " + str(Path(connection.settings_dict["NAME"]).relative_to(ROOT))
    version = connection.cursor().connection.info.server_version  # type: ignore[attr-defined]
    return f"PostgreSQL {version // 10000}.{version % 10000} ({connection.settings_dict['NAME']})"


def redis_label() -> str:
    from django.conf import settings

    return "embedded Redis (var/bench/redis.sock)" if settings.EMBEDDED_REDIS else "Redis server"


def fresh_state() -> None:
    """An empty database, no stored files, no queued tasks: each benchmark starts clean."""
    from django.conf import settings
    from django.core.management import call_command

    call_command("flush", "--no-input", verbosity=0)
    shutil.rmtree(Path(settings.MEDIA_ROOT) / "deposits", ignore_errors=True)
    shutil.rmtree(Path(settings.VAR_DIR) / "sandbox-zenodo", ignore_errors=True)
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    if settings.EMBEDDED_REDIS:
        client.flushdb()
    else:
        # Celery's queues and the tasks it reserved but did not acknowledge.
        client.delete("interactive", "background", "unacked", "unacked_index")
    client.close()


# --------------------------------------------------------------------------- processes


class System:
    """gunicorn (the portal and the sandboxes) and Celery workers as real processes on
    127.0.0.1, sharing the benchmarks' database and Redis. A context manager: everything
    it started is stopped on the way out, by process group, and nothing else."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The Zenodo sandbox at the root of a port of its own, as in the demo.
        self.zenodo_port = free_port()
        self.zenodo_url = f"http://127.0.0.1:{self.zenodo_port}"
        self.logs = VAR / "logs" / name
        shutil.rmtree(self.logs, ignore_errors=True)
        self.logs.mkdir(parents=True)
        self.env = {
            **os.environ,
            "ZENODO_SANDBOX_URL": self.zenodo_url,
            "PYTHONUNBUFFERED": "1",
            "DEBUG": "0",
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def __enter__(self) -> System:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
        out.close()
        self.procs[name] = proc
        return proc

    def start_web(self, *, workers: int = 2, threads: int = 8, access_log: bool = False) -> None:
        """The web server as the demo runs it (``portal/processes.py``: gunicorn gthread).

        ``access_log`` writes ``<path> <status> <microseconds>`` per request to
        ``access.log``: the server's own view of each request's duration.
        """
        extra = []
        if access_log:
            extra = [
                "--access-logfile",
                str(self.logs / "access.log"),
                "--access-logformat",
                "%(U)s %(s)s %(D)s",
            ]
        from portal import processes

        self._spawn(
            "web",
            [*processes.web("127.0.0.1", self.port, workers=workers, threads=threads), *extra],
        )
        wait_until(lambda: self._answers("web", f"{self.url}/login/"), 60, "the web server")
        self._spawn(
            "sandbox-zenodo",
            processes.sandbox("zenodo", "127.0.0.1", self.zenodo_port, workers=workers),
        )
        wait_until(
            lambda: self._answers("sandbox-zenodo", f"{self.zenodo_url}/_control"),
            60,
            "the Zenodo sandbox",
        )

    def server_times(self) -> list[tuple[str, int, float]]:
        """(path, status, milliseconds) of every request in the access log so far."""
        out = []
        path = self.logs / "access.log"
        for line in path.read_text().splitlines() if path.exists() else []:
            parts = line.split()
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                out.append((parts[0], int(parts[1]), int(parts[2]) / 1000))
        return out

    def _answers(self, name: str, url: str) -> bool:
        """Whether the server ``name`` answers ``url`` with 200 (raises if it exited)."""
        if self.procs[name].poll() is not None:
            raise RuntimeError(f"{name} exited; see {self.logs / f'{name}.log'}")
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def start_worker(self, name: str = "worker", *, concurrency: int = 1) -> None:
        """One Celery worker process (prefork, ``concurrency`` children), both queues."""
        from portal import processes

        self._spawn(
            name, processes.worker(f"{name}-{self.port}", concurrency=concurrency, quiet=True)
        )

    def wait_workers_ready(self, timeout: float = 90) -> None:
        names = [n for n in self.procs if n != "web" and not n.startswith("sandbox-")]

        def ready() -> bool:
            return all(b"ready." in (self.logs / f"{n}.log").read_bytes() for n in names)

        wait_until(ready, timeout, f"workers {', '.join(names)}")

    def pids(self, name: str) -> list[int]:
        """The process ``name`` and its children (a Celery worker's pool processes)."""
        import psutil

        main = psutil.Process(self.procs[name].pid)
        return [main.pid] + [child.pid for child in main.children(recursive=True)]

    def stop(self, name: str | None = None) -> None:
        """SIGTERM the process group(s), then SIGKILL what is still there after 15 s."""
        names = [name] if name else list(self.procs)
        for n in names:
            proc = self.procs[n]
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for n in names:
            proc = self.procs.pop(n)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


# --------------------------------------------------------------------------- sandbox


def control(system: System, payload: dict[str, Any]) -> dict[str, Any]:
    """``POST /_control`` of the Zenodo sandbox: reset, wipe, config, faults."""
    reply = requests.post(f"{system.zenodo_url}/_control", json=payload, timeout=30)
    reply.raise_for_status()
    return reply.json()


def sandbox_state(system: System) -> dict[str, Any]:
    reply = requests.get(f"{system.zenodo_url}/_control", timeout=30)
    reply.raise_for_status()
    return reply.json()


def sandbox_token(user: str = "bench-lab") -> str:
    """A token the Zenodo sandbox accepts (``manage.py sandbox_token zenodo``)."""
    from django.core.management import call_command

    out = io.StringIO()
    call_command("sandbox_token", "zenodo", "--user", user, stdout=out)
    return out.getvalue().strip()


class CounterSampler:
    """Samples the sandbox's counters about once a second, in a thread.

    The sandbox counts every request it receives and every one it refused with 429, so
    the series is the server's view of the rate, whoever the client is.
    """

    def __init__(self, system: System, every: float = 1.0) -> None:
        self.system = system
        self.every = every
        self.samples: list[tuple[float, int, int, int]] = []  # t, requests, 429s, published
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> CounterSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def sample(self) -> None:
        counters = sandbox_state(self.system)["counters"]
        self.samples.append(
            (
                time.monotonic(),
                int(counters["requests"]),
                int(counters["rate_limited"]),
                int(counters["published"]),
            )
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(requests.RequestException):
                self.sample()
            self._stop.wait(self.every)
        with contextlib.suppress(requests.RequestException):
            self.sample()

    def at(self, when: float, column: int) -> float:
        """A counter's value at monotonic time ``when``, interpolated between samples."""
        return interpolate([(s[0], s[column]) for s in self.samples], when)

    def between(self, start: float, end: float) -> dict[str, float]:
        """Accepted requests, 429 replies and publications in [start, end)."""
        requests_ = self.at(end, 1) - self.at(start, 1)
        refused = self.at(end, 2) - self.at(start, 2)
        return {
            "accepted": requests_ - refused,
            "rate_limited": refused,
            "published": self.at(end, 3) - self.at(start, 3),
        }


def interpolate(points: list[tuple[float, float]], when: float) -> float:
    """The value of a step-sampled counter at ``when``, linear between samples."""
    if not points:
        return 0.0
    if when <= points[0][0]:
        return float(points[0][1])
    for (t0, v0), (t1, v1) in itertools.pairwise(points):
        if t0 <= when <= t1:
            return v0 + (v1 - v0) * (when - t0) / max(t1 - t0, 1e-9)
    return float(points[-1][1])


# --------------------------------------------------------------------------- seeding


def make_team(slug: str, *, username: str | None = None, password: str = "bench-pass") -> Any:
    """A team and one member; returns (team, user)."""
    from django.contrib.auth import get_user_model

    from deposits.models import Membership, Team

    team = Team.objects.create(name=f"Bench {slug}", slug=slug)
    user = get_user_model().objects.create_user(username or f"{slug}-user", password=password)
    Membership.objects.create(team=team, user=user, role="admin")
    return team, user


def zenodo_account(team: Any, system: System, token: str, windows: list[dict[str, int]]) -> Any:
    """A verified Zenodo account on the local sandbox with the given rate windows."""
    from deposits.models import LinkedAccount

    account = LinkedAccount(
        team=team,
        kind="zenodo",
        label="Zenodo (local sandbox)",
        base_url=f"{system.zenodo_url}/api",
        status="ok",
        rate_windows=windows,
    )
    account.set_token(token)
    account.save()
    return account


def ready_target(team: Any, account: Any, title: str, files: dict[str, bytes]) -> Any:
    """A deposit with ``files`` and one Zenodo target, validated to READY."""
    from deposits import lifecycle
    from deposits.models import Deposit, State, Target

    deposit = Deposit.objects.create(team=team, metadata=record(title))
    for name, content in files.items():
        from tests.factories import add_file

        add_file(deposit, name, content)
    target = Target.objects.create(deposit=deposit, account=account)
    lifecycle.revalidate(deposit)
    target.refresh_from_db()
    if target.state != State.READY:
        raise RuntimeError(f"the seeded target is not ready: {target.problems}")
    return target


def publish_all(targets: list[Any], user: Any) -> None:
    """Press Publish on each target (queues one Celery task each)."""
    from deposits import lifecycle

    for target in targets:
        lifecycle.request(target, "publish", user=user)


def backlog_files(index: int) -> dict[str, bytes]:
    """Three small files per deposit, distinct bytes so every MD5 differs."""
    seed = hashlib.sha256(f"deposit-{index}".encode()).digest()
    return {
        "measurements.csv": b"site,moisture\n" + b"lindenberg,0.31\n" * 64 + seed,
        "README.txt": b"Soil moisture, hourly.\n" + seed.hex().encode(),
        "probe-raw.bin": (seed * 64)[:1500] + os.urandom(500),
    }


# --------------------------------------------------------------------------- figures


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile with linear interpolation (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gib = 0.0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
    load = os.getloadavg()
    return {
        "code": code_version(),
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gib": round(mem_gib, 1),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "database": database_label(),
        "redis": redis_label(),
        "load_average_at_start": [round(x, 2) for x in load],
    }


def code_version() -> str:
    """The commit measured, and the product files changed on top of it, if any."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "deposits", "portal", "sandbox", "templates"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.split("\n")
    except OSError:
        return "unknown"
    files = sorted(line[3:] for line in changed if line.strip())
    return f"{head} + uncommitted {', '.join(files)}" if files else head


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


@contextlib.contextmanager
def timed(label: str) -> Iterator[None]:
    started = time.monotonic()
    log(f"{label} ...")
    yield
    log(f"{label}: {time.monotonic() - started:.1f} s")
