"""`make demo`: the whole system on one machine, with nothing installed beforehand.

Starts (as separate processes) the embedded Redis unless REDIS_URL is set, a Celery
worker, Celery beat and the web server (which also serves the sandboxes); migrates and
seeds the demo team; prints the URL and the logins; Ctrl-C stops everything it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own loopback URL)
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the web server did not answer at {url} within {timeout:.0f}s")


def main() -> None:
    host = os.environ.get("DEMO_HOST", "127.0.0.1")
    port = os.environ.get("DEMO_PORT", "8000")
    os.environ.setdefault("SANDBOX_BASE_URL", f"http://{host}:{port}/sandbox")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.conf import settings

    from portal import embedded_redis, processes

    procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def stop(*_signal: object) -> None:
        for _, proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for _, proc in reversed(procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        print("\nStopped everything the demo started.")
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    if settings.EMBEDDED_REDIS:
        redis_proc = embedded_redis.ensure_running(settings.EMBEDDED_REDIS_SOCKET)
        if redis_proc:
            procs.append(("embedded Redis", redis_proc))
        print(f"Embedded Redis on {settings.EMBEDDED_REDIS_SOCKET}")

    manage("migrate", "--no-input", "-v", "0")
    tokens = [
        f"{kind}={manage('sandbox_token', kind, '--user', 'demo-lab', capture=True)}"
        for kind in ("zenodo", "datameta")
    ]
    manage("seed_demo", *[arg for t in tokens for arg in ("--account", t)])

    def start(name: str, args: list[str]) -> None:
        procs.append((name, subprocess.Popen(args, cwd=ROOT)))

    concurrency = int(os.environ.get("WORKER_CONCURRENCY", "4"))
    start("Celery worker", processes.worker("demo-worker", concurrency=concurrency))
    start("Celery beat", processes.beat(settings.VAR_DIR / "celerybeat-schedule"))
    start("web server", processes.web(host, port))
    wait_for(f"http://{host}:{port}/login/")
    manage("verify_accounts")
    print(
        f"""
  Deposit portal demo is running at http://{host}:{port}/

    sign in as  ada   / demo   (team member)
           or   grace / demo   (curator; the admin is at /admin/)

  Ctrl-C stops the web server, the worker, beat and the embedded Redis.
""",
        flush=True,
    )
    while True:
        for name, proc in procs:
            if proc.poll() is not None:
                print(f"The {name} exited (status {proc.returncode}); stopping.", file=sys.stderr)
                stop()
        time.sleep(1)


if __name__ == "__main__":
    main()
