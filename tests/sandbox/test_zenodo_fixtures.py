"""Every recorded reply (reference/zenodo-fixtures) fits what the sandbox says in that state.

For each fixture the sandbox is brought to the same state (fed the fixture's own metadata),
and the fixture's keys, at the top level, in ``links``, ``metadata`` and ``files``, must
all be in the sandbox's reply, with values of the same JSON type.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.reference import ZENODO_FIXTURES

from .conftest import ZENODO_API, ZenodoClient

FIXTURES = ZENODO_FIXTURES
DEPOSITIONS = f"{ZENODO_API}/deposit/depositions"

pytestmark = [
    pytest.mark.urls("sandbox.zenodo.root_urls"),
    pytest.mark.skipif(not FIXTURES.exists(), reason="reference fixtures not found"),
]


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def assert_fits(recorded: dict[str, Any], ours: dict[str, Any], where: str = "") -> None:
    missing = set(recorded) - set(ours)
    assert not missing, f"{where or 'top level'}: sandbox lacks {sorted(missing)}"
    for key, value in recorded.items():
        here = f"{where}.{key}" if where else key
        if value is None or ours[key] is None:
            continue
        assert type(ours[key]) is type(value), f"{here}: {type(ours[key])} vs {type(value)}"
        if key in ("links", "metadata", "prereserve_doi") and isinstance(value, dict):
            assert_fits(value, ours[key], here)
        if key == "files" and isinstance(value, list) and value:
            assert ours[key], f"{here}: sandbox has no files"
            assert_fits(value[0], ours[key][0], f"{here}[0]")


def put_metadata(
    client: ZenodoClient, deposition: dict[str, Any], recorded: dict[str, Any]
) -> dict[str, Any]:
    metadata = {k: v for k, v in recorded["metadata"].items() if k not in ("doi", "prereserve_doi")}
    response = client.put_json(f"{DEPOSITIONS}/{deposition['id']}", {"metadata": metadata})
    assert response.status_code == 200, response.content
    return response.json()


def filled(client: ZenodoClient, recorded: dict[str, Any]) -> dict[str, Any]:
    """A draft with the recorded metadata and files, in our sandbox."""
    deposition = put_metadata(client, client.post_json(DEPOSITIONS, {}).json(), recorded)
    for file in recorded.get("files", []):
        client.upload(deposition, file["filename"], b"x" * min(file["filesize"], 1000))
    return client.get(f"{DEPOSITIONS}/{deposition['id']}").json()


@pytest.mark.parametrize(
    "name",
    ["zenodraft-sandbox-2024-01/101.json", "misc/zenodo_prod_2023-12_create_empty_deposition.json"],
)
def test_an_empty_create_fits(zenodo_client: ZenodoClient, name: str) -> None:
    recorded = load(name)

    ours = zenodo_client.post_json(DEPOSITIONS, {}).json()

    assert_fits(recorded, ours)
    assert ours["metadata"].keys() == recorded["metadata"].keys()


@pytest.mark.parametrize(
    "name", ["zenodraft-sandbox-2024-01/111.json", "zenodraft-sandbox-2024-01/121.json"]
)
def test_a_described_draft_fits(zenodo_client: ZenodoClient, name: str) -> None:
    recorded = load(name)

    ours = filled(zenodo_client, recorded)

    assert_fits(recorded, ours)
    assert ours["state"] == recorded["state"]


@pytest.mark.parametrize(
    "name",
    [
        "zenodraft-sandbox-2024-01/131.json",
        "misc/pedp-zenodo-deposit_sandbox_2024-12_published.json",
    ],
)
def test_a_published_deposition_fits(zenodo_client: ZenodoClient, name: str) -> None:
    recorded = load(name)
    draft = filled(zenodo_client, recorded)

    ours = zenodo_client.action(draft, "publish").json()

    assert_fits(recorded, ours)
    assert (ours["state"], ours["submitted"]) == ("done", True)


@pytest.mark.parametrize(
    "name",
    [
        "zenodraft-sandbox-2024-01/141.json",
        "misc/stepup-reprep_sandbox_2024-06_deposition_inprogress.json",
    ],
)
def test_an_edited_deposition_fits(zenodo_client: ZenodoClient, name: str) -> None:
    recorded = load(name)
    draft = filled(zenodo_client, recorded)
    zenodo_client.action(draft, "publish")

    ours = zenodo_client.action(draft, "edit").json()

    assert_fits(recorded, ours)
    assert ours["state"] == "inprogress"


def test_a_new_version_draft_fits(zenodo_client: ZenodoClient) -> None:
    recorded = load("zenodraft-sandbox-2024-01/151.json")
    published = zenodo_client.published()
    draft = zenodo_client.action(published, "newversion").json()
    for file in draft["files"]:
        zenodo_client.delete(file["links"]["self"])

    ours = put_metadata(zenodo_client, draft, recorded)

    assert_fits(recorded, ours)
    assert ours["state"] == "unsubmitted"


def test_the_list_fits(zenodo_client: ZenodoClient) -> None:
    recorded = load("zenodraft-sandbox-2024-01/depositions.json")
    zenodo_client.published()

    ours = zenodo_client.get(DEPOSITIONS).json()

    assert isinstance(ours, list)
    assert_fits(recorded[0], ours[0])


def test_the_bucket_put_reply_fits(zenodo_client: ZenodoClient) -> None:
    recorded = load("misc/stepup-reprep_sandbox_2024-06_bucket_put_response.json")
    deposition = zenodo_client.post_json(DEPOSITIONS, {}).json()

    ours = zenodo_client.upload(deposition, "random3.txt", b"x" * 3080).json()

    assert_fits(recorded, ours)
    assert ours["checksum"].startswith("md5:")
