"""The HTML pages the sandbox's replies link to (``links.html``, ``record_html``,
``latest_html``, ``latest_draft_html``, ``badge``): a plain landing page per record, as
zenodo.org has one, so a link the portal shows never ends in a 404."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from .models import Deposition

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | Zenodo sandbox</title></head>
<body><main>
<p>Zenodo sandbox{note}</p>
<h1>{title}</h1>
<p>{creators}</p>
{doi}
<h2>Files</h2>
<table><thead><tr><th>Name</th><th>Size</th><th>MD5</th></tr></thead><tbody>{files}</tbody></table>
</main></body></html>"""


def _page(deposition: Deposition, metadata: dict[str, Any], note: str) -> HttpResponse:
    creators = metadata.get("creators") or []
    names = "; ".join(
        str(c.get("name", "")) for c in creators if isinstance(c, dict) and c.get("name")
    )
    doi = (
        format_html(
            '<p>DOI <a href="https://doi.org/{0}">{0}</a>'
            ' (all versions: <a href="https://doi.org/{1}">{1}</a>)</p>',
            deposition.doi,
            deposition.concept.doi or deposition.doi,
        )
        if deposition.doi
        else ""
    )
    files = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((f.key, f"{f.size} bytes", f.md5) for f in deposition.files.all()),
    )
    body = format_html(
        PAGE,
        title=str(metadata.get("title") or "Untitled"),
        note=note,
        creators=names,
        doi=doi,
        files=files,
    )
    return HttpResponse(body, content_type="text/html; charset=utf-8")


def _published(record_id: int) -> Deposition:
    record = Deposition.published_record(record_id)
    if record is None:
        raise Http404("No such record.")
    return record


def record_page(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _published(record_id)
    return _page(record, record.published_metadata or record.metadata, "")


def latest_page(request: HttpRequest, record_id: int) -> HttpResponse:
    newest = _published(record_id).newest_version()
    return HttpResponseRedirect(reverse("sandbox_zenodo:record-page", args=[newest.pk]))


def draft_page(request: HttpRequest, deposition_id: int) -> HttpResponse:
    draft = Deposition.objects.select_related("concept").filter(pk=deposition_id).first()
    if draft is None:
        raise Http404("No such deposition.")
    if draft.is_published and not draft.has_draft:  # no open draft: the record itself
        return _page(draft, draft.published_metadata or draft.metadata, "")
    return _page(draft, draft.metadata, ": an unpublished draft, seen only by its owner")


def badge(request: HttpRequest, doi: str) -> HttpResponse:
    """The DOI badge an embed shows (``links.badge``): an SVG with the DOI."""
    svg = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" '
        'aria-label="DOI: {doi}"><rect width="{w}" height="20" fill="#1682D4"/>'
        '<text x="6" y="14" fill="#fff" font-family="sans-serif" font-size="11">'
        "DOI {doi}</text></svg>",
        w=40 + 7 * len(doi),
        doi=doi,
    )
    return HttpResponse(svg, content_type="image/svg+xml")
