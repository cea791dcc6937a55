"""One way of writing sizes everywhere (pages, messages, the upload progress in
static/js/portal.js): decimal units, as the repositories state their limits (Zenodo's
"50 GB" is 50 x 10^9 bytes)."""

from __future__ import annotations

UNITS = ("bytes", "KB", "MB", "GB", "TB")


def human_size(size: int | float | None) -> str:
    """``314572800`` -> "314.6 MB"; under 1000 bytes, the count itself."""
    n = float(size or 0)
    unit = 0
    while n >= 1000 and unit < len(UNITS) - 1:
        n /= 1000
        unit += 1
    return f"{int(n)} {UNITS[0]}" if unit == 0 else f"{n:.1f} {UNITS[unit]}"
