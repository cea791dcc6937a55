"""JSON replies, shaped like the recorded ones in reference/zenodo-fixtures (notes §1.3).

Links are absolute and built from the request's host, so a client that follows links
(never builds URLs, notes §1.3) keeps talking to the sandbox it was pointed at.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.http import HttpRequest
from django.urls import reverse

from .models import DepositFile, Deposition
from .vocabularies import RESOURCE_SUBTYPES, legacy_license

# The real service hard-codes this prefix in prereserve_doi, even on its sandbox whose
# DOIs are 10.5072/... (notes §1.10).
PRERESERVE_PREFIX = "10.5281"
DOI_PREFIX = "10.5072"


class Links:
    """Absolute URLs under this sandbox: ``site`` is the HTML root, ``api`` the API root."""

    def __init__(self, request: HttpRequest) -> None:
        self.site = request.build_absolute_uri(reverse("sandbox_zenodo:index"))
        self.api = self.site + "api"

    def deposition(self, deposition_id: int) -> str:
        return f"{self.api}/deposit/depositions/{deposition_id}"

    def record(self, record_id: int) -> str:
        return f"{self.api}/records/{record_id}"

    def bucket(self, deposition: Deposition) -> str:
        return f"{self.api}/files/{deposition.bucket}"

    def badge(self, doi: str) -> str:
        return f"{self.site}badge/doi/{quote(doi, safe='')}.svg"


def timestamp(value: Any) -> str:
    return value.isoformat()


def dump_metadata(deposition: Deposition, metadata: dict[str, Any]) -> dict[str, Any]:
    """The legacy metadata: stored fields plus what the serializer computes (notes §1.3)."""
    dumped = {key: value for key, value in metadata.items() if key != "doi"}
    # restricted and closed both become restricted files in RDM, and read back so.
    access_right = metadata.get("access_right", "open")
    dumped["access_right"] = "restricted" if access_right == "closed" else access_right
    if "license" in metadata:
        dumped["license"] = legacy_license(metadata["license"])
    if deposition.is_published:
        dumped["doi"] = deposition.doi
    dumped["prereserve_doi"] = {
        "doi": f"{PRERESERVE_PREFIX}/zenodo.{deposition.pk}",
        "recid": deposition.pk,
    }
    return dumped


def file_json(deposition: Deposition, file: DepositFile, links: Links) -> dict[str, Any]:
    """A file of the deposit API: bare-hex checksum; download is always the draft URL (§1.3)."""
    base = (
        f"{links.record(deposition.pk)}/files"
        if deposition.state == "done"
        else f"{links.deposition(deposition.pk)}/files"
    )
    return {
        "id": str(file.pk),
        "filename": file.key,
        "filesize": file.size,
        "checksum": file.md5,
        "links": {
            "self": f"{base}/{file.pk}",
            "download": f"{links.record(deposition.pk)}/draft/files/{quote(file.key)}/content",
        },
    }


def deposition_json(deposition: Deposition, links: Links) -> dict[str, Any]:
    """A deposition as ``/api/deposit/depositions`` shows it (notes §1.3, links_item)."""
    pk = deposition.pk
    conceptdoi = deposition.concept.doi
    done = deposition.state == "done"
    own = links.deposition(pk)
    next_draft = deposition if deposition.has_draft else deposition.next_draft() or deposition
    link_map = {
        "self": links.record(pk) if done else own,
        "html": f"{links.site}records/{pk}" if done else f"{links.site}deposit/{pk}",
        "badge": links.badge(deposition.doi),
        "files": f"{links.record(pk)}/files" if done else f"{own}/files",
        "bucket": links.bucket(deposition),
        "latest_draft": links.deposition(next_draft.pk),
        "latest_draft_html": f"{links.site}deposit/{next_draft.pk}",
        "publish": f"{own}/actions/publish",
        "edit": f"{own}/actions/edit",
        "discard": f"{own}/actions/discard",
        "newversion": f"{own}/actions/newversion",
        "registerconceptdoi": f"{own}/actions/registerconceptdoi",
    }
    body: dict[str, Any] = {
        "created": timestamp(deposition.created),
        "modified": timestamp(deposition.modified),
        "id": pk,
        "record_id": pk,
        "conceptrecid": str(deposition.concept_id),
    }
    if deposition.is_published:
        link_map |= {
            "doi": f"https://doi.org/{deposition.doi}",
            "parent_doi": f"https://doi.org/{conceptdoi}",
            "conceptbadge": links.badge(conceptdoi),
            "record": links.record(pk),
            "record_html": f"{links.site}record/{pk}",
            "latest": f"{links.record(pk)}/versions/latest",
            "latest_html": f"{links.site}record/{pk}/versions/latest",
        }
        body |= {"doi": deposition.doi, "doi_url": f"https://doi.org/{deposition.doi}"}
    if conceptdoi:
        body["conceptdoi"] = conceptdoi
    body |= {
        "metadata": dump_metadata(deposition, deposition.metadata),
        "title": deposition.metadata.get("title", ""),
        "links": link_map,
        "owner": deposition.owner_id,
        "files": [file_json(deposition, f, links) for f in deposition.files.all()],
        "state": deposition.state,
        "submitted": deposition.is_published,
    }
    return body


def object_json(deposition: Deposition, file: DepositFile, links: Links) -> dict[str, Any]:
    """A bucket object as the Files-REST ``PUT`` returns it: ``md5:``-prefixed checksum."""
    url = f"{links.bucket(deposition)}/{quote(file.key)}"
    return {
        "created": timestamp(file.created),
        "updated": timestamp(file.updated),
        "version_id": str(file.version_id),
        "key": file.key,
        "size": file.size,
        "mimetype": file.mimetype,
        "checksum": f"md5:{file.md5}",
        "is_head": True,
        "delete_marker": False,
        "links": {
            "self": url,
            "version": f"{url}?versionId={file.version_id}",
            "uploads": f"{url}?uploads",
        },
    }


def bucket_json(deposition: Deposition, links: Links, quota_bytes: int) -> dict[str, Any]:
    files = list(deposition.files.all())
    url = links.bucket(deposition)
    return {
        "id": str(deposition.bucket),
        "created": timestamp(deposition.created),
        "updated": timestamp(deposition.modified),
        "locked": deposition.is_published,
        "size": sum(f.size for f in files),
        "quota_size": quota_bytes,
        "max_file_size": quota_bytes,
        "links": {"self": url, "versions": f"{url}?versions", "uploads": f"{url}?uploads"},
        "contents": [object_json(deposition, f, links) for f in files],
    }


def record_file_json(deposition: Deposition, file: DepositFile, links: Links) -> dict[str, Any]:
    return {
        "id": str(file.pk),
        "key": file.key,
        "size": file.size,
        "checksum": f"md5:{file.md5}",
        "links": {"self": f"{links.record(deposition.pk)}/files/{quote(file.key)}/content"},
    }


def record_json(
    deposition: Deposition, links: Links, version_index: int, is_last: bool
) -> dict[str, Any]:
    """A published record as ``/api/records/<id>`` shows it (zenodo-rdm's zenodojson)."""
    pk = deposition.pk
    metadata = dump_metadata(deposition, deposition.published_metadata or {})
    metadata.pop("prereserve_doi")
    upload_type = metadata.get("upload_type")
    if upload_type:
        resource_type = {"type": upload_type}
        subtype = metadata.get(f"{upload_type}_type")
        if upload_type in RESOURCE_SUBTYPES and subtype:
            resource_type["subtype"] = subtype
        metadata["resource_type"] = resource_type
    if "license" in metadata:
        metadata["license"] = {"id": metadata["license"]}
    metadata["relations"] = {
        "version": [
            {
                "index": version_index,
                "is_last": is_last,
                "parent": {"pid_type": "recid", "pid_value": str(deposition.concept_id)},
            }
        ]
    }
    conceptdoi = deposition.concept.doi
    return {
        "created": timestamp(deposition.created),
        "modified": timestamp(deposition.modified),
        "updated": timestamp(deposition.modified),
        "id": pk,
        "recid": str(pk),
        "conceptrecid": str(deposition.concept_id),
        "doi": deposition.doi,
        "conceptdoi": conceptdoi,
        "doi_url": f"https://doi.org/{deposition.doi}",
        "metadata": metadata,
        "title": metadata.get("title", ""),
        "links": {
            "self": links.record(pk),
            "html": f"{links.site}records/{pk}",
            "doi": f"https://doi.org/{deposition.doi}",
            "parent_doi": f"https://doi.org/{conceptdoi}",
            "badge": links.badge(deposition.doi),
            "conceptbadge": links.badge(conceptdoi),
            "files": f"{links.record(pk)}/files",
            "latest": f"{links.record(pk)}/versions/latest",
            "latest_html": f"{links.site}record/{pk}/versions/latest",
        },
        "owners": [{"id": deposition.owner_id}],
        "status": "published",
        "stats": {
            "downloads": 0,
            "unique_downloads": 0,
            "views": 0,
            "unique_views": 0,
            "version_downloads": 0,
            "version_unique_downloads": 0,
            "version_unique_views": 0,
            "version_views": 0,
        },
        "files": [record_file_json(deposition, f, links) for f in deposition.files.all()],
        "revision": 1,
        "state": "done",
        "submitted": True,
    }
