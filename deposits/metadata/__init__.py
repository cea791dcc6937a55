"""Neutral deposit metadata: a DataCite 4.5 record, stored as JSON on ``Deposit.metadata``.

The record uses DataCite's JSON property names and vocabularies (``titles``, ``types``
with ``resourceTypeGeneral``, ``creators`` with ``nameIdentifiers`` and ``affiliation``,
``descriptions`` by ``descriptionType``, ``subjects`` with schemes, ``dates`` by
``dateType``, ``relatedIdentifiers`` with ``relationType``, ``fundingReferences``,
``rightsList`` with SPDX ids, ``geoLocations``, ``version``, ``language``,
``relatedItems``). Each connector's crosswalk maps from it; ``export`` turns it into
DataCite JSON and XML.

What a repository needs and DataCite has no property for is kept in documented
extensions, which the export leaves out:

    access              {right: open|embargoed|restricted|closed, conditions: text}
                        (an embargo's end is the ``dates`` entry of type Available)
    references          [citation text]
    conference          {title, acronym, dates, place, url, session, session_part}
    imprint             {publisher, isbn, place}
    partOf              {title, pages}  (the book a section is part of)
    thesis              {university, supervisors: [person as in creators]}
    relatedIdentifiers[].resourceType   the subtype label, as in ``types``
    geoLocations[].description          a note on the place

Every key is optional in storage: what a target requires is its connector's business
(``Connector.validate``). ``editing`` is the editor's flat view of a record, whose field
paths ("creators.0.orcid") are what problems name.
"""

from __future__ import annotations

from .editing import to_record, to_view
from .export import ExportError, datacite_json, datacite_xml
from .record import (
    ROR_RE,
    Record,
    affiliation,
    clean,
    date,
    description,
    identifier,
    items,
    keywords,
    license_id,
    normalize_orcid,
    normalize_ror,
    resource_type,
    ror,
    sanitize_html,
    title,
)
from .vocabulary import (
    ACCESS_RIGHTS,
    CONTRIBUTOR_TYPES,
    DATE_TYPES,
    IMAGE_TYPES,
    PUBLICATION_TYPES,
    RELATION_CHOICES,
    RELATIONS,
    RESOURCE_TYPES,
    RESOURCE_TYPES_GENERAL,
    TYPE_BY_ID,
    ResourceType,
)

__all__ = [
    "ACCESS_RIGHTS",
    "CONTRIBUTOR_TYPES",
    "DATE_TYPES",
    "IMAGE_TYPES",
    "PUBLICATION_TYPES",
    "RELATIONS",
    "RELATION_CHOICES",
    "RESOURCE_TYPES",
    "RESOURCE_TYPES_GENERAL",
    "ROR_RE",
    "TYPE_BY_ID",
    "ExportError",
    "Record",
    "ResourceType",
    "affiliation",
    "clean",
    "datacite_json",
    "datacite_xml",
    "date",
    "description",
    "identifier",
    "items",
    "keywords",
    "license_id",
    "normalize_orcid",
    "normalize_ror",
    "resource_type",
    "ror",
    "sanitize_html",
    "title",
    "to_record",
    "to_view",
]
