"""In a real browser, on the forge sandbox's own process: publish a release from its page,
see it listed with its signed deliveries to a local receiver; publish one without its
webhooks (a lost webhook); a tag used twice is refused readably. At 390 and 1366 px."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from portal import processes
from tests.browser.test_layout import overflow
from tests.livesystem import ROOT, database_url, free_port, wait_until
from tests.sandbox.test_forge_deliveries import SECRET, Receiver, github_signature_ok

pytestmark = [pytest.mark.browser]


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def forge_url(transactional_db: None, tmp_path: Path) -> Iterator[str]:
    """The forge sandbox alone, as its own gunicorn on a free port, on the test database."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url(), "DATABASE_CONN_MAX_AGE": "0"}
    with (tmp_path / "sandbox-forge.log").open("ab") as log:
        proc = subprocess.Popen(
            processes.sandbox("forge", "127.0.0.1", port, workers=1, graceful_timeout=2),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(lambda: _answers(f"{url}/"), 60, "the forge sandbox")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as found:
        yield found


def control(forge_url: str, name: str, data: dict[str, Any]) -> Any:
    response = requests.post(f"{forge_url}/_control/{name}", json=data, timeout=20)
    assert response.status_code in (200, 201), response.text
    return response.json()


def publish(page: Any, tag: str, *, deliver: bool = True) -> str:
    page.select_option("#publish-repo", label="GitHub · octo/demo")
    page.fill("#publish-tag", tag)
    page.fill("#publish-name", f"Release {tag}")
    if not deliver:
        page.uncheck("#publish-deliver")
    page.click("#publish-submit")
    return str(page.inner_text("#messages"))


def test_a_release_is_published_from_the_page_and_its_deliveries_listed(
    forge_url: str, receiver: Receiver, page: Any
) -> None:
    control(
        forge_url, "repos", {"forge": "github", "path": "octo/demo", "files": {"README.md": "hi"}}
    )
    control(forge_url, "repos", {"forge": "gitlab", "path": "grp/tool", "files": {}})
    control(
        forge_url,
        "hooks",
        {"forge": "github", "path": "octo/demo", "url": receiver.url, "secret": SECRET},
    )

    page.goto(f"{forge_url}/")
    message = publish(page, "v1.0.0")

    assert "Published v1.0.0 on octo/demo: 3 deliveries sent, 3 answered with success" in message
    assert "Release v1.0.0" in page.inner_text('#releases tr[data-release="v1.0.0"]')
    sent = receiver.releases()
    assert [r.json()["action"] for r in sent] == ["created", "published", "released"]
    assert all(github_signature_ok(r) for r in sent)
    for request in sent:
        row = page.locator(
            f'#deliveries tr[data-delivery="{request.headers["X-GitHub-Delivery"]}"]'
        )
        assert row.locator('[data-status="200"]').count() == 1

    message = publish(page, "v1.0.1", deliver=False)
    assert "no webhook was sent" in message
    assert page.locator('#releases tr[data-release="v1.0.1"]').count() == 1
    assert len(receiver.releases()) == 3
    listed = requests.get(f"{forge_url}/repos/octo/demo/releases", timeout=10).json()
    assert [r["tag_name"] for r in listed] == ["v1.0.1", "v1.0.0"]

    message = publish(page, "v1.0.0")
    assert "already has a release at v1.0.0: choose another tag" in message

    page.click('#releases tr[data-release="v1.0.0"] a')
    assert page.inner_text("h1") == "Release v1.0.0"
    page.go_back()
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        assert overflow(page) == [], f"at {width} px"
