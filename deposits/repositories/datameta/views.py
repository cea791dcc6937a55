"""A DataMeta target's panel: the sample table, sheet import with its preview, and
what DataMeta gave back (submission, metadataset ids, service results).

Views are thin: rows change through ``lifecycle.datameta_sheets``; the cell checks are
the connector's (``repositories.datameta.rules``), so the preview shows exactly what
publishing would refuse. Every target is looked up through ``access`` (another team's
target answers 404).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from deposits import access, lifecycle
from deposits.models import FileStatus, State, Target
from deposits.repositories.base import Problem
from deposits.views.panels import Panel
from deposits.views.request import HtmxHttpRequest

from . import fields, rules
from . import sheets as datameta_sheets
from .connector import DataMetaConnector
from .sheet import MAX_SHEET_BYTES, SheetError, read_sheet

PANEL = "repositories/datameta/panel.html"
PREVIEW = "repositories/datameta/sheet-preview.html"
SIGNING_SALT = "datameta-sheet"
# A preview's rows are signed into the page; importing them must follow soon after.
PREVIEW_MAX_AGE = 3600
# Warn this long before a DataMeta key expires (keys last at most 30 days).
KEY_WARNING = timedelta(days=7)


# --------------------------------------------------------------------------- what is shown


@dataclass
class Cell:
    name: str
    value: str
    problems: list[str]
    is_file: bool = False


@dataclass
class Row:
    index: int
    number: int  # what people see: 1-based, or the sheet's own row number
    cells: list[Cell]
    problems: list[str]  # about the row as a whole
    remote_id: str = ""
    results: dict[str, str] = field(default_factory=dict)

    @property
    def has_problems(self) -> bool:
        return bool(self.problems) or any(c.problems for c in self.cells)


@dataclass
class Table:
    columns: list[fields.Definition]
    rows: list[Row]
    general: list[str]  # about the sheet or the files
    services: list[fields.Definition]
    problem_count: int

    @property
    def file_columns(self) -> list[str]:
        return [d.name for d in self.columns if d.is_file]


def _row_index(path: str) -> tuple[int | None, str]:
    """``options.metadatasets.3.SampleID`` -> (3, "SampleID")."""
    parts = path.split(".", 3)
    if len(parts) >= 3 and parts[:2] == ["options", "metadatasets"] and parts[2].isdigit():
        return int(parts[2]), parts[3] if len(parts) > 3 else ""
    return None, ""


def _strip_row(message: str, index: int) -> str:
    prefix = f"Row {index + 1}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def build_table(
    rows: list[dict[str, Any]],
    schema: dict[str, Any],
    problems: list[Problem],
    *,
    lines: list[int] | None = None,
    remote_data: dict[str, Any] | None = None,
) -> Table:
    """The rows with each problem on its cell (or row, or the sheet)."""
    columns = fields.submitter_fields(schema)
    known = {d.name for d in columns}
    extra = sorted({k for r in rows for k in r if k not in known})
    placed: dict[tuple[int, str], list[str]] = {}
    general: list[str] = []
    for p in problems:
        index, column = _row_index(p.field)
        if index is None or index >= len(rows):
            general.append(p.message)
        else:
            bucket = placed.setdefault((index, column), [])
            message = _strip_row(p.message, index)
            if message not in bucket:
                bucket.append(message)
    remote = remote_data or {}
    staged = remote.get("metadatasets") or []
    results = remote.get("results") or {}
    shown = []
    for index, row in enumerate(rows):
        cells = [
            Cell(
                d.name,
                str(row.get(d.name, "") or ""),
                placed.get((index, d.name), []),
                d.is_file,
            )
            for d in columns
        ]
        cells += [
            Cell(name, str(row.get(name, "")), placed.get((index, name), [])) for name in extra
        ]
        entry = staged[index] if index < len(staged) and staged[index] else {}
        shown.append(
            Row(
                index=index,
                number=lines[index] if lines else index + 1,
                cells=cells,
                problems=placed.get((index, ""), []),
                remote_id=str(entry.get("site") or "") if remote.get("submission") else "",
                results=dict(results.get(str(index)) or {}),
            )
        )
    extras = [fields.Definition(name=name) for name in extra]
    return Table(
        columns=columns + extras,
        rows=shown,
        general=general,
        services=fields.service_fields(schema),
        problem_count=len(problems),
    )


def _file_names(target: Target) -> list[str]:
    return [f.name for f in target.deposit.files.filter(status=FileStatus.READY)]


def panel_context(target: Target) -> dict[str, Any]:
    """Everything the panel shows, worked out once here (templates do not compute)."""
    account = target.account
    schema = account.schema or {}
    rows = list(target.options.get("metadatasets") or [])
    portal = [Problem.from_dict(p) for p in target.problems if p.get("source") == "portal"]
    remote = [Problem.from_dict(p) for p in target.problems if p.get("source") != "portal"]
    expires = account.expires_at
    soon = expires is not None and expires - timezone.now() <= KEY_WARNING
    data = target.remote_data or {}
    # While a new submission is staged, the published one is put aside (``staging``).
    published = data if data.get("submission") else data.get("published") or {}
    submission = published.get("submission") or {}
    file_columns = [d.name for d in fields.submitter_fields(schema) if d.is_file]
    clashes = rules.already_submitted(rows, schema, data.get("submitted_ids") or {})
    return {
        "deposit": target.deposit,
        "target": target,
        "table": build_table(rows, schema, portal + remote, remote_data=data),
        "remote_problems": [p.message for p in remote],
        "fields_known": bool(fields.definitions(schema)),
        "fields_fetched_at": account.schema_fetched_at,
        "editable": not target.in_flight,
        "key_expires": expires if soon else None,
        "key_expired": expires is not None and expires <= timezone.now(),
        "submission": submission.get("site") or submission.get("uuid") or "",
        "submission_uuid": submission.get("uuid") or "",
        "previous": [s.get("site") or s.get("uuid") for s in published.get("previous") or []],
        "services_complete": bool(data.get("services_complete")),
        "submitted": target.state == State.PUBLISHED and bool(submission),
        "left_out": rules.left_out_files(rows, schema, _file_names(target)),
        # Said before New submission is pressed: DataMeta would refuse these ids.
        "new_ids_needed": rules.new_ids_needed(clashes) if target.published_at else "",
        "file_columns": " or ".join(file_columns),
    }


# --------------------------------------------------------------------------- views


def _datameta_target(request: HtmxHttpRequest, pk: int) -> Target:
    target = access.get_target_for(request.user, pk)
    if target.account.kind != DataMetaConnector.kind:
        raise Http404("Not a DataMeta target")
    return target


def _render_panel(
    request: HtmxHttpRequest, target: Target, dm: dict[str, Any] | None = None
) -> HttpResponse:
    shown = Panel(PANEL, target, dm or panel_context(target))
    return render(request, PANEL, {"panel": shown, "deposit": target.deposit})


def _panel(request: HtmxHttpRequest, target: Target) -> HttpResponse:
    if request.htmx:
        return _render_panel(request, target)
    return redirect(reverse("deposit", args=[target.deposit_id]) + f"#datameta-{target.pk}")


@require_GET
@login_required
def datameta_panel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The panel alone, for htmx to refresh it."""
    return _render_panel(request, _datameta_target(request, pk))


def rows_from_post(post: Any, names: list[str]) -> list[dict[str, str]]:
    """The table editor's cells (``cell-<row>-<field>``) as rows, with ``op`` applied:
    "add" appends an empty row, "remove:<n>" drops row n."""
    count = int(post.get("rows") or 0)
    rows = [{name: post.get(f"cell-{i}-{name}", "") for name in names} for i in range(count)]
    op = str(post.get("op") or "")
    if op == "add":
        rows.append({name: "" for name in names})
    elif op.startswith("remove:") and op[7:].isdigit() and int(op[7:]) < len(rows):
        rows.pop(int(op[7:]))
    return rows


@require_POST
@login_required
def datameta_rows(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Save the table editor (htmx posts it when a cell changes, or a row is added or
    removed) and show each cell's problems again."""
    target = _datameta_target(request, pk)
    names = [str(n) for n in request.POST.getlist("columns")]
    rows = rows_from_post(request.POST, names)
    if request.POST.get("op") == "add":
        # an empty row is dropped on save; keep it on screen so it can be filled in
        rows_to_show = rows
        rows = rows[:-1]
    else:
        rows_to_show = None
    try:
        target = datameta_sheets.save_rows(target, rows, user=request.user)
    except lifecycle.NotAllowed as exc:
        messages.error(request, str(exc))
    context = panel_context(target)
    if rows_to_show is not None:
        context["table"].rows.append(
            Row(
                index=len(rows_to_show) - 1,
                number=len(rows_to_show),
                cells=[Cell(d.name, "", [], d.is_file) for d in context["table"].columns],
                problems=[],
            )
        )
    if request.htmx:
        response = _render_panel(request, target, context)
        # the target's readiness and actions on its card follow the table (not this
        # panel: it has just been drawn, with the row being added)
        trigger_client_event(response, "target-changed")
        return response
    return _panel(request, target)


@require_POST
@login_required
def datameta_sheet(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Read an uploaded sample sheet and show every cell's problem before anything is
    saved or sent."""
    target = _datameta_target(request, pk)
    upload = request.FILES.get("sheet")
    if upload is None:
        messages.error(request, "Choose a sample sheet (.csv or .xlsx) to import.")
        return _panel(request, target)
    schema = target.account.schema or {}
    try:
        sheet = read_sheet(upload.name or "sheet", upload.read(MAX_SHEET_BYTES + 1), schema)
    except SheetError as exc:
        messages.error(request, f"{upload.name} could not be imported: {exc}")
        return _panel(request, target)
    files = _file_names(target)
    checked = rules.check_rows(sheet.rows, schema, files)
    problems = [
        Problem(
            f"options.metadatasets.{p.row}.{p.column}" if p.row is not None else p.column,
            p.message,
        )
        for p in checked
    ]
    referenced = {
        r.get(d.name) for r in sheet.rows for d in fields.submitter_fields(schema) if d.is_file
    }
    payload = signing.dumps(
        {"target": target.pk, "rows": sheet.rows, "name": upload.name},
        salt=SIGNING_SALT,
        compress=True,
    )
    return render(
        request,
        PREVIEW,
        {
            "deposit": target.deposit,
            "target": target,
            "sheet_name": upload.name,
            "sheet": sheet,
            "table": build_table(sheet.rows, schema, problems, lines=sheet.lines),
            "missing_files": sorted(n for n in referenced if n and n not in files),
            "unreferenced_files": [n for n in files if n not in referenced],
            "payload": payload,
            "existing": len(target.options.get("metadatasets") or []),
        },
    )


@require_POST
@login_required
def datameta_sheet_import(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Put the previewed rows in the table (replacing it, or added below it)."""
    target = _datameta_target(request, pk)
    try:
        data = signing.loads(
            request.POST.get("payload", ""), salt=SIGNING_SALT, max_age=PREVIEW_MAX_AGE
        )
    except signing.BadSignature:
        messages.error(request, "The preview expired: choose the sheet again.")
        return _panel(request, target)
    if data.get("target") != target.pk:
        raise Http404("This preview belongs to another target")
    append = request.POST.get("mode") == "append"
    try:
        datameta_sheets.import_rows(
            target, data["rows"], user=request.user, append=append, source=str(data["name"])
        )
    except lifecycle.NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Imported {len(data['rows'])} samples from {data['name']}.")
    return redirect(reverse("deposit", args=[target.deposit_id]) + f"#datameta-{target.pk}")


@require_GET
@login_required
def datameta_sheet_template(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A CSV with the site's columns and an example row, to fill in offline."""
    target = _datameta_target(request, pk)
    columns = fields.submitter_fields(target.account.schema)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([d.name for d in columns])
    writer.writerow([d.example for d in columns])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="datameta-samples.csv"'
    return response


@require_POST
@login_required
def datameta_fields_refresh(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Fetch the site's metadata fields again (a worker does it)."""
    target = _datameta_target(request, pk)
    datameta_sheets.refresh_fields(target.account, user=request.user)
    messages.info(
        request, f"Fetching the metadata fields of {target.account}; this takes a few seconds."
    )
    return _panel(request, target)
