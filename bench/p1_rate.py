"""P1, the rate budget: do four worker processes use one account's budget fully, without
a single 429, and adapt when the server lowers its limit mid-run?

Method (all counted by the sandbox, which sees every request whoever sends it):

1. A backlog of ``BACKLOG`` deposits of three small files each, all published at t0 by
   four Celery worker processes (one pool process each) sharing the Redis limiter. The
   sandbox allows ``L`` requests a minute per token (moving window, as Zenodo's
   Flask-Limiter); the account's configured window is the same ``L`` a minute.
2. Steady phase ``[t0, t0 + STEADY)``: achieved rate = accepted requests / (L x minutes).
   Target >= 0.95, with zero 429 replies.
3. At ``t1 = t0 + STEADY`` the sandbox lowers its limit to ``L / 2``. The account's
   configuration is left alone: the limiter has to learn the new limit from
   ``X-RateLimit-Limit`` and ``Retry-After``. 429s are allowed in ``[t1, t1 + 60)``
   only; in ``[t1 + 60, t1 + 120)`` the rate must be >= 0.9 x L/2 (recovery ratio).
4. The same backlog pushed by a published third-party client, ``zenodo-client``
   (``Zenodo.create(metadata, paths)``: create, one PUT per file, publish), from four
   processes against a fresh token with the same limit ``L``, for ``STEADY`` seconds.
   It has no rate limiting and no retries, and a refused request raises out of
   ``create`` with the draft half made. The driver does what a careful script can: on
   a 429 it sleeps the ``Retry-After`` the reply announced and publishes that deposit
   again from the start (``create`` cannot resume), leaving the half-made draft behind;
   any other error abandons the deposit.

The run stops after the windows it measures; the rest of the backlog is dropped.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import common
from bench.p4_calls import call_kind

BACKLOG = 200
WORKERS = 4
LIMIT = int(os.environ.get("BENCH_P1_LIMIT", "300"))  # requests a minute
LOWERED = LIMIT // 2
STEADY = 120.0  # seconds measured at LIMIT
WINDOW = 60.0  # the sandbox's (and the account's) window


def run() -> dict[str, Any]:
    from deposits.models import ApiCall, Target

    common.fresh_state()
    with common.System("p1") as system:
        system.start_web(workers=2, threads=8)
        token = common.sandbox_token("bench-portal")
        common.control(
            system,
            {
                "wipe": True,
                "config": {"rate_limit_per_minute": LIMIT, "rate_limit_per_hour": 0},
            },
        )
        team, user = common.make_team("p1")
        account = common.zenodo_account(
            team, system, token, [{"limit": LIMIT, "seconds": int(WINDOW)}]
        )
        with common.timed(f"seeding {BACKLOG} deposits x 3 files"):
            targets = [
                common.ready_target(team, account, f"P1 deposit {i}", common.backlog_files(i))
                for i in range(BACKLOG)
            ]
        for n in range(WORKERS):
            system.start_worker(f"worker{n + 1}", concurrency=1)
        system.wait_workers_ready()

        sampler = common.CounterSampler(system).start()
        wall0 = time.time()
        t0 = time.monotonic()
        common.log(f"portal: {BACKLOG} deposits queued, limit {LIMIT}/min")
        common.publish_all(targets, user)
        _sleep_until(t0 + STEADY)
        t1 = time.monotonic()
        common.control(system, {"config": {"rate_limit_per_minute": LOWERED}})
        common.log(f"portal: sandbox limit lowered to {LOWERED}/min")
        _sleep_until(t1 + 2 * WINDOW)
        t_end = time.monotonic()
        sampler.stop()
        for n in range(WORKERS):
            system.stop(f"worker{n + 1}")
        states = Counter(Target.objects.values_list("state", flat=True))
        statuses = Counter(ApiCall.objects.values_list("status", flat=True))
        kinds = Counter(
            call_kind(method, url) for method, url in ApiCall.objects.values_list("method", "url")
        )
        portal_calls = [
            (c.created.timestamp() - wall0, c.status)
            for c in ApiCall.objects.only("created", "status")
        ]

        peer = _peer_run(system)

    steady = sampler.between(t0, t0 + STEADY)
    first = sampler.between(t1, t1 + WINDOW)
    second = sampler.between(t1 + WINDOW, t1 + 2 * WINDOW)
    # The portal's own 429s, to the second (the sampler's are interpolated over 1 s).
    change = t1 - t0
    refused = [t for t, status in portal_calls if status == 429]
    refused_steady = sum(1 for t in refused if t < change)
    refused_first = sum(1 for t in refused if change <= t < change + WINDOW)
    refused_second = sum(1 for t in refused if change + WINDOW <= t < change + 2 * WINDOW)
    minutes = STEADY / 60
    figures = {
        "p1_rate_ratio": round(steady["accepted"] / (LIMIT * minutes), 3),
        "p1_429_count": refused_steady + refused_second,
        "p1_recovery_ratio": round(second["accepted"] / LOWERED, 3),
        "p1_peer_rate_ratio": peer["rate_ratio"],
    }
    details = {
        "limit_per_minute": LIMIT,
        "lowered_limit_per_minute": LOWERED,
        "backlog_deposits": BACKLOG,
        "worker_processes": WORKERS,
        "steady_seconds": STEADY,
        "steady": _rounded(steady),
        "after_lowering_first_window": _rounded(first),
        "after_lowering_second_window": _rounded(second),
        "429_steady": refused_steady,
        "429_in_first_window_after_lowering": refused_first,
        "429_in_second_window_after_lowering": refused_second,
        "published_per_minute_steady": round(steady["published"] / minutes, 1),
        "first_published_after_s": _first_published(sampler.samples, t0),
        "target_states_at_end": dict(states),
        "portal_call_statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        "portal_calls_by_kind": dict(sorted(kinds.items())),
        "peer": {k: v for k, v in peer.items() if k != "series"},
    }
    _plot(
        sampler.samples,
        t0=t0,
        t1=t1,
        t_end=t_end,
        peer=peer["series"],
        portal_calls=portal_calls,
    )
    return {"figures": figures, "details": details}


def _first_published(samples: list[tuple[float, int, int, int]], t0: float) -> float | None:
    """Seconds from t0 to the first sample that counts a publication."""
    return next((round(t - t0, 1) for t, _, _, published in samples if published), None)


def _sleep_until(when: float) -> None:
    while (left := when - time.monotonic()) > 0:
        time.sleep(min(left, 1.0))


def _rounded(window: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 1) for k, v in window.items()}


# --------------------------------------------------------------------------- peer


def _peer_files() -> list[list[Path]]:
    """The same backlog as files on disk, for zenodo-client (it uploads paths)."""
    root = common.VAR / "p1-peer"
    out = []
    for i in range(BACKLOG):
        folder = root / str(i)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, content in common.backlog_files(i).items():
            path = folder / name
            path.write_bytes(content)
            paths.append(path)
        out.append(paths)
    return out


def _peer_run(system: common.System) -> dict[str, Any]:
    token = common.sandbox_token("bench-peer")
    common.control(
        system,
        {
            "reset": True,
            "wipe": True,
            "config": {"rate_limit_per_minute": LIMIT, "rate_limit_per_hour": 0},
        },
    )
    files = _peer_files()
    ctx = multiprocessing.get_context("spawn")
    work: multiprocessing.Queue[int] = ctx.Queue()
    results: multiprocessing.Queue[dict[str, int]] = ctx.Queue()
    for i in range(BACKLOG):
        work.put(i)
    sampler = common.CounterSampler(system).start()
    t0 = time.monotonic()
    deadline = time.time() + STEADY
    procs = [
        ctx.Process(
            target=_peer_process,
            args=(system.zenodo_url, token, [[str(p) for p in f] for f in files]),
            kwargs={"work": work, "results": results, "deadline": deadline},
        )
        for _ in range(WORKERS)
    ]
    common.log(f"peer: zenodo-client x {WORKERS} processes, limit {LIMIT}/min")
    for proc in procs:
        proc.start()
    outcomes: Counter[str] = Counter()
    for _ in procs:
        try:
            outcomes.update(results.get(timeout=STEADY + 120))
        except queue.Empty:
            break
    for proc in procs:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=10)
    _sleep_until(t0 + STEADY)  # the window is measured in full even if the backlog ran out
    sampler.stop()
    window = sampler.between(t0, t0 + STEADY)
    state = common.sandbox_state(system)["counters"]
    return {
        "rate_ratio": round(window["accepted"] / (LIMIT * STEADY / 60), 3),
        "429_count": round(window["rate_limited"]),
        "published_per_minute": round(window["published"] / (STEADY / 60), 1),
        "first_published_after_s": _first_published(sampler.samples, t0),
        "deposits_published": outcomes.pop("published", 0),
        "restarts_after_429": outcomes.pop("restarted after 429", 0),
        "deposits_abandoned": dict(outcomes),
        "drafts_created": state["depositions_created"],
        "drafts_left_unpublished": state["depositions_created"] - state["published"],
        "series": [(t - t0, r, rl, p) for t, r, rl, p in sampler.samples],
    }


def _peer_process(
    base: str,
    token: str,
    files: list[list[str]],
    *,
    work: Any,
    results: Any,
    deadline: float,
) -> None:
    """One process of the third-party client: publish deposits until the deadline."""
    import requests
    from zenodo_client import Zenodo
    from zenodo_client.struct import Creator, Metadata

    client = Zenodo(access_token=token)
    client.base = base
    client.api_base = client.base + "/api"
    client.depositions_base = client.api_base + "/deposit/depositions"
    outcomes: Counter[str] = Counter()
    index: int | None = None
    while time.time() < deadline:
        if index is None:
            try:
                index = work.get_nowait()
            except queue.Empty:
                break
        metadata = Metadata(
            title=f"Peer deposit {index}",
            upload_type="dataset",
            description="Hourly soil moisture from 12 probes.",
            creators=[Creator(name="Lovelace, Ada", affiliation="Analytical Engines Ltd")],
        )
        try:
            client.create(metadata, [Path(p) for p in files[index]])
            outcomes["published"] += 1
            index = None
        except requests.HTTPError as exc:
            reply = exc.response
            if reply is not None and reply.status_code == 429:
                outcomes["restarted after 429"] += 1
                wait = float(reply.headers.get("Retry-After") or 1)
                time.sleep(max(0.0, min(wait, deadline - time.time())))
                continue
            status = reply.status_code if reply is not None else "none"
            outcomes[f"HTTP {status}"] += 1
            index = None
        except (requests.RequestException, ValueError) as exc:
            outcomes[type(exc).__name__] += 1
            index = None
    results.put(dict(outcomes))


# --------------------------------------------------------------------------- plot


def _plot(
    samples: list[tuple[float, int, int, int]],
    *,
    t0: float,
    t1: float,
    t_end: float,
    peer: list[tuple[float, int, int, int]],
    portal_calls: list[tuple[float, int | None]],
) -> None:
    """Requests accepted in the trailing 60 s (what the server enforces) against the
    limit, and 429 replies per 5 s, for the portal and for zenodo-client."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        common.log("matplotlib is not installed (pip install -e '.[bench]'): no P1 plot")
        return

    def trailing(series: list[tuple[float, int, int, int]]) -> tuple[list[float], list[float]]:
        """Accepted requests in (t - 60 s, t], interpolated between the 1 s samples."""
        accepted = [(s[0], float(s[1] - s[2])) for s in series]
        ys = [a - common.interpolate(accepted, t - WINDOW) for t, a in accepted]
        return [t for t, _ in accepted], ys

    portal = [(t - t0, r, rl, p) for t, r, rl, p in samples]
    fig, (top, bottom, done) = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    for series, label in (
        (portal, "deposit portal (4 workers)"),
        (peer, "zenodo-client (4 procs)"),
    ):
        xs, ys = trailing(series)
        top.plot(xs, ys, label=label)
    change = t1 - t0
    end = t_end - t0
    top.plot([0, change, change, end], [LIMIT, LIMIT, LOWERED, LOWERED], "k--", label="limit")
    top.set_ylabel("accepted in trailing 60 s")
    top.legend(loc="lower left", fontsize=8)
    top.set_title(f"P1: {BACKLOG} deposits x 3 files, limit {LIMIT}/min, lowered at {change:.0f} s")
    bins = 5.0
    for series, label in ((portal, "portal"), (peer, "zenodo-client")):
        counts: Counter[int] = Counter()
        for (_, _, ra, _), (tb, _, rb, _) in itertools.pairwise(series):
            counts[int(tb // bins)] += rb - ra
        xs = [k * bins for k in sorted(counts)]
        bottom.step(xs, [counts[k] for k in sorted(counts)], where="post", label=label)
    refused_portal = sum(1 for _, status in portal_calls if status == 429)
    bottom.set_ylabel("429 replies per 5 s")
    for series, label in ((portal, "portal"), (peer, "zenodo-client")):
        done.plot([t for t, *_ in series], [p for *_, p in series], label=label)
    done.set_ylabel("deposits published")
    done.axvline(change, color="k", linestyle=":")
    done.legend(fontsize=8)
    done.set_xlabel(f"seconds since the backlog was queued (portal 429s in all: {refused_portal})")
    bottom.axvline(change, color="k", linestyle=":")
    bottom.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(common.BENCH_DIR / "p1_rate.png", dpi=110)
    plt.close(fig)
