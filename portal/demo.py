"""`make demo`: the whole system on one machine, with nothing installed beforehand.

Starts (as separate processes) the embedded Redis unless REDIS_URL is set, a Celery
worker, Celery beat, the web server on DEMO_PORT and each sandbox at the root of a port of
its own (portal/sandboxes.py: DEMO_PORT+1 Zenodo, DEMO_PORT+2 DataMeta, unless
ZENODO_SANDBOX_URL or DATAMETA_SANDBOX_URL say otherwise); migrates and seeds the demo team; prints the URLs and
the logins; Ctrl-C stops everything it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from portal.sandboxes import SANDBOXES

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


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


Procs = list[tuple[str, subprocess.Popen[bytes]]]


def stop_all(procs: Procs) -> None:
    """Terminate what was started, newest first, then kill whatever is left of each one's
    process group (a server's workers included) after at most 10 s.

    Each process has a session of its own, so Ctrl-C reaches only the demo and every
    server gets a single SIGTERM from here: a gunicorn worker signalled both by the
    terminal and by its master can hang on exit and keep its port.
    """
    for _, proc in reversed(procs):
        if proc.poll() is None:
            proc.terminate()
    for _, proc in reversed(procs):
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    print("\nStopped everything the demo started.")
    sys.exit(0)


def banner(url: str, sandbox_urls: dict[str, str]) -> str:
    rows = "\n".join(
        f"    {s.label:<9} {sandbox_urls[s.kind]}   ({s.note.format(url=sandbox_urls[s.kind])})"
        for s in SANDBOXES
    )
    kinds = "|".join(s.kind for s in SANDBOXES)
    return f"""
  Deposit portal demo is running at {url}/

    sign in as  ada   / demo   (team member)
           or   grace / demo   (curator; the admin is at /admin/)

  Sandboxes, each at the root of its own port (the demo team's accounts use them):
{rows}
  A token each accepts: python manage.py sandbox_token {kinds}

  Ctrl-C stops the web server, the sandboxes, the worker, beat and the embedded Redis.
"""


def main() -> None:
    host = os.environ.get("DEMO_HOST", "127.0.0.1")
    port = int(os.environ.get("DEMO_PORT", "8000"))
    for sandbox in SANDBOXES:
        os.environ.setdefault(sandbox.env, sandbox.default_url(host, port))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.conf import settings

    from portal import embedded_redis, processes

    procs: Procs = []
    signal.signal(signal.SIGINT, lambda *_: stop_all(procs))
    signal.signal(signal.SIGTERM, lambda *_: stop_all(procs))

    if settings.EMBEDDED_REDIS:
        redis_proc = embedded_redis.ensure_running(settings.EMBEDDED_REDIS_SOCKET)
        if redis_proc:
            procs.append(("embedded Redis", redis_proc))
        print(f"Embedded Redis on {settings.EMBEDDED_REDIS_SOCKET}")

    manage("migrate", "--no-input", "-v", "0")
    tokens = [
        f"{kind}={manage('sandbox_token', kind, '--user', 'demo-lab', capture=True)}"
        for kind in settings.SANDBOX_URLS
    ]
    manage("seed_demo", *[arg for t in tokens for arg in ("--account", t)])

    def start(name: str, args: list[str]) -> None:
        procs.append((name, subprocess.Popen(args, cwd=ROOT, start_new_session=True)))

    concurrency = int(os.environ.get("WORKER_CONCURRENCY", "4"))
    start("Celery worker", processes.worker("demo-worker", concurrency=concurrency))
    start("Celery beat", processes.beat(settings.VAR_DIR / "celerybeat-schedule"))
    urls: dict[str, str] = settings.SANDBOX_URLS
    for sandbox in SANDBOXES:
        url = urls[sandbox.kind]
        start(
            f"{sandbox.label} sandbox",
            processes.sandbox(sandbox.kind, host, urlsplit(url).port or 80),
        )
    start("web server", processes.web(host, port))
    for url in urls.values():
        wait_for(f"{url}/")
    wait_for(f"http://{host}:{port}/login/")
    manage("verify_accounts")
    print(banner(f"http://{host}:{port}", urls), flush=True)
    while True:
        for name, proc in procs:
            if proc.poll() is not None:
                print(f"The {name} exited (status {proc.returncode}); stopping.", file=sys.stderr)
                stop_all(procs)
        time.sleep(1)


if __name__ == "__main__":
    main()
