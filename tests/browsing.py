"""Headless Debian Chromium driven by Playwright (no browser download): one browser for
the whole test session, whichever folder's tests use it (``tests/browser/``, and the e2e
tests that upload through a page). Playwright's sync API runs an event loop in the test
thread, so a second one cannot start while the first lives: hence one session fixture,
registered once in ``tests/conftest.py``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API keeps an event loop running in the test thread; the ORM calls made
# between page actions are plain synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        message = f"Chromium not found at {CHROMIUM}: apt-get install chromium (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    pg = context.new_page()
    # Every page of every browser test runs under the Content-Security-Policy: anything
    # it refuses (an inline script or style, an eval) is a failure of that test.
    refused: list[str] = []
    pg.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    pg.csp_refused = refused  # a test that provokes a refusal on purpose takes it out
    yield pg
    assert not refused, f"the Content-Security-Policy refused: {refused}"
    with_screenshot = os.environ.get("BROWSER_SCREENSHOTS")
    if with_screenshot:
        pg.screenshot(
            path=str(Path(with_screenshot) / f"{os.getpid()}-{tmp_path.name}.png"), full_page=True
        )
    context.close()
