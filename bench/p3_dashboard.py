"""P3, dashboard: the deposit list and the status fragment with 10,000 deposits.

Method:

* Seeded with ``bulk_create``: a team with ``DEPOSITS`` deposits, each with two targets
  (a Zenodo and a DataMeta account). One deposit in ten has a target in flight (queued or
  working, so its row polls), a few are failed, drafts or ready, the rest published with
  their identifiers (version and concept DOI on Zenodo, a submission id on DataMeta).
* Served by gunicorn as README "Running on several machines" says (gthread, 8 threads),
  with one worker process per core, DEBUG off.
* 50 pollers: 50 threads, each a browser tab on the dashboard polling the status fragment
  of one in-flight row ``every 2s`` as the page's ``hx-trigger`` says (open loop: a
  poll starts every 2 s whether or not the last one was quick), so 25 fragments a second.
  At the same time one more client loads the list page (page 1, the full HTML page)
  back to back with a 0.2 s pause. Latency is measured by the client, from the request
  to the last byte, for ``DURATION`` seconds after a warm-up (the server's own time per
  request, from gunicorn's access log, is recorded beside it). The pollers run in two
  processes and the list client in a third, so that one client's GIL does not inflate
  what the others measure. Like a browser, a client retries a GET once when the server
  closed its kept-alive connection just as it was reused (gunicorn's keep-alive is 2 s,
  the polling interval too).
* SQL queries per request, in-process with Django's test client and
  ``CaptureQueriesContext``, for teams of 10, 50 and 10,000 deposits (10, 25 and 25 rows
  on the first page): constant if all three counts are equal, for the list page and
  for the fragment.

Targets: list page p95 < 100 ms, fragment p95 < 25 ms, query counts constant.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from bench import common

DEPOSITS = int(os.environ.get("BENCH_P3_DEPOSITS", "10000"))
POLLERS = 50
POLL_EVERY = 2.0
CLIENT_PROCESSES = 2  # for the pollers; the list client has one more
WEB_WORKERS = int(os.environ.get("BENCH_P3_WEB_WORKERS", str(os.cpu_count() or 2)))
WEB_THREADS = int(os.environ.get("BENCH_P3_WEB_THREADS", "8"))
DURATION = float(os.environ.get("BENCH_P3_SECONDS", "60"))
WARMUP = 5.0
BATCH = 2000
PASSWORD = "bench-pass"


def seed(slug: str, count: int) -> tuple[Any, list[int]]:
    """A team with ``count`` deposits x 2 targets; returns (user, ids of in-flight deposits)."""
    from django.utils import timezone

    from deposits.models import Deposit, Identifier, LinkedAccount, Target

    team, user = common.make_team(slug, password=PASSWORD)
    accounts = []
    for kind, label in (("zenodo", "Zenodo"), ("datameta", "DataMeta")):
        account = LinkedAccount(
            team=team,
            kind=kind,
            label=label,
            base_url=f"http://127.0.0.1:9/{kind}/api",  # never called: rows only
            status="ok",
        )
        account.set_token(f"bench-{kind}-token")
        account.save()
        accounts.append(account)
    now = timezone.now()
    in_flight: list[int] = []
    for start in range(0, count, BATCH):
        deposits = Deposit.objects.bulk_create(
            Deposit(
                team=team,
                title=f"Soil moisture, site {i}",
                metadata=common.record(f"Soil moisture, site {i}"),
                created_by=user,
            )
            for i in range(start, min(start + BATCH, count))
        )
        targets = []
        for i, deposit in enumerate(deposits, start):
            for account in accounts:
                targets.append(_target(deposit, account, i, now))
            if i % 10 in (0, 1):
                in_flight.append(deposit.pk)
        Target.objects.bulk_create(targets)
        identifiers = []
        for target in targets:
            if target.state != "published":
                continue
            if target.account.kind == "zenodo":
                doi = f"10.5072/zenodo.{target.pk}"
                identifiers.append(
                    Identifier(target=target, scheme="doi", value=doi, url=f"https://doi.org/{doi}")
                )
                concept = f"10.5072/zenodo.{target.pk + 10**7}"
                identifiers.append(
                    Identifier(
                        target=target,
                        scheme="doi",
                        value=concept,
                        url=f"https://doi.org/{concept}",
                        scope="concept",
                    )
                )
            else:
                identifiers.append(
                    Identifier(target=target, scheme="datameta-submission", value=f"S{target.pk}")
                )
        Identifier.objects.bulk_create(identifiers)
    return user, in_flight


def _target(deposit: Any, account: Any, i: int, now: Any) -> Any:
    from deposits.models import Target

    # one deposit in ten in flight, one in twenty failed, drafts and ready ones alike
    state = {0: "working", 1: "queued"}.get(i % 10) or {2: "failed", 3: "draft", 4: "ready"}.get(
        i % 20, "published"
    )
    if account.kind == "datameta" and state in ("working", "queued"):
        state = "published"  # one target in flight is enough to make the row poll
    fields: dict[str, Any] = {}
    if state == "working":
        fields = {
            "steps": ["create", "upload", "describe", "publish", "confirm"],
            "step_index": 1,
            "progress": {"files_done": 1, "files_total": 3, "bytes_total": 3_000_000},
        }
    elif state == "failed":
        fields = {"last_error": "Zenodo had a server error (500); retrying.", "retryable": True}
    elif state == "published":
        fields = {"published_at": now, "remote_state": "done", "remote_id": str(i)}
    return Target(deposit=deposit, account=account, state=state, **fields)


def count_queries(user: Any, in_flight: list[int]) -> dict[str, int]:
    """SQL queries for the list page and for one status fragment, as this user."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = Client()
    client.force_login(user)
    client.get(reverse("dashboard"))  # session and caches warm, as in any later request
    with CaptureQueriesContext(connection) as listed:
        response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    counts = {"list": len(listed.captured_queries)}
    if in_flight:
        with CaptureQueriesContext(connection) as fragment:
            response = client.get(reverse("deposit-status", args=[in_flight[0]]))
        assert response.status_code == 200
        counts["fragment"] = len(fragment.captured_queries)
    return counts


def login(system: common.System, username: str) -> str:
    """Sign in through the login form once; returns the session cookie."""
    session = requests.Session()
    page = session.get(f"{system.url}/login/", timeout=30)
    page.raise_for_status()
    reply = session.post(
        f"{system.url}/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{system.url}/login/"},
        timeout=30,
        allow_redirects=False,
    )
    if reply.status_code != 302 or "sessionid" not in session.cookies:
        raise RuntimeError(f"login failed with {reply.status_code}")
    return str(session.cookies["sessionid"])


def _session(sessionid: str) -> requests.Session:
    """A browser tab: the session cookie, and one retry of a GET whose kept-alive
    connection the server closed just as it was reused (browsers retry those too)."""
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=1))
    session.cookies.set("sessionid", sessionid, domain="127.0.0.1")
    return session


def _timed_get(session: requests.Session, url: str, headers: dict[str, str]) -> float:
    """Milliseconds from sending the request to the last byte of the reply."""
    began = time.perf_counter()
    reply = session.get(url, headers=headers, timeout=30)
    _ = reply.content
    elapsed = (time.perf_counter() - began) * 1000
    if reply.status_code != 200:
        raise RuntimeError(f"{url} answered {reply.status_code}")
    return elapsed


def _pollers(
    base: str, sessionid: str, urls: list[str], *, first: int, start: float, out: Any
) -> None:
    """One client process running ``len(urls)`` pollers as threads; poller ``k`` starts
    at ``start + k * POLL_EVERY / POLLERS`` and then polls every POLL_EVERY seconds."""
    measure_from = start + WARMUP
    stop_at = measure_from + DURATION
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def poller(k: int, url: str) -> None:
        session = _session(sessionid)
        headers = {"HX-Request": "true", "HX-Target": f"deposit-status-{k}"}
        due = start + k * POLL_EVERY / POLLERS
        while due < stop_at:
            time.sleep(max(0.0, due - time.time()))
            began = time.time()
            try:
                elapsed = _timed_get(session, f"{base}{url}", headers)
            except (requests.RequestException, RuntimeError) as exc:
                with lock:
                    errors.append(str(exc))
            else:
                if began >= measure_from:
                    with lock:
                        latencies.append(elapsed)
            due += POLL_EVERY

    threads = [threading.Thread(target=poller, args=(first + i, url)) for i, url in enumerate(urls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WARMUP + DURATION + 120)
    out.put({"fragment": latencies, "errors": errors})


def _lister(base: str, sessionid: str, start: float, out: Any) -> None:
    """One client process loading the list page back to back, 0.2 s apart."""
    measure_from = start + WARMUP
    stop_at = measure_from + DURATION
    session = _session(sessionid)
    latencies: list[float] = []
    errors: list[str] = []
    time.sleep(max(0.0, start - time.time()))
    while time.time() < stop_at:
        began = time.time()
        try:
            elapsed = _timed_get(session, f"{base}/", {})
        except (requests.RequestException, RuntimeError) as exc:
            errors.append(str(exc))
        else:
            if began >= measure_from:
                latencies.append(elapsed)
        time.sleep(0.2)
    out.put({"list": latencies, "errors": errors})


def measure(system: common.System, sessionid: str, in_flight: list[int]) -> dict[str, Any]:
    """The pollers (in CLIENT_PROCESSES processes, so that the client's own GIL does not
    add to the latencies it measures) and the list client (a process of its own)."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    urls = [f"/deposits/{in_flight[k % len(in_flight)]}/status/" for k in range(POLLERS)]
    start = time.time() + 3.0  # every process is up by then
    share = -(-POLLERS // CLIENT_PROCESSES)
    procs = [
        ctx.Process(
            target=_pollers,
            args=(system.url, sessionid, urls[i : i + share]),
            kwargs={"first": i, "start": start, "out": out},
        )
        for i in range(0, POLLERS, share)
    ]
    procs.append(ctx.Process(target=_lister, args=(system.url, sessionid, start, out)))
    for proc in procs:
        proc.start()
    merged: dict[str, list[Any]] = {"fragment": [], "list": [], "errors": []}
    for _ in procs:
        part = out.get(timeout=WARMUP + DURATION + 180)
        for key, values in part.items():
            merged[key].extend(values)
    for proc in procs:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.terminate()
    return merged


def alone(system: common.System, sessionid: str, path: str, count: int = 100) -> list[float]:
    """One request at a time with nothing else going on: the cost without queueing."""
    session = _session(sessionid)
    headers = {"HX-Request": "true"} if "status" in path else {}
    return [_timed_get(session, f"{system.url}{path}", headers) for _ in range(count)]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(common.percentile(values, 50), 1),
        "p95": round(common.percentile(values, 95), 1),
        "p99": round(common.percentile(values, 99), 1),
        "max": round(max(values, default=float("nan")), 1),
    }


def run() -> dict[str, Any]:
    common.fresh_state()
    with common.timed(f"seeding {DEPOSITS} deposits x 2 targets"):
        big_user, big_in_flight = seed("p3-big", DEPOSITS)
        small = {n: seed(f"p3-{n}", n) for n in (10, 50)}
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    queries = {
        "10": count_queries(*small[10]),
        "50": count_queries(*small[50]),
        str(DEPOSITS): count_queries(big_user, big_in_flight),
    }
    constant = all(len({q[kind] for q in queries.values()}) == 1 for kind in ("list", "fragment"))

    with common.System("p3") as system:
        system.start_web(workers=WEB_WORKERS, threads=WEB_THREADS, access_log=True)
        sessionid = login(system, big_user.username)
        list_alone = alone(system, sessionid, "/")
        fragment_alone = alone(system, sessionid, f"/deposits/{big_in_flight[0]}/status/")
        logged_before = len(system.server_times())
        loaded = measure(system, sessionid, big_in_flight)
        server = system.server_times()[logged_before:]
    server_list = [ms for path, _, ms in server if path == "/"]
    server_fragment = [ms for path, _, ms in server if path.endswith("/status/")]

    if loaded["errors"]:
        raise RuntimeError(f"P3 requests failed: {loaded['errors'][:5]}")
    fragment = _summary(loaded["fragment"])
    listed = _summary(loaded["list"])
    _plot(loaded["list"], loaded["fragment"])
    return {
        "figures": {
            "p3_list_p95_ms": listed["p95"],
            "p3_fragment_p95_ms": fragment["p95"],
            "p3_queries_constant": constant,
        },
        "details": {
            "deposits": DEPOSITS,
            "targets_per_deposit": 2,
            "pollers": POLLERS,
            "poll_every_s": POLL_EVERY,
            "seconds_measured": DURATION,
            "list_under_load_ms": listed,
            "fragment_under_load_ms": fragment,
            "list_under_load_server_ms": _summary(server_list),
            "fragment_under_load_server_ms": _summary(server_fragment),
            "web_server": f"gunicorn gthread, {WEB_WORKERS} workers x {WEB_THREADS} threads",
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "list_alone_ms": _summary(list_alone),
            "fragment_alone_ms": _summary(fragment_alone),
            "client_processes": CLIENT_PROCESSES + 1,
            "queries_per_request_by_team_size": queries,
        },
    }


def _plot(list_ms: list[float], fragment_ms: list[float]) -> None:
    """Latency distributions (CDF) of the list page and the fragment, with the targets."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        common.log("matplotlib is not installed (pip install -e '.[bench]'): no P3 plot")
        return
    fig, ax = plt.subplots(figsize=(8, 4))
    for values, label, target in (
        (fragment_ms, "status fragment", 25),
        (list_ms, "list page", 100),
    ):
        ordered = sorted(values)
        ys = [(i + 1) / len(ordered) for i in range(len(ordered))]
        (line,) = ax.plot(ordered, ys, label=f"{label} (n={len(ordered)})")
        ax.axvline(target, color=line.get_color(), linestyle="--", linewidth=1)
    ax.axhline(0.95, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("latency, ms (dashed: target p95)")
    ax.set_ylabel("fraction of requests")
    ax.set_title(f"P3: {DEPOSITS} deposits x 2 targets, {POLLERS} pollers every {POLL_EVERY:.0f} s")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(common.BENCH_DIR / "p3_dashboard.png", dpi=110)
    plt.close(fig)
