"""A scripted connector: the lifecycle's own logic is what these tests exercise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from deposits import metadata as md
from deposits.repositories import registry
from deposits.repositories.base import (
    ActionSpec,
    Connector,
    FileJob,
    FileState,
    FileUpdate,
    IdentifierOut,
    Job,
    Problem,
    RemotePhase,
    Step,
    StepKind,
    StepResult,
)
from deposits.repositories.limiter import RateWindow

SEND = (
    Step("create", "Creating", StepKind.CREATES_RECORD),
    Step("upload", "Uploading", StepKind.SENDS_FILES, files_label="Uploading file {n} of {total}"),
    Step("publish", "Publishing", StepKind.PUBLISHES),
)


class ScriptedConnector(Connector):
    kind = "zenodo"
    label = "Scripted"
    default_rate_windows = (RateWindow(1000, 60),)
    actions = (
        ActionSpec("publish", "Publish", frozenset({RemotePhase.NONE, RemotePhase.DRAFT}), SEND),
        ActionSpec(
            "delete", "Delete", frozenset({RemotePhase.DRAFT}), (Step("delete", "Deleting"),)
        ),
    )

    def __init__(self) -> None:
        self.calls: list[tuple[str, Job]] = []
        self.problems: list[Problem] = []
        self.failures: dict[str, list[Exception]] = {}
        self.on_step: dict[str, Callable[[Job], StepResult]] = {}
        self.uploaded: list[str] = []

    def validate(  # type: ignore[override]
        self, metadata: dict[str, Any], options: dict[str, Any], files: list[FileJob], schema: Any
    ) -> list[Problem]:
        problems = list(self.problems)
        if not md.title(metadata):
            problems.append(Problem("title", "Add a title.", repository="zenodo"))
        return problems

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
                file_updates={
                    current.name: FileUpdate(status=FileState.DONE, remote_id=f"f-{current.name}")
                },
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
