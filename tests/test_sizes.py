"""Sizes read alike everywhere: decimal units, as static/js/portal.js writes them during
an upload and as the repositories state their limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import Context, Template

from deposits.sizes import human_size

JS = Path(__file__).resolve().parent.parent / "static" / "js" / "portal.js"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (999, "999 bytes"),
        (1000, "1.0 KB"),
        (89, "89 bytes"),
        (314_572_800, "314.6 MB"),
        (50 * 10**9, "50.0 GB"),
    ],
)
def test_a_size_is_written_in_decimal_units(size: int, text: str) -> None:
    assert human_size(size) == text
    assert Template("{% load portal %}{{ n|size }}").render(Context({"n": size})) == text


def test_the_upload_progress_uses_the_same_units() -> None:
    source = JS.read_text()
    assert 'var units = ["bytes", "KB", "MB", "GB", "TB"];' in source
    assert re.search(r"while \(n >= 1000 && i < units.length - 1\) \{ n /= 1000; i\+\+; \}", source)
