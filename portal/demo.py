"""`make demo`: the whole system on one machine, with nothing installed beforehand.

Starts (as separate processes) the embedded Redis unless REDIS_URL is set, a Celery
worker, Celery beat, the web server on DEMO_PORT, each sandbox at the root of a port of
its own (portal/sandboxes.py: DEMO_PORT+1 Zenodo, DEMO_PORT+2 DataMeta, DEMO_PORT+3 the
code forge, DEMO_PORT+4 Coscine, unless ZENODO_SANDBOX_URL and the like say otherwise)
and the local S3 server (moto's, in memory) at DEMO_PORT+5 unless S3_SANDBOX_URL says
otherwise; migrates and seeds the demo team; puts the demo repository and its webhook on
the forge sandbox; prints the URLs, the logins and the release source's endpoint and
secret. ``DEMO_STORAGE=s3`` keeps the portal's own files on that S3 server (bucket
``portal-demo``) instead of local disk. A process that exits is started again
(``Supervisor``); Ctrl-C, or SIGTERM, stops everything it started within 10 s.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, cast
from urllib.parse import urlsplit

from portal.sandboxes import REPOSITORIES, S3_OFFSET, SANDBOXES

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# Seconds a web server's workers may finish their requests after Ctrl-C (then they are
# killed, within the Supervisor's stop_timeout anyway).
GRACE = 5
# DEMO_STORAGE=s3: the portal's own files in this bucket of the local S3 server
DEMO_BUCKET = "portal-demo"


def manage(*args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PY, "manage.py", *args],
        cwd=ROOT,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return (result.stdout or "").strip()


def wait_for(url: str, timeout: float = 60) -> None:
    """Until a server answers at ``url`` at all (any HTTP status: it is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own loopback URL)
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"nothing answered at {url} within {timeout:.0f}s")


class Stop(Exception):
    """SIGTERM asked the demo to stop (Ctrl-C raises KeyboardInterrupt)."""


def _raise_stop(*_: object) -> None:
    raise Stop


@dataclass
class Child:
    """One process the demo runs, and how to start it again."""

    name: str
    launch: Callable[[], subprocess.Popen[bytes] | None]
    proc: subprocess.Popen[bytes] | None = None
    quick_exits: int = 0  # exits in a row soon after starting
    started_at: float = 0.0
    given_up: bool = False
    leads_group: bool = False  # in a session of its own: its whole group is ours to kill


class Supervisor:
    """Starts the demo's processes, starts again one that exits, and stops them all.

    A child that exits is started again with a line saying so; one that keeps exiting
    within ``crash_window`` seconds of starting (``max_quick_exits`` times in a row) is
    left stopped, with a line saying why, so a broken setup does not spin. ``stop``
    asks every child at once, waits ``stop_timeout`` seconds in all, then kills what is
    left of each one's process group (a server's workers, a worker's pool), so Ctrl-C
    ends everything, and frees every port, within 10 s.
    """

    def __init__(
        self,
        *,
        crash_window: float = 10.0,
        max_quick_exits: int = 3,
        stop_timeout: float = 7.0,
        out: TextIO | None = None,
    ) -> None:
        self.children: list[Child] = []
        self.crash_window = crash_window
        self.max_quick_exits = max_quick_exits
        self.stop_timeout = stop_timeout
        self.out = out or sys.stderr
        self.stopping = False

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def start(self, name: str, args: list[str], **popen: Any) -> Child:
        """A command in a session of its own: Ctrl-C reaches only the demo, and every
        server gets a single SIGTERM from here (a gunicorn worker signalled both by the
        terminal and by its master can hang on exit and keep its port)."""

        def launch() -> subprocess.Popen[bytes]:
            return subprocess.Popen(args, cwd=ROOT, start_new_session=True, **popen)

        return self.adopt(name, launch)

    def adopt(self, name: str, launch: Callable[[], subprocess.Popen[bytes] | None]) -> Child:
        """Run ``launch`` now and after each exit; it returns the process, or None when
        there is nothing of ours to run (the embedded Redis someone else started)."""
        child = Child(name, launch)
        self.children.append(child)
        self._launch(child)
        return child

    def _launch(self, child: Child) -> None:
        child.proc = proc = child.launch()
        child.started_at = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            child.leads_group = proc is not None and os.getpgid(proc.pid) == proc.pid

    def check(self) -> None:
        """Start again each child that exited since the last look."""
        for child in self.children:
            if self.stopping:
                return
            if child.given_up or child.proc is None or child.proc.poll() is None:
                continue
            self._exited(child, child.proc.returncode)

    def _exited(self, child: Child, status: int) -> None:
        quick = time.monotonic() - child.started_at < self.crash_window
        child.quick_exits = child.quick_exits + 1 if quick else 0
        if child.quick_exits >= self.max_quick_exits:
            child.given_up = True
            self.say(
                f"The {child.name} exited {child.quick_exits} times within "
                f"{self.crash_window:.0f} s of starting (last status {status}); not starting "
                "it again. Its output above says why; fix that and run the demo again."
            )
            return
        self.say(f"The {child.name} exited (status {status}); starting it again.")
        try:
            self._launch(child)
        except (OSError, RuntimeError) as exc:
            child.given_up = True
            self.say(f"The {child.name} could not be started again ({exc}); leaving it stopped.")

    def run(self, every: float = 1.0) -> None:
        while not self.stopping:
            self.check()
            time.sleep(every)

    def stop(self) -> None:
        """Stop every child within ``stop_timeout`` (then kill), newest first; once."""
        if self.stopping:
            return
        self.stopping = True
        with _signals_ignored():  # a second Ctrl-C must not cut this short
            running = [c.proc for c in reversed(self.children) if c.proc is not None]
            for proc in running:
                if proc.poll() is None:
                    proc.terminate()
            deadline = time.monotonic() + self.stop_timeout
            for proc in running:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            for child in self.children:
                if child.proc is not None:
                    _kill(child.proc, group=child.leads_group)
        self.say("Stopped everything the demo started.")


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """SIGINT and SIGTERM ignored meanwhile (where signals can be handled: the main
    thread), then handled as before."""
    before: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):
            before[sig] = signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _kill(proc: subprocess.Popen[bytes], *, group: bool) -> None:
    """SIGKILL ``proc`` and, when it leads one, what is left of its process group (the
    group outlives its leader while a server's workers or a worker's pool live on)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    proc.wait()
    if group:
        _wait_group_gone(proc.pid)


def _wait_group_gone(pgid: int, timeout: float = 2.0) -> None:
    """Until the group's last member has exited (a server's forked worker, reparented
    when its master died, may take a moment): its sockets, and ports, are free then."""
    deadline = time.monotonic() + timeout
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies hold no sockets and, in a
    container without an init that reaps them, may stay for good: they do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue  # gone meanwhile, or not Linux's format
        if int(group) == pgid and state != "Z":
            return True
    return False


# The demo repository on the forge sandbox: what its releases carry (.zenodo.json wins
# over the deposit's description; the README is the rest of the archive).
FORGE_FILES = {
    ".zenodo.json": json.dumps(
        {
            "title": "Soil moisture at the Lindenberg site, 2024",
            "upload_type": "dataset",
            "description": "<p>Hourly soil moisture from 12 TDR probes at 10, 30 and 60 cm, "
            "with the scripts that clean and calibrate it.</p>",
            "creators": [
                {
                    "name": "Lovelace, Ada",
                    "affiliation": "University of Hamburg",
                    "orcid": "0000-0002-1825-0097",
                },
                {"name": "Hopper, Grace", "affiliation": "Demo Lab"},
            ],
            "license": "cc-by-4.0",
            "keywords": ["soil moisture", "hydrology", "TDR"],
            "access_right": "open",
        },
        indent=2,
    ),
    "README.md": "# Soil moisture scripts\n\nCleaning and calibration of the Lindenberg TDR "
    "probes. Each release becomes a new version of the dataset on the deposit portal.\n",
}


def post_json(url: str, data: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 (our own loopback sandbox)
        url,
        data=json.dumps(data).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        reply: dict[str, Any] = json.loads(response.read() or b"{}")
        return reply


def link_forge(forge_url: str, path: str, endpoint: str, secret: str) -> None:
    """The demo repository on the forge sandbox, and its webhook to the demo release
    source's endpoint (both made or updated in place: safe on every start)."""
    post_json(
        f"{forge_url}/_control/repos", {"forge": "github", "path": path, "files": FORGE_FILES}
    )
    post_json(
        f"{forge_url}/_control/hooks",
        {"forge": "github", "path": path, "url": endpoint, "secret": secret},
    )


def release_lines(forge_url: str, path: str, endpoint: str, secret: str) -> str:
    curl = (
        f"curl -X POST {forge_url}/_control/releases -H 'Content-Type: application/json' "
        f"""-d '{{"forge": "github", "path": "{path}", "tag": "v1.1", "deliver": true}}'"""
    )
    return f"""
  Releases in: the example deposit is linked to GitHub {path} on the forge sandbox.
    endpoint    {endpoint}
    secret      {secret}
    publish a release there with the form at {forge_url}/ , or:
      {curl}
"""


def s3_lines(s3_url: str, storage: str) -> str:
    """The banner's lines about the local S3 server, and where the portal keeps files."""
    where = (
        f"the portal's own files are in its bucket {DEMO_BUCKET} (DEMO_STORAGE=s3)"
        if storage == "s3"
        else "the portal's own files are on local disk (DEMO_STORAGE=s3 puts them here)"
    )
    return (
        f"    {'S3':<9} {s3_url}   (moto's S3 server, in memory: everything in it is "
        f"gone when it stops or restarts; the Coscine sandbox's S3 resources; {where})"
    )


def banner(url: str, sandbox_urls: dict[str, str], releases: str = "", s3: str = "") -> str:
    rows = "\n".join(
        f"    {s.label:<9} {sandbox_urls[s.kind]}   ({s.note.format(url=sandbox_urls[s.kind])})"
        for s in SANDBOXES
    )
    rows += f"\n{s3}" if s3 else ""
    kinds = "|".join(s.kind for s in REPOSITORIES)
    return f"""
  Deposit portal demo is running at {url}/

    sign in as  ada   / demo   (team member: publishing needs a curator's approval)
           or   grace / demo   (curator: the review queue, and the admin at /admin/)
           or   alan  / demo   (team admin: linked accounts and the review policy)

  Sandboxes, each at the root of its own port (the demo team's accounts use them):
{rows}
  A token each accepts: python manage.py sandbox_token {kinds}
{releases}
  Ctrl-C stops the web server, the sandboxes, the S3 server, the worker, beat and
  the embedded Redis.
"""


def main() -> None:
    host = os.environ.get("DEMO_HOST", "127.0.0.1")
    port = int(os.environ.get("DEMO_PORT", "8000"))
    for sandbox in SANDBOXES:
        os.environ.setdefault(sandbox.env, sandbox.default_url(host, port))
    os.environ.setdefault("S3_SANDBOX_URL", f"http://{host}:{port + S3_OFFSET}")
    demo_storage(os.environ)
    # The portal's own address: the release source's endpoint and e-mails' links start so.
    os.environ.setdefault("PORTAL_BASE_URL", f"http://{host}:{port}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    supervisor = Supervisor()
    supervise(supervisor, lambda: run(supervisor, host, port))


def demo_storage(environ: Any) -> str:
    """With ``DEMO_STORAGE=s3``, the settings that keep the portal's own files on the local
    S3 server (any set beforehand win); "s3" or "local"."""
    storage = environ.get("DEMO_STORAGE", "local").strip().lower() or "local"
    if storage not in ("local", "s3"):
        raise SystemExit(f"DEMO_STORAGE is {storage!r}: use local (the default) or s3.")
    if storage == "s3":
        from portal import s3server

        environ.setdefault("STORAGE_BACKEND", "s3")
        environ.setdefault("S3_ENDPOINT_URL", environ["S3_SANDBOX_URL"])
        environ.setdefault("S3_BUCKET", DEMO_BUCKET)
        environ.setdefault("S3_ACCESS_KEY_ID", s3server.ACCESS_KEY)
        environ.setdefault("S3_SECRET_ACCESS_KEY", s3server.SECRET_KEY)
        environ.setdefault("S3_REGION", s3server.REGION)
    return storage


def start_s3(supervisor: Supervisor, host: str) -> str:
    """The local S3 server, up before anything stores a file, with the portal's bucket
    when it keeps its files there (made again after a restart: moto starts empty); its
    URL."""
    from django.conf import settings

    from portal import processes, s3server

    url: str = settings.S3_SANDBOX_URL
    args = processes.s3(host, urlsplit(url).port or 80)
    default = cast(dict[str, Any], settings.STORAGES["default"])
    options: dict[str, Any] = default.get("OPTIONS", {})
    bucket = options.get("bucket_name") if options.get("endpoint_url") == url else None

    def launch() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(args, cwd=ROOT, start_new_session=True)
        try:
            if bucket:
                s3server.ensure_bucket(url, bucket)
            else:
                s3server.wait_until_up(url)
        except BaseException:  # not yet the Supervisor's to stop: stop it here
            _kill(proc, group=True)
            raise
        return proc

    supervisor.adopt("S3 server", launch)
    return url


def supervise(supervisor: Supervisor, body: Callable[[], None]) -> None:
    """Run ``body`` (start the children, then ``supervisor.run``) and stop every child
    when it ends: on Ctrl-C, on SIGTERM, or on an error while starting up."""
    signal.signal(signal.SIGTERM, _raise_stop)  # Ctrl-C raises KeyboardInterrupt
    try:
        body()
    except (KeyboardInterrupt, Stop):
        pass
    finally:
        supervisor.stop()


def run(supervisor: Supervisor, host: str, port: int) -> None:
    from django.conf import settings

    from portal import embedded_redis, processes

    if settings.EMBEDDED_REDIS:
        socket = settings.EMBEDDED_REDIS_SOCKET
        supervisor.adopt("embedded Redis", lambda: embedded_redis.ensure_running(socket))
        print(f"Embedded Redis on {socket}")

    s3_url = start_s3(supervisor, host)
    manage("migrate", "--no-input", "-v", "0")
    tokens = [
        f"{kind}={manage('sandbox_token', kind, '--user', 'demo-lab', capture=True)}"
        for kind in (s.kind for s in REPOSITORIES)
    ]
    manage("seed_demo", *[arg for t in tokens for arg in ("--account", t)])

    concurrency = int(os.environ.get("WORKER_CONCURRENCY", "4"))
    supervisor.start("Celery worker", processes.worker("demo-worker", concurrency=concurrency))
    supervisor.start("Celery beat", processes.beat(settings.VAR_DIR / "celerybeat-schedule"))
    urls: dict[str, str] = settings.SANDBOX_URLS
    for sandbox in SANDBOXES:
        sandbox_port = urlsplit(urls[sandbox.kind]).port or 80
        supervisor.start(
            f"{sandbox.label} sandbox",
            processes.sandbox(sandbox.kind, host, sandbox_port, graceful_timeout=GRACE),
        )
    supervisor.start("web server", processes.web(host, port, graceful_timeout=GRACE))
    for url in urls.values():
        wait_for(f"{url}/")
    wait_for(f"http://{host}:{port}/login/")
    manage("verify_accounts")
    storage = "s3" if settings.STORAGE_BACKEND == "s3" else "local"
    releases = demo_releases(urls["forge"])
    print(banner(f"http://{host}:{port}", urls, releases, s3_lines(s3_url, storage)), flush=True)
    supervisor.run()


def demo_releases(forge_url: str) -> str:
    """Link the forge sandbox to the demo release source; the banner's lines about it."""
    from django.conf import settings
    from django.urls import reverse

    from deposits.management.commands.seed_demo import DEMO_KEY, DEMO_REPOSITORY, DEMO_SECRET

    endpoint = settings.PORTAL_BASE_URL + reverse("release-hook", kwargs={"key": DEMO_KEY})
    try:
        link_forge(forge_url, DEMO_REPOSITORY, endpoint, DEMO_SECRET)
    except (OSError, ValueError) as exc:
        return f"\n  The forge sandbox could not be set up ({exc}): releases in are not linked.\n"
    return release_lines(forge_url, DEMO_REPOSITORY, endpoint, DEMO_SECRET)


if __name__ == "__main__":
    main()
