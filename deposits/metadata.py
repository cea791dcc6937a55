"""Neutral deposit metadata (DataCite-like), stored as JSON on ``Deposit.metadata``.

This module is the one description of its shape; connectors crosswalk from it, forms
edit it. Every key is optional in storage: what a target requires is that target's
connector's business (``Connector.validate``).

Shape (all strings unless said otherwise)::

    title
    resource_type        one of RESOURCE_TYPES
    publication_type     when resource_type == "publication" (PUBLICATION_TYPES)
    image_type           when resource_type == "image" (IMAGE_TYPES)
    publication_date     YYYY-MM-DD
    creators             [{name "Family, Given", affiliation, orcid, gnd}]
    contributors         [{name, affiliation, orcid, gnd, type (CONTRIBUTOR_TYPES)}]
    description          HTML, sanitised on save (sanitize_html)
    access_right         open | embargoed | restricted | closed
    embargo_date         YYYY-MM-DD, when embargoed
    access_conditions    text, when restricted
    license              a license id (e.g. "cc-by-4.0")
    keywords             [str]
    subjects             [{term, identifier, scheme}]
    related_identifiers  [{identifier, relation, resource_type, scheme}]
    references           [str]
    funding              [{funder_doi, award_number}]  (Zenodo grants "funderDOI::award")
    version, language (ISO 639-2/3), notes, method
    dates                [{start, end, type (DATE_TYPES), description}]
    locations            [{place, lat (float), lon (float), description}]
    journal              {title, volume, issue, pages}
    conference           {title, acronym, dates, place, url, session, session_part}
    imprint              {publisher, isbn, place}
    part_of              {title, pages}
    thesis               {university, supervisors: [{name, affiliation, orcid}]}
"""

from __future__ import annotations

import re
from typing import Any

import nh3

RESOURCE_TYPES = [
    ("dataset", "Dataset"),
    ("software", "Software"),
    ("publication", "Publication"),
    ("poster", "Poster"),
    ("presentation", "Presentation"),
    ("image", "Image"),
    ("video", "Video/Audio"),
    ("lesson", "Lesson"),
    ("physicalobject", "Physical object"),
    ("workflow", "Workflow"),
    ("model", "Model"),
    ("other", "Other"),
]
PUBLICATION_TYPES = [
    ("annotationcollection", "Annotation collection"),
    ("book", "Book"),
    ("section", "Book section"),
    ("conferencepaper", "Conference paper"),
    ("datamanagementplan", "Data management plan"),
    ("article", "Journal article"),
    ("patent", "Patent"),
    ("preprint", "Preprint"),
    ("deliverable", "Project deliverable"),
    ("milestone", "Project milestone"),
    ("proposal", "Proposal"),
    ("report", "Report"),
    ("softwaredocumentation", "Software documentation"),
    ("taxonomictreatment", "Taxonomic treatment"),
    ("technicalnote", "Technical note"),
    ("thesis", "Thesis"),
    ("workingpaper", "Working paper"),
    ("other", "Other"),
]
IMAGE_TYPES = [
    ("figure", "Figure"),
    ("plot", "Plot"),
    ("drawing", "Drawing"),
    ("diagram", "Diagram"),
    ("photo", "Photo"),
    ("other", "Other"),
]
ACCESS_RIGHTS = [
    ("open", "Open access"),
    ("embargoed", "Embargoed access"),
    ("restricted", "Restricted access"),
    ("closed", "Closed access"),
]
CONTRIBUTOR_TYPES = [
    "ContactPerson", "DataCollector", "DataCurator", "DataManager", "Distributor",
    "Editor", "HostingInstitution", "Producer", "ProjectLeader", "ProjectManager",
    "ProjectMember", "RegistrationAgency", "RegistrationAuthority", "RelatedPerson",
    "Researcher", "ResearchGroup", "RightsHolder", "Supervisor", "Sponsor", "WorkPackageLeader",
    "Other",
]  # fmt: skip
DATE_TYPES = ["Collected", "Valid", "Withdrawn"]
RELATIONS = [
    "isCitedBy", "cites", "isSupplementTo", "isSupplementedBy", "isContinuedBy",
    "continues", "isDescribedBy", "describes", "hasMetadata", "isMetadataFor",
    "isNewVersionOf", "isPreviousVersionOf", "isPartOf", "hasPart", "isReferencedBy",
    "references", "isDocumentedBy", "documents", "isCompiledBy", "compiles",
    "isVariantFormOf", "isOriginalFormOf", "isIdenticalTo", "isAlternateIdentifier",
    "isReviewedBy", "reviews", "isDerivedFrom", "isSourceOf", "requires", "isRequiredBy",
    "isObsoletedBy", "obsoletes",
]  # fmt: skip

# Tags a repository description may carry (Zenodo renders a similar subset).
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "i",
    "li", "ol", "p", "pre", "strong", "sub", "sup", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}

ORCID_RE = re.compile(r"^(?:https?://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$")


def sanitize_html(html: str) -> str:
    """Strip everything but simple formatting; scripts and event handlers never survive."""
    return nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ).strip()


def normalize_orcid(value: str) -> str | None:
    """The bare ORCID iD if ``value`` is one (with a valid checksum), else None."""
    match = ORCID_RE.match((value or "").strip())
    if not match:
        return None
    digits = match.group(1).replace("-", "")
    total = 0
    for char in digits[:-1]:
        total = (total + int(char)) * 2
    check = (12 - total % 11) % 11
    expected = "X" if check == 10 else str(check)
    return match.group(1) if digits[-1] == expected else None


def clean(metadata: dict[str, Any]) -> dict[str, Any]:
    """Normalise a metadata dict before it is stored: sanitise HTML, drop empty values."""
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if key == "description" and isinstance(value, str):
            value = sanitize_html(value)
        if value in ("", None, [], {}):
            continue
        out[key] = value
    return out
