"""Where the repositories' reference material is: REFERENCE_DIR, else ``shared/reference``
beside the project (as in CI), else beside the repository this clone came from. Tests
that read it fail, never skip, when none of these exist."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _origin_sibling() -> Path | None:
    """``../shared/reference`` of the local repository this checkout was cloned from."""
    try:
        url = subprocess.run(
            ["git", "config", "--get", "remote.origin.url"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=5,
        ).stdout.strip()
    except OSError:
        return None
    origin = Path(url)
    return origin.parent / "shared" / "reference" if url and origin.is_absolute() else None


def _find() -> Path:
    if os.environ.get("REFERENCE_DIR"):
        return Path(os.environ["REFERENCE_DIR"])
    beside = ROOT.parent / "shared" / "reference"
    if beside.is_dir():
        return beside
    return _origin_sibling() or beside


REFERENCE = _find()
ZENODO_FIXTURES = REFERENCE / "zenodo-fixtures"
DATAMETA_EXCHANGES = REFERENCE / "datameta-exchanges.md"
