"""The soak's verdict, from the sandboxes' own records (their tables and stored bytes),
checked against what the portal says it published.

Each soak deposit has a unique title (the Zenodo sandbox's drafts and records carry it
from the first create on) and unique sample ids and file names (DataMeta's
metadatasets and files carry them), so every remote item can be traced to its deposit
without trusting the portal's bookkeeping. For each deposit and target:

* published exactly once: Zenodo holds one published record of it; DataMeta one
  submission holding all its samples; and the portal's target says published;
* duplicates left: any further remote item of the same deposit (a second draft or
  record, a second metadataset of a sample, a second announced file, a second
  submission), whatever state it is in;
* files: each expected file exactly once in the published record or submission, with
  the right MD5 in the sandbox's row *and* in the bytes it stored (hashed again here);
* identifiers: the portal's version DOI, concept DOI and remote id (Zenodo) or
  submission id (DataMeta) are the sandbox's, once the target is final;
* stuck: a target still queued or working when the soak stopped waiting.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Expected:
    """One soak deposit: its title, files (name: md5) and sample ids (name: SampleID)."""

    deposit_id: int
    title: str
    files: dict[str, str]
    samples: dict[str, str]
    targets: dict[str, int]  # kind: target id


@dataclass
class Verdict:
    pairs: int = 0
    published: int = 0
    duplicates_left: int = 0
    files_wrong: int = 0
    identifiers_lost: int = 0
    stuck: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)

    def fail(self, deposit: Expected, kind: str, what: str) -> None:
        self.failures.append({"deposit": deposit.title, "target": kind, "what": what})


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return "(missing on disk)"
    return digest.hexdigest()


def verify(expected: list[Expected]) -> Verdict:
    verdict = Verdict()
    zenodo = _zenodo_by_title()
    datameta = _datameta_index()
    for deposit in expected:
        for kind, target_id in deposit.targets.items():
            verdict.pairs += 1
            _portal_state(verdict, deposit, kind, target_id)
            if kind == "zenodo":
                _check_zenodo(verdict, deposit, target_id, zenodo.get(deposit.title, []))
            else:
                _check_datameta(verdict, deposit, target_id, datameta)
    return verdict


def _portal_state(verdict: Verdict, deposit: Expected, kind: str, target_id: int) -> None:
    from deposits.models import State, Target

    target = Target.objects.get(pk=target_id)
    if target.state in (State.QUEUED, State.WORKING):
        verdict.stuck += 1
        step = target.current_step or "-"
        verdict.fail(
            deposit, kind, f"stuck: {target.state} at step {step} ({target.last_error or '-'})"
        )
    elif target.state == State.FAILED:
        verdict.failed += 1
        verdict.fail(deposit, kind, f"failed: {target.last_error}")
    elif target.state != State.PUBLISHED:
        verdict.fail(deposit, kind, f"not published: {target.state}")


# --------------------------------------------------------------------------- Zenodo


def _zenodo_by_title() -> dict[str, list[Any]]:
    from sandbox.zenodo.models import Deposition

    found: dict[str, list[Any]] = defaultdict(list)
    rows = Deposition.objects.select_related("concept").prefetch_related("files")
    for row in rows.order_by("id"):
        title = (row.metadata or {}).get("title") or (row.published_metadata or {}).get("title")
        found[str(title)].append(row)
    return found


def _check_zenodo(verdict: Verdict, deposit: Expected, target_id: int, rows: list[Any]) -> None:
    from deposits.models import Identifier, State, Target

    published = [r for r in rows if r.is_published]
    if len(rows) > 1:
        verdict.duplicates_left += len(rows) - 1
        states = ", ".join(f"{r.pk} {'published' if r.is_published else 'draft'}" for r in rows)
        verdict.fail(deposit, "zenodo", f"{len(rows)} remote records: {states}")
    if len(published) != 1:
        if published or Target.objects.filter(pk=target_id, state=State.PUBLISHED).exists():
            verdict.fail(deposit, "zenodo", f"published {len(published)} times on Zenodo")
        return
    record = published[0]
    target = Target.objects.get(pk=target_id)
    if target.state == State.PUBLISHED:
        verdict.published += 1
    stored = {f.key: f for f in record.files.all()}
    verdict.files_wrong += _compare_files(
        verdict, deposit, "zenodo", {k: (f.md5, _zenodo_blob(record, f)) for k, f in stored.items()}
    )
    ids = set(Identifier.objects.filter(target_id=target_id).values_list("scope", "value"))
    wanted = {("version", record.doi), ("concept", record.concept.doi)}
    lost = wanted - ids
    if target.remote_id != str(record.pk):
        lost.add(("remote id", str(record.pk)))
    if lost:
        what = ", ".join(f"{scope} {value}" for scope, value in sorted(lost))
        _lost(verdict, deposit, "zenodo", target, n=len(lost), what=what)


def _zenodo_blob(record: Any, file: Any) -> Path:
    from sandbox.zenodo.storage import blob_path

    return Path(blob_path(record.bucket, file.version_id))


# --------------------------------------------------------------------------- DataMeta


@dataclass
class DataMetaIndex:
    """Every metadataset by SampleID and every file by name, with what they hold."""

    samples: dict[str, list[Any]]
    files: dict[str, list[Any]]


def _datameta_index() -> DataMetaIndex:
    from sandbox.datameta.models import File, MetaDatumRecord

    samples: dict[str, list[Any]] = defaultdict(list)
    values = MetaDatumRecord.objects.filter(metadatum__name="SampleID").select_related(
        "metadataset__submission"
    )
    for value in values.order_by("metadataset_id"):
        samples[str(value.value)].append(value.metadataset)
    files: dict[str, list[Any]] = defaultdict(list)
    for f in File.objects.order_by("id"):
        files[f.name].append(f)
    return DataMetaIndex(samples, files)


def _check_datameta(
    verdict: Verdict, deposit: Expected, target_id: int, index: DataMetaIndex
) -> None:
    from deposits.models import Identifier, State, Target

    sets = {sample: index.samples.get(sample, []) for sample in deposit.samples.values()}
    extra = sum(max(0, len(found) - 1) for found in sets.values())
    extra_files = sum(max(0, len(index.files.get(name, [])) - 1) for name in deposit.files)
    submissions = {m.submission for found in sets.values() for m in found if m.submission_id}
    extra += extra_files + max(0, len(submissions) - 1)
    if extra:
        verdict.duplicates_left += extra
        counts = ", ".join(f"{s}: {len(found)}" for s, found in sets.items() if len(found) != 1)
        verdict.fail(
            deposit,
            "datameta",
            f"{extra} duplicate item(s) (metadatasets per sample {counts or 'ok'}, "
            f"{extra_files} extra file(s), {len(submissions)} submission(s))",
        )
    target = Target.objects.get(pk=target_id)
    complete = len(submissions) == 1 and all(
        any(m.submission_id for m in found) for found in sets.values()
    )
    if not complete:
        if submissions or target.state == State.PUBLISHED:
            verdict.fail(
                deposit,
                "datameta",
                f"{len(submissions)} submission(s) hold its samples, not exactly one with all",
            )
        return
    (submission,) = submissions
    if target.state == State.PUBLISHED:
        verdict.published += 1
    submitted = {
        f.name: (f.uploaded_md5 if f.content_uploaded else "(not uploaded)", f.path)
        for name in deposit.files
        for f in index.files.get(name, [])
        if f.is_submitted()
    }
    verdict.files_wrong += _compare_files(verdict, deposit, "datameta", submitted)
    ids = set(Identifier.objects.filter(target_id=target_id).values_list("scheme", "value"))
    lost = []
    if ("datameta-submission", submission.site_id) not in ids:
        lost.append(f"submission {submission.site_id}")
    if target.remote_id != str(submission.uuid):
        lost.append(f"remote id {submission.uuid}")
    if lost:
        _lost(verdict, deposit, "datameta", target, n=len(lost), what=", ".join(lost))


def _lost(
    verdict: Verdict, deposit: Expected, kind: str, target: Any, *, n: int, what: str
) -> None:
    """Identifiers the sandbox gave that the portal lacks: lost once the target is final
    (published or failed); a target still in flight may yet record them (it is stuck)."""
    from deposits.models import IN_FLIGHT_STATES

    if target.state in IN_FLIGHT_STATES:
        verdict.fail(deposit, kind, f"in the sandbox, not yet in the portal: {what}")
        return
    verdict.identifiers_lost += n
    verdict.fail(deposit, kind, f"the portal lacks {what}")


# --------------------------------------------------------------------------- files


def _compare_files(
    verdict: Verdict, deposit: Expected, kind: str, stored: dict[str, tuple[str, Path]]
) -> int:
    """Files of one published record or submission against the deposit's: how many are
    missing, extra, or with another MD5 in the row or in the bytes."""
    wrong = 0
    for name, md5 in deposit.files.items():
        if name not in stored:
            wrong += 1
            verdict.fail(deposit, kind, f"file {name} is missing")
            continue
        row_md5, path = stored[name]
        on_disk = md5_of(path)
        if row_md5 != md5 or on_disk != md5:
            wrong += 1
            verdict.fail(
                deposit, kind, f"file {name}: md5 {row_md5} (bytes {on_disk}), expected {md5}"
            )
    for name in sorted(set(stored) - set(deposit.files)):
        wrong += 1
        verdict.fail(deposit, kind, f"unexpected file {name}")
    return wrong
