"""The Content-Security-Policy holds in a real browser: an inline script a repository's
text could smuggle in does not run, and the portal's own pages (htmx included) need
nothing it forbids (the ``page`` fixture fails any test whose pages it refused)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.livesystem import LiveSystem

pytestmark = [pytest.mark.browser]


def test_every_response_carries_the_policy(live_system: LiveSystem) -> None:
    policy = requests.get(f"{live_system.url}/login/", timeout=10).headers[
        "Content-Security-Policy"
    ]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


def test_an_inline_script_in_a_portal_page_does_not_run(live_system: LiveSystem, page: Any) -> None:
    page.goto(f"{live_system.url}/login/")
    # what a missed escape would put on the page: it is refused, not run
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__ran = true'; document.body.appendChild(s);
                   const a = document.createElement('a'); a.id = 'bad';
                   a.href = 'javascript:window.__clicked = true'; a.textContent = 'x';
                   document.body.appendChild(a); }"""
    )
    page.click("#bad")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__ran === undefined && window.__clicked === undefined")
    assert len(page.csp_refused) >= 2  # the script and the javascript: link, both refused
    page.csp_refused.clear()  # provoked on purpose: not a failure of the portal
