"""The local S3-compatible server: moto's, as a process of its own.

The Coscine sandbox makes its S3 resources' buckets here, and the demo (``DEMO_STORAGE=s3``)
and the tests' live system can keep the portal's own files here (``STORAGE_BACKEND=s3``),
so the S3 paths run for real on one machine without an account anywhere. moto keeps
every object in memory and forgets them when it stops: for local use only, never for
files anybody needs.

    python -m portal.s3server 127.0.0.1 8005

Stops at once on SIGTERM (the demo's Ctrl-C, the tests' teardown).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from typing import Any

# moto accepts any keys: these are what the demo and the tests' live system use
ACCESS_KEY = "sandbox-access-key"
SECRET_KEY = "sandbox-secret-key"  # a local test server's, not a secret
REGION = "us-east-1"


def client(endpoint: str, *, retries: int = 3) -> Any:
    """A boto3 S3 client for the local server (path-style, checksums only when asked:
    what moto and most S3-compatible stores expect)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=Config(
            request_checksum_calculation="when_required",
            s3={"addressing_style": "path"},
            retries={"max_attempts": retries},
            connect_timeout=2,
            read_timeout=30,
        ),
    )


def wait_until_up(endpoint: str, timeout: float = 30) -> None:
    """Until the server at ``endpoint`` answers an S3 request."""
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = client(endpoint, retries=1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            s3.list_buckets()
            return
        except (BotoCoreError, ClientError) as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"The local S3 server at {endpoint} did not answer within {timeout:.0f}s "
                    f"({type(exc).__name__}): is it running? Its log says why not."
                ) from None
            time.sleep(0.2)


def ensure_bucket(endpoint: str, name: str, timeout: float = 30) -> None:
    """The bucket ``name`` on the server at ``endpoint``, made when missing (safe on every
    start); waits until the server answers first."""
    from botocore.exceptions import ClientError

    wait_until_up(endpoint, timeout)
    s3 = client(endpoint)
    try:
        s3.head_bucket(Bucket=name)
    except ClientError:
        s3.create_bucket(Bucket=name)


def _stop(*_: object) -> None:
    """Gone at once: everything is in memory, nothing to save, and a normal interpreter
    exit spends seconds tearing down moto's hundreds of modules."""
    sys.stdout.flush()
    os._exit(0)


def serve(host: str, port: int) -> None:
    """moto's whole S3 (and the rest of its services, unused) on ``host:port``, one thread
    per request, until SIGTERM or Ctrl-C."""
    try:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server
    except ImportError:
        raise SystemExit(
            "The local S3 server needs moto: pip install 'moto[server]' "
            "(the project's dev dependencies have it)."
        ) from None
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(host, port, app, threaded=True)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"Local S3 server (moto, in memory) on http://{host}:{port}", flush=True)
    server.serve_forever(poll_interval=0.2)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not args[1].isdigit():
        raise SystemExit("usage: python -m portal.s3server HOST PORT")
    serve(args[0], int(args[1]))


if __name__ == "__main__":
    main()
