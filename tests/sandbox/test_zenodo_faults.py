"""Rate limits, injected faults and the control endpoint (notes §1.8, §1.9, §5.2)."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.test import Client

from sandbox.zenodo import control

from .conftest import ZENODO_API, ZenodoClient

pytestmark = pytest.mark.urls("sandbox.zenodo.root_urls")

DEPOSITIONS = f"{ZENODO_API}/deposit/depositions"
CONTROL = "/_control"


def test_it_sends_rate_limit_headers_on_every_reply(zenodo_client: ZenodoClient) -> None:
    control.configure(rate_limit_per_minute=100)
    before = time.time()

    ok = zenodo_client.get(DEPOSITIONS)
    missing = zenodo_client.get(f"{DEPOSITIONS}/999999")

    for response in (ok, missing):
        assert response["X-RateLimit-Limit"] == "100"
        assert before + 59 <= int(response["X-RateLimit-Reset"]) <= time.time() + 61
        assert 0 <= int(response["Retry-After"]) <= 60
    assert ok["X-RateLimit-Remaining"] == "99"
    assert missing["X-RateLimit-Remaining"] == "98"


def test_it_refuses_with_429_beyond_the_limit(zenodo_client: ZenodoClient) -> None:
    control.configure(rate_limit_per_minute=2)

    responses = [zenodo_client.get(DEPOSITIONS) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 429]
    refused = responses[2]
    assert refused.json() == {"status": 429, "message": "2 per 1 minute"}
    assert refused["X-RateLimit-Remaining"] == "0"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert control.counters()["rate_limited"] == 1


def test_it_limits_each_token_separately(
    zenodo_client: ZenodoClient, zenodo_stranger: ZenodoClient
) -> None:
    control.configure(rate_limit_per_minute=1)

    assert zenodo_client.get(DEPOSITIONS).status_code == 200
    assert zenodo_stranger.get(DEPOSITIONS).status_code == 200
    assert zenodo_client.get(DEPOSITIONS).status_code == 429


def test_it_applies_an_hourly_window_too(zenodo_client: ZenodoClient) -> None:
    control.configure(rate_limit_per_minute=100, rate_limit_per_hour=1)

    zenodo_client.get(DEPOSITIONS)
    refused = zenodo_client.get(DEPOSITIONS)

    assert refused.status_code == 429
    assert refused.json()["message"] == "1 per 1 hour"


def test_it_fails_the_next_requests_with_a_500_and_an_error_id(zenodo_client: ZenodoClient) -> None:
    control.add_fault("error", count=2)

    first, second, third = (zenodo_client.get(DEPOSITIONS) for _ in range(3))

    assert first.status_code == second.status_code == 500
    assert first.json()["status"] == 500
    uuid.UUID(first.json()["error_id"])
    assert "X-RateLimit-Limit" in first
    assert third.status_code == 200


def test_it_fails_only_the_requests_that_match(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create()
    control.add_fault(
        "error",
        method="POST",
        path=r"/actions/edit$",
        status=409,
        message="Deposit merge conflicts.",
    )

    assert zenodo_client.get(DEPOSITIONS).status_code == 200
    response = zenodo_client.action(deposition, "edit")

    assert response.status_code == 409
    assert response.json() == {"status": 409, "message": "Deposit merge conflicts."}


def test_it_answers_with_the_proxys_html_gateway_pages(zenodo_client: ZenodoClient) -> None:
    control.add_fault("gateway", status=502)
    control.add_fault("gateway", status=504)

    bad_gateway = zenodo_client.get(DEPOSITIONS)
    timeout = zenodo_client.get(DEPOSITIONS)

    assert bad_gateway.status_code == 502
    assert bad_gateway["Content-Type"].startswith("text/html")
    assert b"<h1>502 Bad Gateway</h1>" in bad_gateway.content
    assert timeout.status_code == 504
    assert b"504 Gateway Time-out" in timeout.content


def test_it_slows_replies_down(zenodo_client: ZenodoClient) -> None:
    control.add_fault("slow", delay_seconds=0.3)
    started = time.monotonic()

    response = zenodo_client.get(DEPOSITIONS)

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_it_counts_requests_per_endpoint(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create()
    zenodo_client.upload(deposition, "a.txt", b"abc")
    zenodo_client.get(DEPOSITIONS)

    counters = control.counters()

    assert counters["requests"] == 3
    assert counters["depositions_created"] == 1
    assert counters["files_stored"] == 1
    assert counters["bytes_stored"] == 3
    assert counters["by_endpoint"] == {
        "GET depositions": 1,
        "POST depositions": 1,
        "PUT object": 1,
    }


def test_it_is_configured_through_the_control_endpoint(zenodo_client: ZenodoClient) -> None:
    payload = {
        "config": {"rate_limit_per_minute": 7, "index_lag_seconds": 2},
        "faults": [{"kind": "error", "count": 1, "path": "/files/"}],
    }

    response = Client().post(CONTROL, json.dumps(payload), content_type="application/json")

    assert response.status_code == 200
    state = response.json()
    assert state["config"]["rate_limit_per_minute"] == 7
    assert state["config"]["index_lag_seconds"] == 2.0
    assert state["faults"][0]["kind"] == "error"
    assert zenodo_client.get(DEPOSITIONS)["X-RateLimit-Limit"] == "7"
    assert Client().get(CONTROL).json()["counters"]["requests"] == 1


def test_it_resets_everything_through_the_control_endpoint(zenodo_client: ZenodoClient) -> None:
    zenodo_client.create()
    control.configure(rate_limit_per_minute=1)
    control.add_fault("gateway")

    state = (
        Client()
        .post(CONTROL, {"reset": True, "wipe": True}, content_type="application/json")
        .json()
    )

    assert state["faults"] == []
    assert state["config"] == control.state()["config"]
    assert state["config"]["rate_limit_per_minute"] == 5000
    assert state["counters"]["requests"] == 0
    assert zenodo_client.get(DEPOSITIONS).json() == []


def test_it_rejects_unknown_control_settings(db: None) -> None:
    response = Client().post(CONTROL, {"config": {"colour": 1}}, content_type="application/json")

    assert response.status_code == 400
    assert "colour" in response.json()["message"]
