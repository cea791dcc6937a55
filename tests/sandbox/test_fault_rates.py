"""Faults at random rates (``SANDBOX_FAULT_RATES``, sandbox/fault_rates.py), in both
sandboxes: made deterministic with a rate of 1.0 or a fixed seed."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.test import Client

from sandbox import fault_rates
from sandbox.fault_rates import FaultRatesError, parse, set_rates
from tests.sandbox.datameta_fixtures import *  # noqa: F403
from tests.sandbox.datameta_fixtures import DATAMETA_RECORD, DataMetaClient, datameta_control

from .conftest import ZENODO_API, ZenodoClient

DEPOSITIONS = f"{ZENODO_API}/deposit/depositions"
ZENODO = pytest.mark.urls("sandbox.zenodo.root_urls")
DATAMETA = pytest.mark.urls("sandbox.datameta.root_urls")
OVER_HTTP = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_rates(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no random faults and leaves none behind."""
    monkeypatch.delenv(fault_rates.ENV, raising=False)
    fault_rates.restore()
    yield
    monkeypatch.delenv(fault_rates.ENV, raising=False)
    fault_rates.restore()


# --------------------------------------------------------------------------- the rates


def test_it_starts_with_the_rates_of_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fault_rates.ENV, "error=0.1, rate_limit=0.05,slow_create=0.01,seed=3")

    rates = fault_rates.restore()

    assert (rates.error, rates.rate_limit, rates.reset, rates.slow_create) == (0.1, 0.05, 0, 0.01)
    assert rates.seed == 3 and rates.active
    assert not parse("").active


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("errors=0.1", "not name=value"),
        ("error", "not name=value"),
        ("error=lots", "error must be a number"),
        ("rate_limit=5", "share of requests"),
        ("slow_seconds=-1", "must not be negative"),
    ],
)
def test_it_refuses_rates_it_cannot_use(text: str, says: str) -> None:
    with pytest.raises(FaultRatesError, match=says):
        parse(text)


def test_a_seeded_process_fails_the_share_of_requests_it_was_given() -> None:
    dice = fault_rates.Dice(parse("error=0.1,seed=7"))
    again = fault_rates.Dice(parse("error=0.1,seed=7"))

    rolls = [dice.roll("error") for _ in range(20_000)]

    assert rolls == [again.roll("error") for _ in range(20_000)]
    assert 0.09 < sum(rolls) / len(rolls) < 0.11
    assert not any(dice.roll("reset") for _ in range(1000))


# --------------------------------------------------------------------------- Zenodo


@ZENODO
def test_zenodo_answers_500_with_an_error_id_but_never_on_its_control_endpoint(
    zenodo_client: ZenodoClient,
) -> None:
    set_rates("error=1")

    failed = zenodo_client.get(DEPOSITIONS)
    state = Client().get("/_control")

    assert failed.status_code == 500
    uuid.UUID(failed.json()["error_id"])
    assert state.status_code == 200
    assert state.json()["counters"]["injected"] == {"error": 1}
    assert state.json()["fault_rates"]["error"] == 1.0


@ZENODO
def test_zenodo_throttles_with_a_retry_after_or_without_one(zenodo_client: ZenodoClient) -> None:
    set_rates("rate_limit=1,retry_after=1,retry_after_seconds=3")
    announced = zenodo_client.get(DEPOSITIONS)
    set_rates("rate_limit=1,retry_after=0")
    bare = zenodo_client.get(DEPOSITIONS)

    assert announced.status_code == bare.status_code == 429
    assert announced["Retry-After"] == "3"
    assert "Retry-After" not in bare
    assert "X-RateLimit-Limit" in bare  # Flask-Limiter's own headers are still there
    assert bare.json() == {"status": 429, "message": "100 per 1 minute"}
    assert Client().get("/_control").json()["counters"]["injected"] == {"rate_limit": 2}


@ZENODO
def test_zenodo_rates_are_set_and_reset_through_the_control_endpoint(
    zenodo_client: ZenodoClient,
) -> None:
    control = Client()
    changed = control.post(
        "/_control", {"fault_rates": {"error": 1.0}}, content_type="application/json"
    )
    failed = zenodo_client.get(DEPOSITIONS)
    control.post("/_control", {"reset": True}, content_type="application/json")
    after_reset = zenodo_client.get(DEPOSITIONS)
    refused = control.post("/_control", {"fault_rates": "error=2"}, content_type="application/json")

    assert changed.json()["fault_rates"]["error"] == 1.0
    assert failed.status_code == 500
    assert after_reset.status_code == 200
    assert refused.status_code == 400
    assert "share of requests" in refused.json()["message"]


@ZENODO
@OVER_HTTP
def test_zenodo_resets_uploads_half_way_at_the_reset_rate(
    live_server: Any, zenodo_token: str
) -> None:
    created = requests.post(
        f"{live_server.url}{DEPOSITIONS}",
        json={},
        headers={"Authorization": f"Bearer {zenodo_token}"},
        timeout=10,
    ).json()
    url = f"{created['links']['bucket']}/big.bin"
    set_rates("reset=1")

    with pytest.raises(requests.exceptions.ConnectionError):
        requests.put(url, data=b"x" * (4 << 20), params={"access_token": zenodo_token}, timeout=30)
    set_rates("")
    retried = requests.put(url, data=b"x" * 1000, params={"access_token": zenodo_token}, timeout=30)

    assert retried.status_code == 201
    assert retried.json()["size"] == 1000


@ZENODO
@OVER_HTTP
def test_zenodo_makes_a_slow_draft_that_the_client_gave_up_on(
    live_server: Any, zenodo_token: str
) -> None:
    from sandbox.zenodo.models import Deposition

    set_rates("slow_create=1,slow_seconds=1.5")
    started = time.monotonic()

    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(
            f"{live_server.url}{DEPOSITIONS}",
            json={},
            headers={"Authorization": f"Bearer {zenodo_token}"},
            timeout=(5, 0.5),
        )
    while not Deposition.objects.exists() and time.monotonic() - started < 10:
        time.sleep(0.1)

    assert Deposition.objects.count() == 1
    # Other requests are not slowed down.
    listed = requests.get(
        f"{live_server.url}{DEPOSITIONS}",
        headers={"Authorization": f"Bearer {zenodo_token}"},
        timeout=(5, 1),
    )
    assert listed.status_code == 200


# --------------------------------------------------------------------------- DataMeta


@DATAMETA
def test_datameta_answers_waitress_500s_and_proxy_429s_without_retry_after(
    datameta_admin: DataMetaClient,
) -> None:
    set_rates("error=1")
    failed = datameta_admin.api_get("/rpc/whoami")
    set_rates("rate_limit=1,retry_after=1")
    throttled = datameta_admin.api_get("/rpc/whoami")
    state = datameta_control(datameta_admin, action="clear_faults")

    assert failed.status_code == 500
    assert b"(generated by waitress)" in failed.content
    assert throttled.status_code == 429
    assert throttled["Content-Type"] == "text/html"
    assert b"429 Too Many Requests" in throttled.content
    assert "Retry-After" not in throttled  # DataMeta sends none (notes §26)
    assert state["counters"]["injected error"] == state["counters"]["injected rate_limit"] == 1


@DATAMETA
def test_datameta_rates_are_set_and_reset_through_the_control_endpoint(
    datameta_admin: DataMetaClient,
) -> None:
    changed = datameta_control(datameta_admin, action="fault_rates", rates="error=1")
    failed = datameta_admin.api_get("/rpc/whoami")
    datameta_control(datameta_admin, action="reset")
    after_reset = datameta_admin.api_get("/rpc/whoami")
    refused = datameta_admin.post(
        "/_control", {"action": "fault_rates", "rates": "nope=1"}, content_type="application/json"
    )

    assert changed["fault_rates"]["error"] == 1.0
    assert failed.status_code == 500
    assert after_reset.status_code == 200
    assert refused.status_code == 400


@DATAMETA
@OVER_HTTP
def test_datameta_resets_uploads_half_way_at_the_reset_rate(
    live_server: Any, datameta_admin: DataMetaClient
) -> None:
    from sandbox.datameta.tokens import issue_token

    api = f"{live_server.url}/api/v1"
    headers = {"Authorization": f"Bearer {issue_token('admin@example.org')}"}
    data = b"@read\nACGT\n" * 200_000
    announced = requests.post(
        f"{api}/files",
        json={"name": "BN09_R1.fastq.gz", "checksum": hashlib.md5(data).hexdigest()},
        headers=headers,
        timeout=10,
    ).json()
    upload = {
        "url": announced["urlToUpload"],
        "headers": {"Access-Token": announced["requestHeaders"]["Access-Token"]},
        "files": {"file": ("BN09_R1.fastq.gz", data)},
        "timeout": 30,
    }
    set_rates("reset=1")

    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(**upload)  # type: ignore[arg-type]
    set_rates("")
    retried = requests.post(**upload)  # type: ignore[arg-type]

    assert retried.status_code == 204


@DATAMETA
@OVER_HTTP
def test_datameta_stages_a_slow_metadataset_that_the_client_gave_up_on(
    live_server: Any, datameta_admin: DataMetaClient
) -> None:
    from sandbox.datameta.models import MetaDataSet
    from sandbox.datameta.tokens import issue_token

    headers = {"Authorization": f"Bearer {issue_token('admin@example.org')}"}
    set_rates("slow_create=1,slow_seconds=1.5")
    started = time.monotonic()

    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(
            f"{live_server.url}/api/v1/metadatasets",
            json={"record": DATAMETA_RECORD},
            headers=headers,
            timeout=(5, 0.5),
        )
    while not MetaDataSet.objects.exists() and time.monotonic() - started < 10:
        time.sleep(0.1)

    assert MetaDataSet.objects.count() == 1
    whoami = requests.get(f"{live_server.url}/api/v1/rpc/whoami", headers=headers, timeout=(5, 1))
    assert whoami.status_code == 200
