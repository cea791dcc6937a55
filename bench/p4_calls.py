"""P4, polling cost: API calls per published deposit against the protocol's minimum.

Publishing a Zenodo deposit with ``n`` files needs at least ``1 + n + 1 + 1 + 1`` requests
(create the draft, one bucket PUT per file, the metadata, publish, one read to confirm
the DOI). We publish ``P4_DEPOSITS`` deposits of three files each through a real Celery
worker against the sandbox, with a rate budget so large that it never intervenes, and
count the ``ApiCall`` rows of each target (every request the portal sends is one row).

Target: mean calls per deposit <= 1.2 x the minimum (``p4_call_ratio``).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from bench import common

DEPOSITS = 20
FILES_PER_DEPOSIT = 3
GENEROUS = [{"limit": 100_000, "seconds": 60}]


def minimum_calls(files: int) -> int:
    """create + one PUT per file + metadata + publish + one confirmation."""
    return 1 + files + 1 + 1 + 1


def call_kind(method: str, url: str) -> str:
    """``GET deposit/depositions/:id`` style labels, for the breakdown."""
    path = urlsplit(url).path
    path = re.sub(r"/files/[0-9a-f-]{36}/[^/]+$", "/files/:bucket/:key", path)
    path = re.sub(r"/\d+(/|$)", r"/:id\1", path)
    return f"{method} {path}"


def run() -> dict[str, Any]:
    from deposits.models import ApiCall, State, Target

    common.fresh_state()
    with common.System("p4") as system:
        system.start_web(workers=1, threads=8)
        token = common.sandbox_token()
        common.control(system, {"wipe": True, "config": {"rate_limit_per_minute": 100_000}})
        team, user = common.make_team("p4")
        account = common.zenodo_account(team, system, token, GENEROUS)
        targets = [
            common.ready_target(team, account, f"P4 deposit {i}", common.backlog_files(i))
            for i in range(DEPOSITS)
        ]
        system.start_worker("worker", concurrency=2)
        system.wait_workers_ready()
        started = time.monotonic()
        common.publish_all(targets, user)
        ids = [t.pk for t in targets]

        def finished() -> bool:
            return not Target.objects.filter(
                pk__in=ids, state__in=[State.QUEUED, State.WORKING, State.READY]
            ).exists()

        common.wait_until(finished, 300, "all P4 deposits to finish", every=0.5)
        elapsed = time.monotonic() - started

    states = Counter(Target.objects.filter(pk__in=ids).values_list("state", flat=True))
    published = list(Target.objects.filter(pk__in=ids, state=State.PUBLISHED))
    per_target = [ApiCall.objects.filter(target=t).count() for t in published]
    calls = ApiCall.objects.filter(target__in=published)
    kinds = Counter(call_kind(c.method, c.url) for c in calls.only("method", "url"))
    minimum = minimum_calls(FILES_PER_DEPOSIT)
    mean = sum(per_target) / len(per_target) if per_target else float("nan")
    return {
        "figures": {"p4_call_ratio": round(mean / minimum, 3)},
        "details": {
            "deposits": DEPOSITS,
            "files_per_deposit": FILES_PER_DEPOSIT,
            "states": dict(states),
            "minimum_calls_per_deposit": minimum,
            "mean_calls_per_deposit": round(mean, 2),
            "max_calls_per_deposit": max(per_target, default=0),
            "calls_per_deposit_by_kind": {
                k: round(v / max(len(published), 1), 2) for k, v in sorted(kinds.items())
            },
            "non_2xx_calls": calls.exclude(status__gte=200, status__lt=300).count(),
            "seconds": round(elapsed, 1),
        },
    }
