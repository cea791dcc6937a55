"""``make soak``: hundreds of deposits sent to both sandboxes through faults, kills and a
Redis restart, then checked against the sandboxes' own records. Not part of ``make test``.

    python -m bench.soak                                  # full scale, up to 30 minutes
    SOAK_DEPOSITS=20 SOAK_BIG_MB=5 python -m bench.soak   # a few minutes (development run)

The whole system runs as real processes (``tests/livesystem.py``: gunicorn for the
portal and for each sandbox, Celery workers and beat) on its own database and Redis
(``var/soak/`` unless ``BENCH_VAR_DIR`` says otherwise; it is emptied first). The
sandboxes fail requests at random rates (``sandbox/fault_rates.py``), a chaos thread
SIGKILLs one worker every ``SOAK_KILL_EVERY`` seconds and starts it again as a
supervisor would, Redis is restarted once midway, and signed-in users browse and edit
through the portal's pages while one of them presses Publish on every target.

Figures go to ``bench/soak.json`` and the table between the soak markers of
``bench/README.md``; the summary printed at the end lists every failure found (which
deposit, which target, what). See bench/README.md, section "Soak", for the method.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import random
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The soak's own directory (its database is flushed), never the benchmarks' or the demo's.
os.environ.setdefault("BENCH_VAR_DIR", str(ROOT / "var" / "soak"))

import requests  # noqa: E402

from bench import common  # noqa: E402
from bench.soak_load import PASSWORD, Browsing, Portal, Tally, User, press_publish  # noqa: E402
from bench.soak_verify import Expected, verify  # noqa: E402
from tests.livesystem import LiveSystem, wait_until  # noqa: E402


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


@dataclass(frozen=True)
class Scale:
    """The knobs (environment variables ``SOAK_*``); the defaults are the issue's soak."""

    deposits: int = _env_int("SOAK_DEPOSITS", 500)
    big_mb: int = _env_int("SOAK_BIG_MB", 50)
    big_files: int = _env_int("SOAK_BIG_FILES", 10)
    minutes_max: float = _env_float("SOAK_MINUTES_MAX", 30)
    workers: int = _env_int("SOAK_WORKERS", 4)
    concurrency: int = _env_int("SOAK_WORKER_CONCURRENCY", 2)
    users: int = _env_int("SOAK_USERS", 50)
    think_seconds: float = _env_float("SOAK_THINK_SECONDS", 3)
    kill_every: float = _env_float("SOAK_KILL_EVERY", 30)
    redis_down_seconds: float = _env_float("SOAK_REDIS_DOWN_SECONDS", 5)
    read_timeout: float = _env_float("SOAK_READ_TIMEOUT", 10)
    settle_seconds: float = _env_float("SOAK_SETTLE_SECONDS", 60)
    zenodo_per_minute: int = _env_int("SOAK_ZENODO_PER_MINUTE", 1000)
    datameta_per_minute: int = _env_int("SOAK_DATAMETA_PER_MINUTE", 1000)
    seed: int = _env_int("SOAK_SEED", 1)

    @property
    def fault_rates(self) -> str:
        default = (
            "error=0.10,rate_limit=0.05,reset=0.02,slow_create=0.01,"
            f"slow_seconds={self.read_timeout + 5:g},seed={self.seed}"
        )
        return os.environ.get("SOAK_FAULT_RATES") or default

    @property
    def full(self) -> bool:
        """Whether this is the issue's soak (else a development run at reduced scale)."""
        return (self.deposits, self.big_mb, self.workers, self.users) == (500, 50, 4, 50) and (
            self.fault_rates.startswith("error=0.10,rate_limit=0.05,reset=0.02,slow_create=0.01")
        )


SCALE = Scale()
FIGURES: dict[str, tuple[str, Any] | None] = {
    "soak_published_ratio": ("==", 1.0),
    "soak_duplicates_left": ("==", 0),
    "soak_orphans_cleaned": None,
    "soak_files_wrong": ("==", 0),
    "soak_identifiers_lost": ("==", 0),
    "soak_stuck": ("==", 0),
    "soak_portal_5xx": ("==", 0),
    "soak_minutes": None,
}
RESULTS = common.BENCH_DIR / "soak.json"
README = common.BENCH_DIR / "README.md"
START, END = "<!-- soak:start -->", "<!-- soak:end -->"
# Two-letter + two-digit sample ids (the DataMeta sandbox's SampleID pattern), unique on
# the site, so each metadataset names its deposit.
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# --------------------------------------------------------------------------- the system


class SoakSystem(LiveSystem):
    """``LiveSystem`` with two web workers (for the users) and workers that can be killed
    and started again under the same name, each start waiting for its own "ready".
    ``SOAK_PORT`` puts the portal there and the sandboxes on the next ports (else any
    free ports)."""

    def __init__(self, logs: Path, **env: str) -> None:
        super().__init__(logs, **env)
        base = _env_int("SOAK_PORT", 0)
        if base:
            from portal.sandboxes import SANDBOXES

            self.port = base
            self.url = f"http://127.0.0.1:{base}"
            self.sandbox_ports = {s.kind: base + 1 + n for n, s in enumerate(SANDBOXES)}
            self.sandbox_urls = {k: f"http://127.0.0.1:{p}" for k, p in self.sandbox_ports.items()}
            self.zenodo_url = self.sandbox_urls["zenodo"]
            self.datameta_url = self.sandbox_urls["datameta"]
            self.env.update({s.env: self.sandbox_urls[s.kind] for s in SANDBOXES})

    def start_web(self) -> None:
        from portal import processes

        for kind, port in self.sandbox_ports.items():
            self._spawn(f"sandbox-{kind}", processes.sandbox(kind, "127.0.0.1", port, workers=1))
        self._spawn("web", processes.web("127.0.0.1", self.port, workers=2, threads=8))
        wait_until(lambda: self._answers(f"{self.url}/login/"), 60, "the web server")
        wait_until(lambda: self._answers(f"{self.zenodo_url}/"), 60, "the Zenodo sandbox")
        wait_until(lambda: self._answers(f"{self.datameta_url}/api"), 60, "the DataMeta sandbox")

    def start_worker(self, name: str = "worker", concurrency: int = 2) -> Any:
        from portal import processes

        log = self.logs / f"{name}.log"
        offset = log.stat().st_size if log.exists() else 0
        proc = self._spawn(
            name, processes.worker(f"{name}-{self.port}", concurrency=concurrency, quiet=True)
        )

        def ready() -> bool:
            with log.open("rb") as stream:
                stream.seek(offset)
                return b"ready." in stream.read()

        wait_until(ready, 90, f"{name} ready")
        return proc


def system_env() -> dict[str, str]:
    """Settings of every process the soak starts; the environment may override each."""
    wanted = {
        "HTTP_READ_TIMEOUT": f"{SCALE.read_timeout:g}",
        "LEASE_SECONDS": "10",
        "RECONCILE_EVERY_SECONDS": "5",
        "RETRY_BACKOFF_BASE": "1",
        "RETRY_BACKOFF_MAX": "30",
        "CREATE_RETRY_GRACE_SECONDS": "15",
        # the watchdog sweeps within the settle time, so orphans it removes are counted
        "ORPHAN_SWEEP_EVERY_SECONDS": "30",
    }
    return {k: os.environ.get(k, v) for k, v in wanted.items()}


def control(url: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """A sandbox's ``/_control`` (GET without a payload)."""
    if payload is None:
        reply = requests.get(f"{url}/_control", timeout=30)
    else:
        reply = requests.post(f"{url}/_control", json=payload, timeout=30)
    reply.raise_for_status()
    return dict(reply.json())


def set_faults(system: LiveSystem, rates: str) -> dict[str, Any]:
    """The same random rates in both sandboxes; returns what each says it now has."""
    zenodo = control(system.zenodo_url, {"fault_rates": rates})["fault_rates"]
    datameta = control(system.datameta_url, {"action": "fault_rates", "rates": rates})
    return {"zenodo": zenodo, "datameta": datameta["fault_rates"]}


def restart_redis() -> str:
    """Stop the embedded Redis (everything in it is lost: it keeps no snapshot), wait,
    start it again on the same socket. An external Redis is left alone."""
    from django.conf import settings

    from portal import embedded_redis

    if not settings.EMBEDDED_REDIS or common._embedded_redis is None:
        return "skipped: REDIS_URL names a Redis this run did not start"
    common._embedded_redis.terminate()
    common._embedded_redis.wait(timeout=30)
    time.sleep(SCALE.redis_down_seconds)
    common._embedded_redis = embedded_redis.ensure_running(settings.EMBEDDED_REDIS_SOCKET)
    return f"restarted after {SCALE.redis_down_seconds:g} s down"


# --------------------------------------------------------------------------- seeding


def seed_people(team: Any) -> dict[str, int]:
    """The publisher (a team admin) and the browsing users, each with a draft of their own
    (user name: its deposit id)."""
    from django.contrib.auth import get_user_model

    from deposits.models import Deposit, Membership

    users = get_user_model().objects
    publisher = users.create_user("soak-publisher", password=PASSWORD)
    Membership.objects.create(team=team, user=publisher, role="admin")
    drafts = {}
    for n in range(SCALE.users):
        name = f"soak-user-{n:02d}"
        user = users.create_user(name, password=PASSWORD)
        Membership.objects.create(team=team, user=user, role="member")
        draft = Deposit.objects.create(
            team=team, created_by=user, metadata=common.record(f"Draft of {name}")
        )
        drafts[name] = draft.pk
    return drafts


def datameta_account(team: Any, system: LiveSystem) -> Any:
    """A DataMeta account on the sandbox, verified by a worker (which fetches the fields)."""
    import io

    from django.core.management import call_command

    from deposits import lifecycle
    from deposits.models import LinkedAccount

    out = io.StringIO()
    call_command("sandbox_token", "datameta", stdout=out)
    account = LinkedAccount(
        team=team,
        kind="datameta",
        label="DataMeta (local sandbox)",
        base_url=system.datameta_url,
        status="unverified",
        rate_windows=[{"limit": SCALE.datameta_per_minute, "seconds": 60}],
    )
    account.set_token(out.getvalue().strip())
    account.save()
    lifecycle.verify_account(account, user=None)

    def verified() -> bool:
        account.refresh_from_db()
        return account.status == "ok" and bool(account.schema.get("definitions"))

    wait_until(verified, 120, "the DataMeta account to be verified")
    return account


def plan_files(rng: random.Random) -> list[int]:
    """Files per deposit: 1 to 5."""
    return [rng.randint(1, 5) for _ in range(SCALE.deposits)]


def sample_id(n: int) -> str:
    return f"{LETTERS[n // 2600 % 26]}{LETTERS[n // 100 % 26]}{n % 100:02d}"


def seed_deposits(team: Any, accounts: dict[str, Any], rng: random.Random) -> list[Expected]:
    """The deposits, each with both targets validated to ready."""
    from deposits import lifecycle
    from deposits.models import Deposit, State, Target
    from deposits.repositories.datameta import sheets
    from tests.factories import add_file

    counts = plan_files(rng)
    slots = [(i, j) for i, n in enumerate(counts) for j in range(n)]
    big = set(rng.sample(slots, min(SCALE.big_files, len(slots))))
    expected, n = [], 0
    for i, files in enumerate(counts):
        title = f"Soak deposit {i:04d}"
        deposit = Deposit.objects.create(team=team, metadata=common.record(title))
        names, rows = {}, []
        for j in range(files):
            sample = sample_id(n)
            n += 1
            name = f"{sample}_R1.fastq.gz"
            size = SCALE.big_mb << 20 if (i, j) in big else rng.randint(1_000, 200_000)
            names[name] = add_file(deposit, name, rng.randbytes(size)).md5
            rows.append({"SampleID": sample, "ZIPCode": f"{100 + j}", "FileR1": name})
        zenodo = Target.objects.create(deposit=deposit, account=accounts["zenodo"])
        datameta = Target.objects.create(deposit=deposit, account=accounts["datameta"])
        sheets.save_rows(datameta, rows, user=None)
        lifecycle.revalidate(deposit)
        for target in (zenodo, datameta):
            target.refresh_from_db()
            if target.state != State.READY:
                raise RuntimeError(f"{title} is not ready for {target.account}: {target.problems}")
        expected.append(
            Expected(
                deposit.pk,
                title,
                names,
                {r["FileR1"]: r["SampleID"] for r in rows},
                {"zenodo": zenodo.pk, "datameta": datameta.pk},
            )
        )
    return expected


# --------------------------------------------------------------------------- chaos


class Chaos(threading.Thread):
    """SIGKILL one worker every ``kill_every`` seconds (each in turn) and start it again."""

    def __init__(self, system: SoakSystem, names: list[str]) -> None:
        super().__init__(name="chaos", daemon=True)
        self.system, self.names = system, names
        self.stopping = threading.Event()
        self.kills: list[dict[str, Any]] = []

    def run(self) -> None:
        turn = 0
        while not self.stopping.wait(SCALE.kill_every):
            name = self.names[turn % len(self.names)]
            turn += 1
            with contextlib.suppress(ProcessLookupError, KeyError):  # it had died already
                self.system.kill(name)
            began = time.monotonic()
            try:
                self.system.start_worker(name, concurrency=SCALE.concurrency)
            except AssertionError as exc:
                common.log(f"chaos: {name} did not come back: {exc}")
            self.kills.append(
                {
                    "at": round(time.time(), 1),
                    "worker": name,
                    "back_after_s": round(time.monotonic() - began, 1),
                }
            )
            common.log(f"chaos: SIGKILLed {name}, started again")


# --------------------------------------------------------------------------- the run


def target_states(ids: list[int]) -> dict[str, int]:
    from collections import Counter

    from deposits.models import Target

    return dict(Counter(Target.objects.filter(pk__in=ids).values_list("state", flat=True)))


def publish_everything(system: LiveSystem, expected: list[Expected], tally: Tally) -> list[int]:
    """The publisher signs in and presses Publish on every target; returns those it could
    not queue."""
    portal = Portal(system.url, tally)
    if not portal.sign_in("soak-publisher", PASSWORD):
        raise RuntimeError("the publisher could not sign in to the portal")
    refused = []
    for deposit in expected:
        for target_id in deposit.targets.values():
            if not press_publish(portal, target_id):
                refused.append(target_id)
    return refused


def wait_for_the_end(ids: list[int], started: float, redis: dict[str, Any]) -> bool:
    """Until every target is final (True) or the time is up (False); restarts Redis once
    midway."""
    from deposits.models import IN_FLIGHT_STATES, Target

    deadline = started + SCALE.minutes_max * 60
    last_log = 0.0
    while time.monotonic() < deadline:
        left = Target.objects.filter(pk__in=ids, state__in=IN_FLIGHT_STATES).count()
        if left == 0:
            return True
        elapsed = time.monotonic() - started
        if not redis and (left <= len(ids) / 2 or elapsed >= SCALE.minutes_max * 30):
            common.log(f"restarting Redis ({left} of {len(ids)} targets in flight)")
            redis.update(at_minute=round(elapsed / 60, 2), in_flight=left)
            redis["outcome"] = restart_redis()
            redis["back_at_minute"] = round((time.monotonic() - started) / 60, 2)
        if time.monotonic() - last_log > 30:
            last_log = time.monotonic()
            common.log(f"{elapsed / 60:.1f} min: {target_states(ids)}")
        time.sleep(2)
    return False


class Soak:
    """One soak: the system, the people, the chaos, and what they saw."""

    def __init__(self) -> None:
        logs = common.VAR / "logs" / "soak"
        shutil.rmtree(logs, ignore_errors=True)
        logs.mkdir(parents=True)
        self.system = SoakSystem(logs, **system_env())
        self.rng = random.Random(SCALE.seed)
        self.tally = Tally()
        self.users: list[User] = []
        self.workers = [f"worker-{n}" for n in range(SCALE.workers)]
        self.chaos = Chaos(self.system, self.workers)
        self.redis: dict[str, Any] = {}
        self.expected: list[Expected] = []
        self.drafts: dict[str, int] = {}
        self.refused: list[int] = []
        self.minutes = 0.0
        self.finished = False
        self.injected: dict[str, Any] = {}
        self.rates_at_end: dict[str, Any] = {}

    @property
    def ids(self) -> list[int]:
        return [t for e in self.expected for t in e.targets.values()]

    def setup(self) -> None:
        """Servers, workers and beat up; the team, its accounts, users and deposits seeded."""
        from deposits.models import Team

        system = self.system
        system.start_web()
        limit = {"rate_limit_per_minute": SCALE.zenodo_per_minute}
        control(system.zenodo_url, {"wipe": True, "config": limit})
        control(system.datameta_url, {"action": "reset", "keys": True})
        for name in self.workers:
            system.start_worker(name, concurrency=SCALE.concurrency)
        system.start_beat()
        team = Team.objects.create(name="Soak lab", slug="soak")
        self.drafts = seed_people(team)
        zenodo = common.zenodo_account(
            team,
            system,  # type: ignore[arg-type]
            common.sandbox_token("soak-lab"),
            [{"limit": SCALE.zenodo_per_minute, "seconds": 60}],
        )
        accounts = {"zenodo": zenodo, "datameta": datameta_account(team, system)}
        with common.timed(f"seeding {SCALE.deposits} deposits"):
            self.expected = seed_deposits(team, accounts, self.rng)

    def load(self) -> None:
        """Faults on, users browsing, Publish pressed, workers killed, Redis restarted;
        until every target is final or the time is up, then a last settling while."""
        from deposits.views.dashboard import PER_PAGE

        rates = set_faults(self.system, SCALE.fault_rates)
        common.log(f"fault rates: {rates['zenodo']}")
        pages = math.ceil((len(self.expected) + len(self.drafts)) / PER_PAGE)
        browsing = Browsing(
            [e.deposit_id for e in self.expected], self.ids, self.drafts, SCALE.think_seconds, pages
        )
        self.users = [
            User(self.system.url, name, browsing, self.tally, seed=SCALE.seed * 1000 + n)
            for n, name in enumerate(self.drafts)
        ]
        for user in self.users:
            user.start()
        started = time.monotonic()
        self.chaos.start()
        with common.timed("pressing Publish on every target"):
            self.refused = publish_everything(self.system, self.expected, self.tally)
        self.finished = wait_for_the_end(self.ids, started, self.redis)
        self.minutes = (time.monotonic() - started) / 60
        self.chaos.stopping.set()
        self.chaos.join(timeout=120)
        with common.timed(f"settling for {SCALE.settle_seconds:g} s (the watchdog's last rounds)"):
            time.sleep(SCALE.settle_seconds)
        self.injected = injected_counts(self.system)
        self.rates_at_end = set_faults(self.system, "")

    def stop(self) -> None:
        for user in self.users:
            user.stopping.set()
        self.chaos.stopping.set()
        for user in self.users:
            user.join(timeout=70)
        if self.chaos.is_alive():
            self.chaos.join(timeout=120)
        self.system.stop()

    def outcome(self) -> dict[str, Any]:
        """The figures and their details, from the sandboxes' records and the portal's."""
        from deposits.models import Event

        verdict = verify(self.expected)
        ids = self.ids
        tally = self.tally
        figures = {
            "soak_published_ratio": round(verdict.published / max(verdict.pairs, 1), 4),
            "soak_duplicates_left": verdict.duplicates_left,
            "soak_orphans_cleaned": Event.objects.filter(
                kind="orphan_deleted", target_id__in=ids
            ).count(),
            "soak_files_wrong": verdict.files_wrong,
            "soak_identifiers_lost": verdict.identifiers_lost,
            "soak_stuck": verdict.stuck,
            "soak_portal_5xx": len(tally.server_errors),
            "soak_minutes": round(self.minutes, 1),
        }
        details = {
            "scale": {**dataclasses.asdict(SCALE), "fault_rates": SCALE.fault_rates},
            "full_scale": SCALE.full,
            "settings": system_env(),
            "all_final_before_the_deadline": self.finished,
            "deposits": len(self.expected),
            "files": sum(len(e.files) for e in self.expected),
            "bytes": sum(f.size for f in publisher_files(self.expected)),
            "targets": verdict.pairs,
            "target_states": target_states(ids),
            "failed_targets": verdict.failed,
            "publish_not_queued": self.refused,
            "faults_injected": self.injected,
            "fault_rates_in_force_at_end": self.rates_at_end,
            "worker_kills": len(self.chaos.kills),
            "kills": self.chaos.kills,
            "redis_restart": self.redis,
            "portal_statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
            "portal_5xx": tally.server_errors[:100],
            "portal_connection_errors": len(tally.connection_errors),
            "portal_gets_resent_after_a_keepalive_reset": tally.resent_after_reset,
            "portal_connection_error_samples": tally.connection_errors[:20],
            "edits_saved": tally.edits_saved,
            "edits_not_saved": tally.edits_refused,
            "failures": verdict.failures,
            "unapplied_migrations_at_end": unapplied_migrations(),
        }
        return {"figures": figures, "details": details}


def run() -> dict[str, Any]:
    common.fresh_state()
    shutil.rmtree(common.VAR / "sandbox-datameta", ignore_errors=True)
    soak = Soak()
    try:
        soak.setup()
        soak.load()
    finally:
        soak.stop()
    return soak.outcome()


def unapplied_migrations() -> list[str]:
    """Migrations on disk that the soak's database lacks: the code changed during the run
    (workers started again by the chaos thread then run code the database does not fit)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _ in plan]


def publisher_files(expected: list[Expected]) -> list[Any]:
    from deposits.models import DepositFile

    return list(DepositFile.objects.filter(deposit_id__in=[e.deposit_id for e in expected]))


def injected_counts(system: LiveSystem) -> dict[str, Any]:
    """How many faults each sandbox injected at random, by kind (its own counters)."""
    with contextlib.suppress(requests.RequestException):
        zenodo = control(system.zenodo_url)["counters"]
        datameta = control(system.datameta_url)["counters"]
        return {
            "zenodo": zenodo.get("injected", {}),
            "zenodo_requests": zenodo.get("requests"),
            "datameta": {
                k.removeprefix("injected "): v
                for k, v in datameta.items()
                if k.startswith("injected ")
            },
            "datameta_requests": sum(
                v for k, v in datameta.items() if not k.startswith("injected ")
            ),
        }
    return {}


# --------------------------------------------------------------------------- reporting


def met(name: str, value: Any) -> bool | None:
    goal = FIGURES.get(name)
    if goal is None or value is None:
        return None
    op, target = goal
    return bool(value == target if op == "==" else value <= target)


def table(results: dict[str, Any]) -> str:
    rows = ["| figure | goal | result | met |", "|---|---|---|---|"]
    for name, goal in FIGURES.items():
        value = results["figures"].get(name)
        mark = {True: "yes", False: "**no**", None: ""}[met(name, value)]
        rows.append(
            f"| `{name}` | {f'{goal[0]} {goal[1]}' if goal else '(reported)'} | {value} | {mark} |"
        )
    return "\n".join(rows)


def update_readme(results: dict[str, Any]) -> None:
    """Rewrite the soak's table in bench/README.md (between the soak markers)."""
    text = README.read_text() if README.exists() else ""
    if START not in text or END not in text:
        return
    m, d = results["machine"], results["details"]
    s = d["scale"]
    label = (
        "Full-scale run"
        if d["full_scale"]
        else "**Development run at reduced scale, not the soak's result** (run `make soak`)"
    )
    block = "\n".join(
        [
            START,
            f"{label}: {results['generated_at']}, {d['deposits']} deposits, {d['files']} files "
            f"({d['bytes'] / 2**20:.0f} MiB; {s['big_files']} of {s['big_mb']} MB), both targets "
            f"each; {s['workers']} workers x {s['concurrency']}, a SIGKILL every "
            f"{s['kill_every']:g} s ({d['worker_kills']} in all), Redis "
            f"{d['redis_restart'].get('outcome', 'not restarted')}; {s['users']} users; fault "
            f"rates `{s['fault_rates']}`; sandbox/account limits {s['zenodo_per_minute']}/min "
            f"(Zenodo), {s['datameta_per_minute']}/min (DataMeta account).",
            "",
            f"Machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, Python "
            f"{m['python']}; database {m['database']}; {m['redis']}; load average at start "
            f"{m['load_average_at_start']}. Code: {m.get('code', '?')}.",
            "",
            table(results),
            END,
        ]
    )
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + block + tail)


def summary(results: dict[str, Any]) -> str:
    d = results["details"]
    lines = [table(results), "", f"target states: {d['target_states']}"]
    if not d["all_final_before_the_deadline"]:
        lines.append(f"time is up: targets were in flight after {d['scale']['minutes_max']:g} min")
    lines.append(f"faults injected: {d['faults_injected']}")
    lines.append(f"worker kills: {d['worker_kills']}; Redis: {d['redis_restart']}")
    if d["unapplied_migrations_at_end"]:
        lines.append(
            "WARNING: the code changed during the run (new migrations "
            f"{', '.join(d['unapplied_migrations_at_end'])}): restarted workers ran code the "
            "database did not fit; run again on a tree nobody edits."
        )
    lines.append(
        f"portal replies: {d['portal_statuses']}; connection errors "
        f"{d['portal_connection_errors']}; edits saved {d['edits_saved']}, "
        f"not saved {d['edits_not_saved']}"
    )
    for error in d["portal_5xx"][:20]:
        lines.append(
            f"  portal {error['status']} at {error['at']}: {error['method']} {error['path']}"
        )
    failures = d["failures"]
    lines.append(f"{len(failures)} failure(s) found:" if failures else "no failure found.")
    lines += [f"  {f['deposit']} / {f['target']}: {f['what']}" for f in failures]
    return "\n".join(lines)


def main() -> int:
    common.configure()
    machine = common.machine()
    if "embedded" in machine["redis"]:
        machine["redis"] = (
            f"embedded Redis ({common.VAR.relative_to(ROOT, walk_up=True)}/redis.sock)"
        )
    common.log(f"soak: {SCALE}; machine: {machine}")
    try:
        outcome = run()
    finally:
        common.shutdown()
    results = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "development_run": not SCALE.full,
        "machine": machine,
        **outcome,
    }
    common.write_json(RESULTS, results)
    update_readme(results)
    print("\n" + summary(results))
    print(f"\n{RESULTS.relative_to(ROOT)} written")
    return 0 if all(met(k, v) is not False for k, v in results["figures"].items()) else 1


if __name__ == "__main__":
    sys.exit(main())
