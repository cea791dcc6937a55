"""The controlled vocabularies the deposit API checks against (zenodo-rest-api.txt, notes §1.4).

A subset of what zenodo.org serves, enough for realistic deposits: licenses by their RDM
id (plus the legacy ids clients still send), resource types, access rights, languages.
"""

from __future__ import annotations

ACCESS_RIGHTS = frozenset({"open", "embargoed", "restricted", "closed"})

# RDM license ids (SPDX, lower case) the sandbox knows.
LICENSES = frozenset(
    [
        "cc0-1.0",
        "cc-by-1.0",
        "cc-by-2.0",
        "cc-by-3.0",
        "cc-by-4.0",
        "cc-by-sa-3.0",
        "cc-by-sa-4.0",
        "cc-by-nc-4.0",
        "cc-by-nd-4.0",
        "cc-by-nc-sa-4.0",
        "cc-by-nc-nd-4.0",
        "cc-pdm-1.0",
        "mit",
        "apache-2.0",
        "bsd-2-clause",
        "bsd-3-clause",
        "isc",
        "unlicense",
        "gpl-2.0-only",
        "gpl-2.0-or-later",
        "gpl-3.0-only",
        "gpl-3.0-or-later",
        "lgpl-2.1-only",
        "lgpl-3.0-only",
        "agpl-3.0-only",
        "mpl-2.0",
        "epl-2.0",
        "eupl-1.2",
        "odc-by-1.0",
        "odbl-1.0",
        "pddl-1.0",
        "other-open",
        "other-closed",
        "other-at",
        "other-pd",
        "other-nc",
    ]
)
# Legacy Zenodo ids, still accepted on input.
LEGACY_LICENSE_ALIASES = {
    "cc-zero": "cc0-1.0",
    "cc-by": "cc-by-4.0",
    "cc-by-sa": "cc-by-sa-4.0",
    "cc-nc": "cc-by-nc-4.0",
    "cc-by-nc": "cc-by-nc-4.0",
    "cc-by-nd": "cc-by-nd-4.0",
    "cc-by-nc-sa": "cc-by-nc-sa-4.0",
    "cc-by-nc-nd": "cc-by-nc-nd-4.0",
    "odc-by": "odc-by-1.0",
    "odc-odbl": "odbl-1.0",
    "odc-pddl": "pddl-1.0",
    "gpl-3.0": "gpl-3.0-only",
    "gpl-2.0": "gpl-2.0-only",
    "lgpl-3.0": "lgpl-3.0-only",
    "agpl-3.0": "agpl-3.0-only",
}
# The legacy serializer shows a few RDM ids under their old name (fixtures: "cc-zero").
RDM_TO_LEGACY = {"cc0-1.0": "cc-zero"}

RESOURCE_SUBTYPES = {
    "publication": frozenset(
        [
            "annotationcollection",
            "book",
            "section",
            "conferencepaper",
            "datamanagementplan",
            "article",
            "patent",
            "preprint",
            "deliverable",
            "milestone",
            "proposal",
            "report",
            "softwaredocumentation",
            "taxonomictreatment",
            "technicalnote",
            "thesis",
            "workingpaper",
            "peerreview",
            "other",
        ]
    ),
    "image": frozenset(["figure", "plot", "drawing", "diagram", "photo", "other"]),
}
RESOURCE_TYPES = frozenset(
    [
        "publication",
        "poster",
        "presentation",
        "dataset",
        "image",
        "video",
        "software",
        "lesson",
        "physicalobject",
        "workflow",
        "model",
        "event",
        "other",
    ]
)

LANGUAGES_639_1 = {
    "en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "nl": "nld",
    "pt": "por", "no": "nor", "nb": "nob", "nn": "nno", "sv": "swe", "da": "dan",
    "fi": "fin", "is": "isl", "pl": "pol", "cs": "ces", "ru": "rus", "uk": "ukr",
    "el": "ell", "tr": "tur", "zh": "zho", "ja": "jpn", "ko": "kor", "ar": "ara",
    "he": "heb", "hi": "hin", "la": "lat",
}  # fmt: skip


def license_id(value: str) -> str | None:
    """The RDM id of a license given by RDM id or legacy id, case-insensitively."""
    key = value.strip().lower()
    key = LEGACY_LICENSE_ALIASES.get(key, key)
    return key if key in LICENSES else None


def legacy_license(rdm_id: str) -> str:
    return RDM_TO_LEGACY.get(rdm_id, rdm_id)


def resource_type_exists(upload_type: str, subtype: str | None) -> bool:
    if upload_type not in RESOURCE_TYPES:
        return False
    return subtype is None or subtype in RESOURCE_SUBTYPES.get(upload_type, frozenset())
