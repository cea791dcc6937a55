"""The demo's supervisor (portal/demo.py): a child that exits is started again, one that
keeps crashing is left stopped with the reason, and stopping ends everything, and frees
every port, within 10 s. Cheap stand-in children here; one run of the real demo last."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.demo import Supervisor
from portal.sandboxes import S3_OFFSET
from tests.livesystem import free_port, free_ports, wait_until

ROOT = Path(__file__).resolve().parent.parent
SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
CRASHER = [sys.executable, "-c", "import sys; sys.exit(3)"]
DEMO_PORTS = 1 + S3_OFFSET  # the portal, each sandbox, the S3 server
# A server like gunicorn: a master and a worker share the listening socket and neither
# leaves on SIGTERM (a worker finishing a long request).
STUBBORN_SERVER = """
import os, signal, socket, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen()
os.fork()
time.sleep(300)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is not alive
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def supervisor() -> Iterator[Supervisor]:
    sup = Supervisor(out=io.StringIO())
    yield sup
    sup.stop()


def said(sup: Supervisor) -> str:
    assert isinstance(sup.out, io.StringIO)
    return sup.out.getvalue()


def test_a_child_that_was_killed_is_started_again(supervisor):
    child = supervisor.start("Celery worker", SLEEPER)
    assert child.proc is not None
    first = child.proc.pid
    os.killpg(first, signal.SIGKILL)
    wait_until(lambda: child.proc.poll() is not None, 10, "the child to die")

    supervisor.check()

    assert child.proc.pid != first and child.proc.poll() is None
    assert "The Celery worker exited (status -9); starting it again." in said(supervisor)


def test_a_child_that_keeps_crashing_is_left_stopped_with_the_reason(supervisor):
    child = supervisor.start("Celery beat", CRASHER)

    starts = 1
    for _ in range(10):
        wait_until(lambda: child.proc.poll() is not None, 10, "the child to exit")
        before = child.proc
        supervisor.check()
        starts += child.proc is not before
        if child.given_up:
            break

    assert child.given_up and starts == 3
    assert "The Celery beat exited 3 times within 10 s of starting (last status 3); " in said(
        supervisor
    )
    assert "not starting it again" in said(supervisor)


def test_stopping_ends_every_child_and_frees_the_ports_within_10_seconds(supervisor):
    ports = free_ports(2)
    servers = [
        supervisor.start(f"server {port}", [sys.executable, "-c", STUBBORN_SERVER, str(port)])
        for port in ports
    ]
    supervisor.start("Celery worker", SLEEPER)
    for port in ports:
        wait_until(lambda port=port: listening(port), 10, f"a server on {port}")
    pids = [c.proc.pid for c in supervisor.children]

    started = time.monotonic()
    supervisor.stop()

    assert time.monotonic() - started < 10
    assert not any(alive(pid) for pid in pids)
    assert all(port_free(port) for port in ports), "a port is still held"
    assert servers[0].proc.returncode == -signal.SIGKILL  # it ignored SIGTERM
    assert "Stopped everything the demo started." in said(supervisor)


SUPERVISED = """
import sys
from portal.demo import Supervisor, supervise
sup = Supervisor()
def body():
    sup.start("server", [sys.executable, "-c", sys.argv[1], sys.argv[2]])
    print("started", flush=True)
    sup.run(every=0.2)
supervise(sup, body)
"""


def test_sigterm_to_the_demo_stops_everything_within_10_seconds():
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-c", SUPERVISED, STUBBORN_SERVER, str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert demo.stdout is not None and demo.stdout.readline().strip() == "started"
        wait_until(lambda: listening(port), 10, "the server")
        started = time.monotonic()
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=15)
        assert time.monotonic() - started < 10
        assert port_free(port)
        assert "Stopped everything the demo started." in demo.stdout.read()
    finally:
        demo.kill()
        demo.wait()


def children_of(pid: int) -> dict[int, str]:
    """pid -> command line of each process whose parent is ``pid``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError, ValueError):
            continue
    return {k: v.decode(errors="replace") for k, v in found.items()}


def demo_ports() -> int:
    """A port with the next ones free as well: the demo's portal, its sandboxes and the
    local S3 server (DEMO_PORT+1 .. DEMO_PORT+S3_OFFSET)."""
    for _ in range(50):
        port = free_port()
        if port < 65000 and all(port_free(port + i) for i in range(1, DEMO_PORTS)):
            return port
    raise AssertionError(f"no {DEMO_PORTS} free ports in a row")


@pytest.mark.e2e
def test_the_demo_starts_a_killed_worker_again_and_ctrl_c_stops_it_all(tmp_path):
    port = demo_ports()
    env = {k: v for k, v in os.environ.items() if not k.endswith(("REDIS_URL", "SANDBOX_URL"))}
    env.pop("CELERY_BROKER_URL", None)
    env.update(
        DEMO_PORT=str(port),
        PORTAL_VAR_DIR=str(tmp_path),  # its own embedded Redis and database
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        WORKER_CONCURRENCY="1",
        PYTHONUNBUFFERED="1",
    )
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "portal.demo"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives it
        )
    try:
        wait_until(lambda: b"demo is running at" in log.read_bytes(), 240, "the demo")

        def worker() -> int | None:
            pids = [p for p, cmd in children_of(demo.pid).items() if " worker " in cmd]
            return pids[0] if pids else None

        first = worker()
        assert first is not None
        everything = list(children_of(demo.pid))
        os.killpg(first, signal.SIGKILL)
        wait_until(
            lambda: b"The Celery worker exited (status -9); starting" in log.read_bytes(),
            20,
            "the restart line",
        )
        second = wait_until(lambda: worker() not in (None, first) and worker(), 20, "a new worker")
        everything.append(second)

        started = time.monotonic()
        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C in its terminal
        demo.wait(timeout=20)
        assert time.monotonic() - started < 10, log.read_text()[-3000:]
        assert not any(alive(pid) for pid in everything)
        assert all(port_free(port + i) for i in range(DEMO_PORTS)), "a port is still held"
        assert b"Stopped everything the demo started." in log.read_bytes()
    finally:  # a failed run leaves nothing behind either
        for pid in [demo.pid, *children_of(demo.pid)]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        demo.wait()
