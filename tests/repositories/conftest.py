"""Fixtures for the connector, HTTP layer and limiter tests: no database needed."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from deposits.metadata import to_record
from deposits.repositories.base import FileJob, Job
from deposits.repositories.http import CallRecord, HttpClient
from deposits.repositories.limiter import Limiter
from deposits.repositories.zenodo.connector import ZenodoConnector
from tests.reference import ZENODO_FIXTURES

TOKEN = "zTok-9f8e7d6c5b4a3210-SECRET"
BASE = "https://zenodo.org/api"
FIXTURES = ZENODO_FIXTURES


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# ``redis_client`` (on settings.REDIS_URL) comes from tests/conftest.py.


@pytest.fixture
def limiter(redis_client: redis.Redis) -> Limiter:
    return Limiter(redis_client)


@pytest.fixture
def limiter_key(redis_client: redis.Redis) -> Iterator[str]:
    key = f"test-{uuid.uuid4().hex}"
    yield key
    for name in redis_client.scan_iter(f"ratelimit:{{{key}}}:*"):
        redis_client.delete(name)


@pytest.fixture
def connector() -> ZenodoConnector:
    return ZenodoConnector()


@pytest.fixture
def records() -> list[CallRecord]:
    return []


@pytest.fixture
def client(connector: ZenodoConnector, records: list[CallRecord]) -> HttpClient:
    return HttpClient(
        base_url=BASE,
        token=TOKEN,
        label=connector.label,
        parse_error=connector.parse_error,
        auth_header=connector.auth_header,
        limiter=None,
        limiter_key="zenodo.org:1",
        windows=list(connector.default_rate_windows),
        record=records.append,
        allowed_hosts=["zenodo.org"],
    )


def file_job(name: str, content: bytes, **kwargs: Any) -> FileJob:
    return FileJob(
        name=name,
        size=len(content),
        md5=hashlib.md5(content).hexdigest(),
        sha256=hashlib.sha256(content).hexdigest(),
        open=lambda: io.BytesIO(content),
        **kwargs,
    )


# The editor's view of a deposit using every field; FULL_METADATA is its stored record.
FULL_VIEW: dict[str, Any] = {
    "title": "Soil moisture of the Elbe floodplain, 2019-2024",
    "resource_type": "publication",
    "publication_type": "article",
    "publication_date": "2024-05-01",
    "creators": [
        {
            "name": "Doe, Jane",
            "affiliation": "University of Hamburg",
            "orcid": "https://orcid.org/0000-0002-1825-0097",
            "gnd": "170118215",
        },
        {"name": "Roe, Richard"},
    ],
    "contributors": [
        {"name": "Smith, Ann", "affiliation": "UFZ", "type": "DataCurator"},
    ],
    "description": "<p>Hourly soil moisture.</p>",
    "access_right": "open",
    "license": "CC-BY-4.0",
    "keywords": ["soil", "hydrology"],
    "subjects": [
        {
            "term": "Hydrology",
            "identifier": "http://id.loc.gov/authorities/subjects/sh85063079",
            "scheme": "url",
        }
    ],
    "related_identifiers": [
        {
            "identifier": "10.1234/paper",
            "relation": "IsSupplementTo",
            "resource_type": "publication-article",
        }
    ],
    "references": ["Doe J (2020). Earlier work. Journal. 10.1234/old"],
    "funding": [{"funder_doi": "https://doi.org/10.13039/501100000780", "award_number": "283595"}],
    "version": "1.2.0",
    "language": "eng",
    "notes": "Calibrated sensors.",
    "method": "<p>TDR probes.</p>",
    "dates": [
        {
            "start": "2019-01-01",
            "end": "2024-01-01",
            "type": "Collected",
            "description": "Field season",
        }
    ],
    "locations": [{"place": "Elbe floodplain", "lat": 53.5, "lon": 10.0, "description": "Site A"}],
    "journal": {"title": "Hydrology Letters", "volume": "12", "issue": "3", "pages": "1-10"},
    "conference": {
        "title": "EGU 2024",
        "acronym": "EGU24",
        "dates": "14-19 April 2024",
        "place": "Vienna, Austria",
        "url": "https://egu24.eu",
        "session": "HS1",
        "session_part": "2",
    },
    "imprint": {
        "publisher": "Hamburg University Press",
        "isbn": "978-3-16-148410-0",
        "place": "Hamburg, Germany",
    },
    "part_of": {"title": "Floodplains", "pages": "20-30"},
    "thesis": {
        "university": "University of Hamburg",
        "supervisors": [
            {"name": "Major, Max", "affiliation": "UHH", "orcid": "0000-0002-1694-233X"}
        ],
    },
}
FULL_METADATA: dict[str, Any] = to_record(FULL_VIEW)


@pytest.fixture
def make_job() -> Callable[..., Job]:
    def make(**kwargs: Any) -> Job:
        defaults: dict[str, Any] = {
            "target_id": 1,
            "action": "publish",
            "metadata": dict(FULL_METADATA),
            "options": {},
            "files": [file_job("data.csv", b"a,b\n1,2\n")],
        }
        defaults.update(kwargs)
        return Job(**defaults)

    return make
