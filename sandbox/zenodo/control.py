"""The sandbox's knobs, queued faults and counters, for tests and benchmarks (notes §5.2).

Everything is kept in the database so that all threads and processes serving the sandbox
share it. In-process tests call the functions here (``configure``, ``add_fault``,
``reset``, ``state``); tests and benchmarks over HTTP use ``/_control`` at the sandbox's root,
which takes and returns the same JSON (see ``views_control``). The one exception is the
random fault rates of soak tests (``sandbox/fault_rates.py``), kept per process.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from .. import fault_rates
from .models import Concept, Counter, Deposition, Fault, Knobs, RateHit, RateKey
from .storage import storage_root


@dataclass(frozen=True)
class Config:
    """Effective configuration: these defaults, then ``settings.SANDBOX_ZENODO``, then knobs.

    The real service allows 100/min and 5000/h per token (notes §1.9); the default here is
    generous so that test suites are not throttled. ``0`` turns a window off.
    """

    rate_limit_per_minute: int = 5000
    rate_limit_per_hour: int = 0
    index_lag_seconds: float = 0.0
    delay_seconds: float = 0.0
    legacy_doc_mode: bool = False
    max_files: int = 100
    quota_bytes: int = 50 * 10**9


CONFIG_KEYS = frozenset(field.name for field in dataclasses.fields(Config))
FAULT_KINDS = frozenset(Fault.Kind.values)


class ControlError(ValueError):
    """A control request the sandbox cannot apply (unknown key, bad value)."""


def load_config() -> Config:
    base = {k: v for k, v in getattr(settings, "SANDBOX_ZENODO", {}).items() if k in CONFIG_KEYS}
    knobs = Knobs.objects.filter(pk=1).first()
    overrides = knobs.overrides if knobs else {}
    return Config(**{**base, **overrides})


def configure(**changes: Any) -> Config:
    """Override knobs at runtime, e.g. ``configure(rate_limit_per_minute=10)``."""
    unknown = set(changes) - CONFIG_KEYS
    if unknown:
        raise ControlError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
    defaults = Config()
    for name, value in changes.items():
        expected = type(getattr(defaults, name))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ControlError(f"{name} must be {expected.__name__}.")
        if not isinstance(value, bool) and value < 0:
            raise ControlError(f"{name} must not be negative.")
        changes[name] = value
    with transaction.atomic():
        knobs, _ = Knobs.objects.select_for_update().get_or_create(pk=1)
        knobs.overrides = {**knobs.overrides, **changes}
        knobs.save(update_fields=["overrides"])
    return load_config()


def add_fault(
    kind: str,
    *,
    count: int = 1,
    method: str = "",
    path: str = "",
    status: int | None = None,
    message: str = "",
    delay_seconds: float = 0.0,
    after_bytes: int | None = None,
) -> Fault:
    """Queue a fault for the next ``count`` requests matching ``method`` and ``path``.

    ``error``: JSON reply, ``status`` 500 by default (5xx carry an ``error_id``), any other
    status for e.g. a 409 on edit or a 410 on a concept. ``gateway``: the proxy's HTML page,
    ``status`` 502 by default (503, 504). ``reset``: the next bucket PUTs read
    ``after_bytes`` (default half the body) and then the connection is reset. ``slow``:
    the reply waits ``delay_seconds``. An ``error`` with status 429 or 503 announces
    ``delay_seconds`` (when given) as its ``Retry-After``. ``path`` is a regular expression
    searched in the request path.
    """
    if kind not in FAULT_KINDS:
        raise ControlError(
            f"Unknown fault kind {kind!r}: use one of {', '.join(sorted(FAULT_KINDS))}."
        )
    if count < 1:
        raise ControlError("count must be at least 1.")
    if kind == Fault.Kind.GATEWAY and status not in (None, 502, 503, 504):
        raise ControlError("A gateway fault is a 502, 503 or 504.")
    return Fault.objects.create(
        kind=kind,
        remaining=count,
        method=method.upper(),
        path=path,
        status=status,
        message=message,
        delay_seconds=delay_seconds,
        after_bytes=after_bytes,
    )


def reset(*, wipe: bool = False) -> None:
    """Back to defaults: knobs, queued faults, counters, rate windows, and this process's
    random fault rates (those it started with).

    ``wipe`` also deletes every deposition and its files (accounts and tokens stay, so a
    token printed by ``manage.py sandbox_token zenodo`` keeps working).
    """
    Knobs.objects.all().delete()
    Fault.objects.all().delete()
    Counter.objects.all().delete()
    RateHit.objects.all().delete()
    RateKey.objects.all().delete()
    fault_rates.restore()
    if wipe:
        Deposition.objects.all().delete()
        Concept.objects.all().delete()
        shutil.rmtree(storage_root(), ignore_errors=True)


def count(name: str, by: int = 1) -> None:
    """Add to a counter; the row is created on first use (racing creators retry)."""
    if Counter.objects.filter(name=name).update(value=F("value") + by):
        return
    try:
        with transaction.atomic():
            Counter.objects.create(name=name, value=by)
    except IntegrityError:
        Counter.objects.filter(name=name).update(value=F("value") + by)


def counters() -> dict[str, Any]:
    values = dict(Counter.objects.values_list("name", "value"))
    per_endpoint = {
        name.removeprefix("endpoint:"): value
        for name, value in sorted(values.items())
        if name.startswith("endpoint:")
    }
    return {
        "requests": sum(per_endpoint.values()),
        "rate_limited": values.get("rate_limited", 0),
        "faults_injected": values.get("faults_injected", 0),
        "depositions_created": values.get("depositions_created", 0),
        "files_stored": values.get("files_stored", 0),
        "bytes_stored": values.get("bytes_stored", 0),
        "published": values.get("published", 0),
        "by_endpoint": per_endpoint,
        # faults injected at random rates (sandbox/fault_rates.py), by kind
        "injected": {
            name.removeprefix("injected:"): value
            for name, value in sorted(values.items())
            if name.startswith("injected:")
        },
    }


def state() -> dict[str, Any]:
    """What ``GET /_control`` returns: effective config, queued faults, counters, and the
    random fault rates of the process that answers."""
    return {
        "config": dataclasses.asdict(load_config()),
        "fault_rates": fault_rates.dice().rates.as_dict(),
        "faults": [
            {
                "id": fault.pk,
                "kind": fault.kind,
                "remaining": fault.remaining,
                "method": fault.method,
                "path": fault.path,
                "status": fault.status,
                "message": fault.message,
                "delay_seconds": fault.delay_seconds,
                "after_bytes": fault.after_bytes,
            }
            for fault in Fault.objects.all()
        ],
        "counters": counters(),
    }


def apply(payload: dict[str, Any]) -> dict[str, Any]:
    """Apply a ``POST /_control`` body: ``reset``/``wipe`` first, then ``config``, then
    ``faults``; ``fault_rates`` (``"error=0.1,..."``) sets this process's random rates."""
    if not isinstance(payload, dict):
        raise ControlError("The body must be a JSON object.")
    unknown = set(payload) - {"reset", "wipe", "config", "faults", "fault_rates"}
    if unknown:
        raise ControlError(f"Unknown key(s): {', '.join(sorted(unknown))}.")
    if payload.get("reset") or payload.get("wipe"):
        reset(wipe=bool(payload.get("wipe")))
    if "fault_rates" in payload:
        try:
            fault_rates.from_control(payload["fault_rates"])
        except fault_rates.FaultRatesError as exc:
            raise ControlError(str(exc)) from exc
    config = payload.get("config") or {}
    if not isinstance(config, dict):
        raise ControlError("config must be an object.")
    configure(**config)
    faults = payload.get("faults") or []
    if not isinstance(faults, list) or not all(isinstance(f, dict) for f in faults):
        raise ControlError("faults must be a list of objects.")
    for fault in faults:
        fault = dict(fault)
        try:
            add_fault(fault.pop("kind", ""), **fault)
        except TypeError as exc:
            raise ControlError(f"Bad fault: {exc}.") from exc
    return state()
