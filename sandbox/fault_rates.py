"""Faults at random rates, for soak tests: each sandbox process rolls its own dice.

The queued faults of each sandbox (``zenodo/faults.py``, ``datameta/faults.py``) hit the
next N requests, which a test asserts on; a soak needs the opposite, misbehaviour
scattered over thousands of requests as a busy service shows it. The rates come from
``SANDBOX_FAULT_RATES``, read when the process starts, e.g.::

    SANDBOX_FAULT_RATES="error=0.10,rate_limit=0.05,reset=0.02,slow_create=0.01,slow_seconds=12"

* ``error``: this share of API requests answers 500 with the service's own error body;
* ``rate_limit``: this share answers 429; on Zenodo ``retry_after`` of them (default
  half) carry ``Retry-After: retry_after_seconds`` (default 1 to 5 s, drawn), the
  others none, like a throttling proxy; DataMeta never sends one (notes-datameta §26);
* ``reset``: this share of uploads has its connection reset once half the body is in;
* ``slow_create``: this share of creates (a Zenodo draft; a DataMeta metadataset, file
  or submission) takes ``slow_seconds`` (default 15) before its reply goes out, and the
  record is made at a random moment in between: set ``slow_seconds`` above the client's
  read timeout and the client gives up on a record that exists, or that appears later;
* ``seed``: a fixed seed (mixed with the process id, so that two workers of one gunicorn
  do not fail the same requests).

The rates live in the process's memory only (no migration, no query per request), so
``/_control`` shows and changes those of the process that answers it: with several
workers per sandbox set the environment variable instead. The control and inspection
endpoints never get a fault, so a soak can always read its results.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import socket
import stat
import struct
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

ENV = "SANDBOX_FAULT_RATES"
SHARES = ("error", "rate_limit", "reset", "slow_create", "retry_after")


class FaultRatesError(ValueError):
    """A rates text the sandbox cannot use; the message says which part and why."""


@dataclass(frozen=True)
class FaultRates:
    error: float = 0.0
    rate_limit: float = 0.0
    reset: float = 0.0
    slow_create: float = 0.0
    slow_seconds: float = 15.0
    retry_after: float = 0.5
    # 0 draws 1 to 5 seconds per reply.
    retry_after_seconds: float = 0.0
    seed: int | None = None

    @property
    def active(self) -> bool:
        return any((self.error, self.rate_limit, self.reset, self.slow_create))

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def parse(text: str) -> FaultRates:
    """``"error=0.1,rate_limit=0.05"`` (or ``""``: no faults) as ``FaultRates``."""
    values: dict[str, Any] = {}
    fields = {f.name for f in dataclasses.fields(FaultRates)}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, raw = part.partition("=")
        name = name.strip()
        if not sep or name not in fields:
            raise FaultRatesError(
                f"{ENV}: {part!r} is not name=value with a name among {', '.join(sorted(fields))}."
            )
        try:
            value: float | int = int(raw) if name == "seed" else float(raw)
        except ValueError:
            raise FaultRatesError(f"{ENV}: {name} must be a number, not {raw!r}.") from None
        if name in SHARES and not 0 <= value <= 1:
            raise FaultRatesError(f"{ENV}: {name} is a share of requests, from 0 to 1.")
        if name != "seed" and value < 0:
            raise FaultRatesError(f"{ENV}: {name} must not be negative.")
        values[name] = value
    return FaultRates(**values)


class Dice:
    """The process's rates and its random generator (one per process, shared by threads:
    ``random.Random`` draws under the GIL)."""

    def __init__(self, rates: FaultRates) -> None:
        self.rates = rates
        seed = None if rates.seed is None else rates.seed * 100_003 + os.getpid()
        self.rng = random.Random(seed)

    def roll(self, kind: str) -> bool:
        """Whether this request gets the fault ``kind`` (one of the rates' shares)."""
        share = float(getattr(self.rates, kind))
        return share > 0 and self.rng.random() < share

    def retry_after(self) -> int | None:
        """The ``Retry-After`` of an injected 429 (seconds), or None for one without."""
        if not self.roll("retry_after"):
            return None
        fixed = self.rates.retry_after_seconds
        return max(1, round(fixed)) if fixed else self.rng.randint(1, 5)

    def split_delay(self) -> tuple[float, float]:
        """A slow create's delay before the record is made, and after it."""
        before = self.rng.uniform(0, self.rates.slow_seconds)
        return before, self.rates.slow_seconds - before


_dice: Dice | None = None


def dice() -> Dice:
    """This process's dice, from ``SANDBOX_FAULT_RATES`` on first use."""
    return _dice if _dice is not None else _install(os.environ.get(ENV, ""))


def set_rates(rates: FaultRates | str) -> FaultRates:
    """Replace this process's rates (``/_control``, tests); returns them."""
    return _install(rates).rates


def restore() -> FaultRates:
    """Back to the rates the process started with (``SANDBOX_FAULT_RATES``)."""
    return set_rates(os.environ.get(ENV, ""))


def _install(rates: FaultRates | str) -> Dice:
    global _dice
    _dice = Dice(parse(rates) if isinstance(rates, str) else rates)
    return _dice


def from_control(value: Any) -> FaultRates:
    """The ``fault_rates`` of a control request: a rates text or an object of them."""
    if isinstance(value, str):
        return set_rates(value)
    if isinstance(value, dict):
        return set_rates(",".join(f"{k}={v}" for k, v in value.items() if v is not None))
    raise FaultRatesError("fault_rates must be a text such as 'error=0.1' or an object.")


# --------------------------------------------------------------------------- connection


class ConnectionDropped(ConnectionResetError):
    """Raised when no socket could be found to reset (an in-process test client)."""


def drop_connection(request: HttpRequest) -> None:
    """Reset the client's TCP connection now, as a proxy giving up on an upload does.

    The connection's socket gets ``SO_LINGER`` 0 and its descriptor is swapped for
    ``/dev/null`` with ``dup2``: that closes the last reference to the socket, so the
    kernel sends a RST at once and the client, still sending or waiting for the reply,
    sees "connection reset by peer". Swapping rather than closing keeps the server's
    descriptor number valid (it later writes into /dev/null and closes it), so no other
    thread can be handed that number in between. Raising an exception instead would only
    give the client a 500, and closing gracefully would leave it blocked on a full window.
    """
    fd = _socket_fd(request)
    if fd is None:
        raise ConnectionDropped("sandbox: connection reset in the middle of the upload")
    with socket.socket(fileno=os.dup(fd)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def read_part(request: HttpRequest, amount: int, chunk: int = 1 << 16) -> int:
    """Read and drop ``amount`` bytes of the body (or until it ends): how many were read."""
    done = 0
    while done < amount:
        data = request.read(min(chunk, amount - done))
        if not data:
            break
        done += len(data)
    return done


def _socket_fd(request: HttpRequest) -> int | None:
    """The descriptor of the client connection under gunicorn or Django's own server."""
    gunicorn_socket = request.META.get("gunicorn.socket")
    if gunicorn_socket is not None:
        return int(gunicorn_socket.fileno())
    # Django's server hands the view nested LimitedStreams over the socket file; each one
    # keeps the read method of the stream it wraps.
    stream: Any = request.META.get("wsgi.input")
    for _ in range(5):
        if stream is None:
            return None
        with contextlib.suppress(OSError, ValueError):
            fd = stream.fileno()
            if isinstance(fd, int) and _is_socket(fd):
                return fd
        stream = getattr(getattr(stream, "_read", None), "__self__", None) or getattr(
            stream, "raw", None
        )
    return None


def _is_socket(fd: int) -> bool:
    return stat.S_ISSOCK(os.fstat(fd).st_mode)
