"""A deposit's metadata as DataCite 4.5 JSON or XML, to download from its page."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from deposits import access
from deposits import metadata as md
from deposits.models import Deposit, Identifier
from deposits.repositories import registry

FORMATS = {"json": "application/json", "xml": "application/xml"}
# What to do about DataCite's mandatory properties, by the path its schema names.
MISSING = {
    "titles": "Give the deposit a title.",
    "creators": "Add at least one creator with a name.",
    "types": "Choose a resource type.",
}


def _published_doi(deposit: Deposit) -> tuple[str, str, str]:
    """(DOI, publisher, year) of the first version DOI a target of the deposit holds."""
    found = (
        Identifier.objects.filter(target__deposit=deposit, scheme="doi", scope="version")
        .select_related("target__account")
        .order_by("created")
        .first()
    )
    if found is None:
        return "", deposit.team.name, ""
    kind = found.target.account.kind
    publisher = registry.get(kind).label if kind in registry.kinds() else deposit.team.name
    return found.value, publisher, str(found.created.year)


def _explain(problem: str) -> str:
    path = problem.split(":", 1)[0].split(".", 1)[0]
    return MISSING.get(path, problem)


@require_GET
@login_required
def deposit_datacite(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The DataCite record; if the metadata cannot make a valid one yet, a page that says
    which fields to fill in (422), with a link back to the editor."""
    if fmt not in FORMATS:
        raise Http404
    deposit = access.get_deposit_for(request.user, pk)
    doi, publisher, year = _published_doi(deposit)
    try:
        data = md.datacite_json(deposit.metadata, doi=doi, publisher=publisher, year=year)
    except md.ExportError as exc:
        problems = sorted({_explain(p) for p in exc.problems})
        return render(
            request, "export-problems.html", {"deposit": deposit, "problems": problems}, status=422
        )
    body = (
        json.dumps(data, indent=2, ensure_ascii=False) if fmt == "json" else md.datacite_xml(data)
    )
    response = HttpResponse(body, content_type=f"{FORMATS[fmt]}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="deposit-{deposit.pk}-datacite.{fmt}"'
    return response
