"""``make bench``: run the benchmarks, record their figures, compare with the last run.

    python -m bench.run            # all four (P1 rate budget, P2 streaming, P3 dashboard,
                                   # P4 polling cost)
    python -m bench.run p2 p4      # some of them

Figures go to ``bench/results.json`` (each by name; a partial run keeps the other
benchmarks' figures from before), the file it replaces is kept as
``bench/results.previous.json``, and the table between the markers in
``bench/README.md`` is rewritten. See bench/README.md for the method and the machine.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from datetime import UTC, datetime
from typing import Any

from bench import common

BENCHMARKS = {
    "p1": "bench.p1_rate",
    "p2": "bench.p2_streaming",
    "p3": "bench.p3_dashboard",
    "p4": "bench.p4_calls",
}

# name: (comparison, goal); None = reported for comparison, no goal of its own
TARGETS: dict[str, tuple[str, Any] | None] = {
    "p1_rate_ratio": (">=", 0.95),
    "p1_429_count": ("==", 0),
    "p1_recovery_ratio": (">=", 0.9),
    "p1_peer_rate_ratio": None,
    "p2_throughput_ratio": (">=", 0.9),
    "p2_rss_growth_mb": ("<", 64),
    "p3_list_p95_ms": ("<", 100),
    "p3_fragment_p95_ms": ("<", 25),
    "p3_queries_constant": ("==", True),
    "p4_call_ratio": ("<=", 1.2),
}

RESULTS = common.BENCH_DIR / "results.json"
PREVIOUS = common.BENCH_DIR / "results.previous.json"
README = common.BENCH_DIR / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def met(name: str, value: Any) -> bool | None:
    target = TARGETS.get(name)
    if target is None or value is None:
        return None
    op, goal = target
    return {
        ">=": lambda: value >= goal,
        "<=": lambda: value <= goal,
        "<": lambda: value < goal,
        "==": lambda: value == goal,
    }[op]()


def goal_text(name: str) -> str:
    target = TARGETS.get(name)
    if target is None:
        return "(comparison)"
    op, goal = target
    return f"{op} {str(goal).lower() if isinstance(goal, bool) else goal}"


def show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def load(path: Any) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def main(argv: list[str]) -> int:
    names = [a.lower() for a in argv] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    started = time.monotonic()
    common.configure()
    previous = load(RESULTS)
    machine = common.machine()
    common.log(f"machine: {machine}")
    runs: dict[str, Any] = {}
    try:
        for name in names:
            module = importlib.import_module(BENCHMARKS[name])
            common.log(f"=== {name}: {module.__doc__.splitlines()[0] if module.__doc__ else ''}")
            began = time.monotonic()
            code = common.code_version()  # the tree may change between benchmarks
            try:
                outcome = module.run()
            except Exception as exc:
                traceback.print_exc()
                outcome = {"figures": {}, "details": {}, "error": f"{type(exc).__name__}: {exc}"}
            outcome["seconds"] = round(time.monotonic() - began, 1)
            outcome["ran_at"] = datetime.now(UTC).isoformat(timespec="seconds")
            outcome["database"] = machine["database"]
            outcome["code"] = code
            runs[name] = outcome
            common.log(f"=== {name} done in {outcome['seconds']} s: {outcome['figures']}")
    finally:
        common.shutdown()

    results = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "benchmarks": {**previous.get("benchmarks", {}), **runs},
    }
    results["figures"] = {
        name: value
        for run in results["benchmarks"].values()
        for name, value in run.get("figures", {}).items()
    }
    if previous:
        common.write_json(PREVIOUS, previous)
    common.write_json(RESULTS, results)
    table = summary(results, previous)
    print("\n" + table)
    update_readme(results, table)
    print(f"\n{RESULTS.relative_to(common.ROOT)} written in {time.monotonic() - started:.0f} s")
    return 1 if any("error" in run for run in runs.values()) else 0


def summary(results: dict[str, Any], previous: dict[str, Any]) -> str:
    """A Markdown table: every figure, its goal, this value, the last one, met or not."""
    before = previous.get("figures", {})
    rows = [
        "| figure | goal | this run | previous | met |",
        "|---|---|---|---|---|",
    ]
    for name in TARGETS:
        value = results["figures"].get(name)
        ok = met(name, value)
        mark = {True: "yes", False: "**no**", None: ""}[ok]
        rows.append(
            f"| `{name}` | {goal_text(name)} | {show(value)} | {show(before.get(name))} | {mark} |"
        )
    return "\n".join(rows)


def update_readme(results: dict[str, Any], table: str) -> None:
    """Rewrite the results section of bench/README.md (between the markers)."""
    if not README.exists():
        return
    text = README.read_text()
    if START not in text or END not in text:
        return
    m = results["machine"]
    when = {name: run.get("ran_at", "?") for name, run in results["benchmarks"].items()}
    block = "\n".join(
        [
            START,
            f"Last run: {results['generated_at']} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(when.items()))}).",
            "",
            f"Machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, "
            f"Python {m['python']}, {m['os']}; database {m['database']}; {m['redis']}; "
            f"load average at start {m['load_average_at_start']}. Code: {m.get('code', '?')}.",
            "",
            table,
            END,
        ]
    )
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + block + tail)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
