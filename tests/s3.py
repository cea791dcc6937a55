"""A real S3-compatible server for tests (moto's, in a thread of the test process):
the Coscine sandbox's S3 resources and the portal's own STORAGE_BACKEND=s3 talk to it
over HTTP, as they would to any S3 endpoint.

    def test_x(s3_server):  # the URL; settings.S3_SANDBOX_URL points at it
        client = s3_client(s3_server)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

# moto accepts any keys; these are what tests and the sandbox use
ACCESS_KEY = "sandbox-access-key"
SECRET_KEY = "sandbox-secret-key"  # a local test server's


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
        config=Config(request_checksum_calculation="when_required"),
    )


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_server(s3_endpoint: str, settings: Any) -> str:
    """The server's URL, with ``settings.S3_SANDBOX_URL`` pointing at it (and its host
    allowed for repository requests)."""
    settings.S3_SANDBOX_URL = s3_endpoint
    host = s3_endpoint.removeprefix("http://")
    settings.ALLOWED_REPOSITORY_HOSTS = [*settings.ALLOWED_REPOSITORY_HOSTS, host]
    return s3_endpoint
