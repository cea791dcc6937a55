"""The resource's Handle as the target's identifier, and publication requests sent once."""

from __future__ import annotations

import pytest
import responses
from responses import matchers

from deposits.repositories.base import PermanentError, TransientError
from deposits.repositories.coscine import publication
from deposits.repositories.coscine.connector import CoscineConnector

from .steps_support import (
    API,
    PID,
    PROJECT,
    RESOURCE,
    RESOURCE_API,
    envelope,
    make_client,
    make_job,
    options,
    resource_dto,
)

ROR = "https://ror.org/04xfq0f34"
REQUESTS = f"{API}/projects/{PROJECT}/publications/requests"


@pytest.fixture
def rsps():
    with responses.RequestsMock() as mock:
        yield mock


def test_register_hands_back_the_handle(rsps):
    rsps.get(RESOURCE_API, json=envelope(resource_dto()))
    result = CoscineConnector().run_step("register", make_client(), make_job([]), lambda *a: None)
    (identifier,) = result.identifiers
    assert (identifier.scheme, identifier.value, identifier.url) == (
        "handle", PID, f"https://hdl.handle.net/{PID}",
    )  # fmt: skip
    assert result.remote_links == {
        "html": f"https://coscine.example.org/p/floodplain/r/{RESOURCE}/-/"
    }
    assert result.remote_data["resource"]["pid"] == PID


def test_a_resource_without_its_handle_yet_is_asked_again(rsps):
    rsps.get(RESOURCE_API, json=envelope(resource_dto(pid="")))
    with pytest.raises(TransientError, match="Handle"):
        publication.register(make_client(), make_job([]), lambda *a: None)


def publication_job(**kwargs):
    chosen = options(publication={"service": ROR, "message": "Please publish, with a DOI."})
    return make_job([], action="request_publication", options=chosen, **kwargs)


def test_a_publication_request_is_sent_and_recorded(rsps):
    rsps.post(
        REQUESTS,
        status=201,
        json=envelope({"id": "req-1", "publicationServiceRorId": ROR}),
        match=[
            matchers.json_params_matcher(
                {
                    "publicationServiceRorId": ROR,
                    "resourceIds": [RESOURCE],
                    "message": "Please publish, with a DOI.",
                }
            )
        ],
    )
    result = CoscineConnector().run_step(
        "request_publication", make_client(), publication_job(), lambda *a: None
    )
    (sent,) = result.remote_data["publication_requests"]
    assert {k: sent[k] for k in ("id", "service", "message")} == {
        "id": "req-1", "service": ROR, "message": "Please publish, with a DOI.",
    }  # fmt: skip
    assert sent["requested_at"].endswith("+00:00")


def test_earlier_requests_are_kept(rsps):
    job = publication_job()
    job.remote_data["publication_requests"] = [{"id": "req-0", "service": ROR}]
    rsps.post(REQUESTS, status=201, json=envelope({"id": "req-1"}))
    result = publication.request(make_client(), job, lambda *a: None)
    assert [r["id"] for r in result.remote_data["publication_requests"]] == ["req-0", "req-1"]


def test_a_resumed_request_is_never_sent_twice(rsps):
    with pytest.raises(PermanentError, match="not sent again"):
        publication.request(make_client(), publication_job(resumed=True), lambda *a: None)
    assert not rsps.calls


def test_no_service_chosen_says_what_to_do(rsps):
    with pytest.raises(PermanentError, match="choose your library's service"):
        publication.request(make_client(), make_job([]), lambda *a: None)
