"""What the Coscine step tests share: a client on a made-up Coscine, jobs with the
sandbox's base profile, and Coscine's envelope."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

from deposits.repositories.base import FileJob, FileState, Job
from deposits.repositories.coscine.connector import CoscineConnector
from deposits.repositories.http import CallRecord, HttpClient

SITE = "https://coscine.example.org/coscine"
API = f"{SITE}/api/v2"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.coscine-steps-SECRET.sig"
PROJECT = "0b3c9a52-6c3e-4c3a-9d4e-3b8f5c1e2a10"
RESOURCE = "7d1f0e2a-95b4-4b0c-8f5e-2c6a9b3d4e51"
PID = f"21.11102/{RESOURCE}"
RESOURCE_API = f"{API}/projects/{PROJECT}/resources/{RESOURCE}"
PROFILE_URI = "https://purl.org/coscine/ap/base/"
PROFILE = {
    "uri": PROFILE_URI,
    "turtle": (
        Path(__file__).resolve().parents[3] / "sandbox/coscine/profiles/base.ttl"
    ).read_text(),
    "vocabularies": {},
    "imports": [],
}
DCT = "http://purl.org/dc/terms/"
MARKER = "deposit-portal:" + "ab" * 16


def make_client(
    records: list[CallRecord] | None = None,
    allowed: list[str] | None = None,
    limiter: Any = None,
    base_url: str = SITE,
    token: str = TOKEN,
) -> HttpClient:
    connector = CoscineConnector()
    return HttpClient(
        base_url=base_url,
        token=token,
        label=connector.label,
        parse_error=connector.parse_error,
        auth_header=connector.auth_header,
        limiter=limiter,
        limiter_key="coscine-steps",
        windows=list(connector.default_rate_windows),
        record=None if records is None else records.append,
        allowed_hosts=allowed or ["coscine.example.org"],
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


def options(**extra: Any) -> dict[str, Any]:
    return {
        "project": {"id": PROJECT, "name": "Floodplain", "slug": "floodplain"},
        "resource": {"id": RESOURCE, "name": "raw", "type": "rds"},
        "application_profile": PROFILE_URI,
        "file_metadata": {
            "*": {
                f"{DCT}title": ["Soil moisture"],
                f"{DCT}creator": ["Doe, Jane"],
                f"{DCT}created": ["2024-05-01"],
            },
        },
        **extra,
    }


def remote_data(kind: str = "rds", files: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "project_id": PROJECT,
        "resource": {"id": RESOURCE, "pid": PID, "general_type": kind, "created_by_portal": False},
        "files": files or {},
        "publication_requests": [],
    }


def make_job(files: list[FileJob], **kwargs: Any) -> Job:
    values: dict[str, Any] = {
        "target_id": 1,
        "action": "publish",
        "metadata": {"titles": [{"title": "Soil moisture"}]},
        "options": options(),
        "files": files,
        "remote_id": RESOURCE,
        "remote_data": remote_data(),
        "schema": {"lookups": {f"profile:{PROFILE_URI}": PROFILE}},
        **kwargs,
    }
    return Job(**values)


def envelope(data: Any, *, has_next: bool = False, page: int = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"data": data, "isSuccess": True, "statusCode": 200, "traceId": "t-1"}
    if isinstance(data, list):
        body["pagination"] = {
            "currentPage": page,
            "totalPages": page + int(has_next),
            "pageSize": 50,
            "totalCount": len(data),
            "hasPrevious": page > 1,
            "hasNext": has_next,
        }
    return body


def resource_dto(kind: str = "rds", **extra: Any) -> dict[str, Any]:
    return {
        "id": RESOURCE,
        "pid": PID,
        "name": "raw",
        "displayName": "raw",
        "description": "Raw data",
        "keywords": [],
        "type": {"id": "t-1", "generalType": kind, "specificType": f"{kind}rwth"},
        "archived": False,
        "projects": [{"id": PROJECT}],
        **extra,
    }


def progress_log() -> tuple[list[tuple[str, int]], Any]:
    seen: list[tuple[str, int]] = []
    return seen, lambda name, sent: seen.append((name, sent))


__all__ = ["FileState"]
