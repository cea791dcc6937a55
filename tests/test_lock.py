"""The lock file is what installs take: every package pinned with hashes, none missing."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\]+)")


def _locked() -> dict[str, list[str]]:
    """Package name -> the hashes its entry lists."""
    entries: dict[str, list[str]] = {}
    current = ""
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if match := PIN.match(line):
            current = canonicalize_name(match.group(1))
            entries[current] = []
        elif current and (found := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            entries[current].append(found.group(1))
    return entries


def test_every_locked_package_carries_hashes() -> None:
    locked = _locked()
    assert len(locked) > 50
    assert [name for name, hashes in locked.items() if not hashes] == []


def test_every_dependency_of_the_project_is_locked() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    names = {canonicalize_name(Requirement(spec).name) for spec in wanted}
    assert sorted(names - _locked().keys()) == []


def test_installs_take_the_lock_with_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes --no-deps -r $(LOCK)" in makefile
    assert "--generate-hashes" in makefile
