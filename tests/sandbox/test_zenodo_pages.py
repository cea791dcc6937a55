"""The HTML pages the sandbox's links name: every link in a reply answers, as zenodo.org's
landing pages do (title, creators, files, DOI), escaped."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from .conftest import ZENODO_API, ZenodoClient

pytestmark = pytest.mark.urls("sandbox.zenodo.root_urls")


def path(url: str) -> str:
    return urlsplit(url).path


def test_every_html_link_of_a_published_record_answers(zenodo_client: ZenodoClient) -> None:
    record = zenodo_client.published({"soil.csv": b"a,b\n1,2\n"})
    links = record["links"]
    for key in ("html", "record_html", "latest_draft_html", "badge", "conceptbadge"):
        response = zenodo_client.get(path(links[key]))
        assert response.status_code == 200, (key, links[key])

    page = zenodo_client.get(path(links["record_html"])).content.decode()
    assert record["metadata"]["title"] in page
    assert record["metadata"]["creators"][0]["name"] in page
    assert record["doi"] in page and record["conceptdoi"] in page
    assert "soil.csv" in page
    assert record["files"][0]["checksum"] in page

    latest = zenodo_client.get(path(links["latest_html"]))
    assert latest.status_code == 302
    assert latest["Location"] == path(links["record_html"])


def test_the_latest_version_page_leads_to_the_newest_version(
    zenodo_client: ZenodoClient,
) -> None:
    first = zenodo_client.published()
    draft = zenodo_client.action(first, "newversion").json()
    newer = zenodo_client.get(path(draft["links"]["latest_draft"])).json()
    assert zenodo_client.action(newer, "publish").status_code == 202
    latest = zenodo_client.get(path(first["links"]["latest_html"]))
    assert latest["Location"] == f"/record/{newer['id']}"


def test_a_record_page_escapes_what_the_depositor_wrote(zenodo_client: ZenodoClient) -> None:
    deposition = zenodo_client.create(
        {
            "title": "<script>alert(1)</script> soil",
            "upload_type": "dataset",
            "description": "x",
            "creators": [{"name": "Doe, <b>Jane</b>"}],
        }
    )
    page = zenodo_client.get(path(deposition["links"]["html"])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;Jane" in page


def test_unknown_records_are_404(zenodo_client: ZenodoClient) -> None:
    assert zenodo_client.get("/record/999999").status_code == 404
    assert zenodo_client.get("/records/999999/").status_code == 404
    assert zenodo_client.get(f"{ZENODO_API}/records/999999").status_code == 404
