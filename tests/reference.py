"""Where the repositories' reference material is: ``../shared/reference`` beside the
project (as in CI), or REFERENCE_DIR. Tests that read it fail, never skip, without it."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(os.environ.get("REFERENCE_DIR") or ROOT.parent / "shared" / "reference")
ZENODO_FIXTURES = REFERENCE / "zenodo-fixtures"
DATAMETA_EXCHANGES = REFERENCE / "datameta-exchanges.md"
