"""A scripted connector: the lifecycle's own logic is what these tests exercise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from deposits.repositories import registry
from deposits.repositories.base import (
    Connector,
    FileJob,
    IdentifierOut,
    Job,
    Problem,
    StepResult,
)


class ScriptedConnector(Connector):
    kind = "zenodo"
    label = "Scripted"
    default_rate_windows = [{"limit": 1000, "seconds": 60}]

    def __init__(self) -> None:
        self.calls: list[tuple[str, Job]] = []
        self.problems: list[Problem] = []
        self.failures: dict[str, list[Exception]] = {}
        self.on_step: dict[str, Callable[[Job], StepResult]] = {}
        self.uploaded: list[str] = []

    def validate(self, metadata: dict[str, Any], options: dict[str, Any], files: list[FileJob]):  # type: ignore[no-untyped-def]
        problems = list(self.problems)
        if not metadata.get("title"):
            problems.append(Problem("title", "Add a title.", repository="zenodo"))
        return problems

    def steps(self, job: Job) -> list[str]:
        if job.action == "delete":
            return ["delete"]
        return ["create", "upload", "publish"]

    def run_step(self, step, client, job, progress):  # type: ignore[no-untyped-def]
        self.calls.append((step, job))
        pending = self.failures.get(step)
        if pending:
            raise pending.pop(0)
        if step in self.on_step:
            return self.on_step[step](job)
        if step == "create":
            return StepResult(
                remote_id=job.remote_id or "42",
                remote_state="unsubmitted",
                message="Created draft 42",
            )
        if step == "upload":
            current = next(job.pending_files(), None)
            if current is None:
                return StepResult()
            progress(current.name, current.size)
            self.uploaded.append(current.name)
            remaining = sum(1 for _ in job.pending_files()) - 1
            return StepResult(
                done=remaining == 0,
                file_updates={current.name: {"status": "done", "remote_id": f"f-{current.name}"}},
            )
        if step == "publish":
            return StepResult(
                remote_state="done",
                identifiers=[
                    IdentifierOut("doi", "10.5072/zenodo.42", "https://doi.org/10.5072/zenodo.42"),
                    IdentifierOut(
                        "doi", "10.5072/zenodo.41", "https://doi.org/10.5072/zenodo.41", "concept"
                    ),
                ],
            )
        return StepResult()


@pytest.fixture
def connector(monkeypatch: pytest.MonkeyPatch) -> ScriptedConnector:
    scripted = ScriptedConnector()
    monkeypatch.setattr(registry, "get", lambda kind: scripted)
    return scripted
