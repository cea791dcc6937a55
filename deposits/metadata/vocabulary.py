"""The controlled values of the neutral metadata: DataCite 4.5's vocabularies, and the
portal's resource types, each a DataCite ``resourceTypeGeneral`` with a subtype.

DataCite spells its values in UpperCamelCase (``IsSupplementTo``, ``JournalArticle``);
the stored metadata uses DataCite's spelling, and a connector translates to its
repository's (Zenodo's ``isSupplementTo``, ``publication-article``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceType:
    """One choice of resource type: ``id`` is the editor's value ("publication-article"),
    stored as DataCite ``types`` ``{resourceTypeGeneral: general, resourceType: label}``."""

    id: str
    general: str
    label: str

    @property
    def parent(self) -> str:
        """The top-level choice: "publication" for "publication-article"."""
        return self.id.split("-", 1)[0]

    @property
    def subtype(self) -> str:
        """The subtype within the parent ("article"), or "" for a top-level type."""
        return self.id.split("-", 1)[1] if "-" in self.id else ""


def _types(*rows: tuple[str, str, str]) -> tuple[ResourceType, ...]:
    return tuple(ResourceType(*row) for row in rows)


# Top-level types, then the subtypes of publications and images. The mapping of each to
# DataCite's resourceTypeGeneral is the one Zenodo's resource type vocabulary uses.
TOP_TYPES = _types(
    ("dataset", "Dataset", "Dataset"),
    ("software", "Software", "Software"),
    ("publication", "Text", "Publication"),
    ("poster", "Text", "Poster"),
    ("presentation", "Text", "Presentation"),
    ("image", "Image", "Image"),
    ("video", "Audiovisual", "Video/Audio"),
    ("lesson", "InteractiveResource", "Lesson"),
    ("physicalobject", "PhysicalObject", "Physical object"),
    ("workflow", "Workflow", "Workflow"),
    ("model", "Model", "Model"),
    ("other", "Other", "Other"),
)
PUBLICATION_SUBTYPES = _types(
    ("publication-annotationcollection", "Collection", "Annotation collection"),
    ("publication-book", "Book", "Book"),
    ("publication-section", "BookChapter", "Book section"),
    ("publication-conferencepaper", "ConferencePaper", "Conference paper"),
    ("publication-datamanagementplan", "OutputManagementPlan", "Data management plan"),
    ("publication-article", "JournalArticle", "Journal article"),
    ("publication-patent", "Text", "Patent"),
    ("publication-preprint", "Preprint", "Preprint"),
    ("publication-deliverable", "Text", "Project deliverable"),
    ("publication-milestone", "Text", "Project milestone"),
    ("publication-proposal", "Text", "Proposal"),
    ("publication-report", "Report", "Report"),
    ("publication-softwaredocumentation", "Text", "Software documentation"),
    ("publication-taxonomictreatment", "Text", "Taxonomic treatment"),
    ("publication-technicalnote", "Text", "Technical note"),
    ("publication-thesis", "Dissertation", "Thesis"),
    ("publication-workingpaper", "Text", "Working paper"),
    ("publication-other", "Text", "Other publication"),
)
IMAGE_SUBTYPES = _types(
    ("image-figure", "Image", "Figure"),
    ("image-plot", "Image", "Plot"),
    ("image-drawing", "Image", "Drawing"),
    ("image-diagram", "Image", "Diagram"),
    ("image-photo", "Image", "Photo"),
    ("image-other", "Image", "Other image"),
)
ALL_TYPES = TOP_TYPES + PUBLICATION_SUBTYPES + IMAGE_SUBTYPES
TYPE_BY_ID = {t.id: t for t in ALL_TYPES}
TYPE_BY_LABEL = {(t.general, t.label): t for t in ALL_TYPES}

# (value, label) pairs for the editor's three selects.
RESOURCE_TYPES = [(t.id, t.label) for t in TOP_TYPES]
PUBLICATION_TYPES = [(t.subtype, t.label) for t in PUBLICATION_SUBTYPES]
IMAGE_TYPES = [(t.subtype, t.label) for t in IMAGE_SUBTYPES]

RESOURCE_TYPES_GENERAL = [
    "Audiovisual", "Book", "BookChapter", "Collection", "ComputationalNotebook",
    "ConferencePaper", "ConferenceProceeding", "DataPaper", "Dataset", "Dissertation",
    "Event", "Image", "Instrument", "InteractiveResource", "Journal", "JournalArticle",
    "Model", "OutputManagementPlan", "PeerReview", "PhysicalObject", "Preprint", "Report",
    "Service", "Software", "Sound", "Standard", "StudyRegistration", "Text", "Workflow",
    "Other",
]  # fmt: skip

# Access to the files: not a DataCite property (DataCite states it in rightsList with the
# info:eu-repo access terms, which the export adds).
ACCESS_RIGHTS = [
    ("open", "Open access"),
    ("embargoed", "Embargoed access"),
    ("restricted", "Restricted access"),
    ("closed", "Closed access"),
]
ACCESS_RIGHTS_URI = {
    "open": "info:eu-repo/semantics/openAccess",
    "embargoed": "info:eu-repo/semantics/embargoedAccess",
    "restricted": "info:eu-repo/semantics/restrictedAccess",
    "closed": "info:eu-repo/semantics/closedAccess",
}

CONTRIBUTOR_TYPES = [
    "ContactPerson", "DataCollector", "DataCurator", "DataManager", "Distributor",
    "Editor", "HostingInstitution", "Producer", "ProjectLeader", "ProjectManager",
    "ProjectMember", "RegistrationAgency", "RegistrationAuthority", "RelatedPerson",
    "Researcher", "ResearchGroup", "RightsHolder", "Supervisor", "Sponsor", "WorkPackageLeader",
    "Other",
]  # fmt: skip
# The dates a person adds; Issued (the publication date) and Available (an embargo's end)
# have fields of their own.
DATE_TYPES = ["Collected", "Valid", "Withdrawn"]
ISSUED = "Issued"
AVAILABLE = "Available"
RELATIONS = [
    "IsCitedBy", "Cites", "IsSupplementTo", "IsSupplementedBy", "IsContinuedBy",
    "Continues", "IsDescribedBy", "Describes", "HasMetadata", "IsMetadataFor",
    "IsNewVersionOf", "IsPreviousVersionOf", "IsPartOf", "HasPart", "IsReferencedBy",
    "References", "IsDocumentedBy", "Documents", "IsCompiledBy", "Compiles",
    "IsVariantFormOf", "IsOriginalFormOf", "IsIdenticalTo", "IsReviewedBy", "Reviews",
    "IsDerivedFrom", "IsSourceOf", "Requires", "IsRequiredBy", "IsObsoletedBy", "Obsoletes",
    "HasVersion", "IsVersionOf", "IsPublishedIn", "IsCollectedBy", "Collects",
]  # fmt: skip
# Not a relation in DataCite: an identifier of this same resource, stored in
# ``alternateIdentifiers``. The editor offers it among the relations, as Zenodo does.
ALTERNATE = "IsAlternateIdentifier"
RELATION_CHOICES = [*RELATIONS, ALTERNATE]
RELATED_IDENTIFIER_TYPES = [
    "ARK", "arXiv", "bibcode", "DOI", "EAN13", "EISSN", "Handle", "IGSN", "ISBN", "ISSN",
    "ISTC", "LISSN", "LSID", "PMID", "PURL", "UPC", "URL", "URN", "w3id",
]  # fmt: skip
IDENTIFIER_TYPE_BY_LOWER = {t.lower(): t for t in RELATED_IDENTIFIER_TYPES}

ORCID_URI = "https://orcid.org"
ROR_URI = "https://ror.org"
GND_URI = "https://d-nb.info/gnd/"
CROSSREF_FUNDER = "Crossref Funder ID"
SPDX = "SPDX"
SPDX_URI = "https://spdx.org/licenses/"

# Funders whose Crossref Funder Registry DOI is common enough to name without asking
# (DataCite requires a funder's name; for another funder the DOI stands in for it).
FUNDER_NAMES = {
    "10.13039/501100000780": "European Commission",
    "10.13039/501100000781": "European Research Council",
    "10.13039/100000001": "National Science Foundation",
    "10.13039/100000002": "National Institutes of Health",
    "10.13039/501100001659": "Deutsche Forschungsgemeinschaft",
    "10.13039/501100005416": "Research Council of Norway",
    "10.13039/501100001711": "Swiss National Science Foundation",
    "10.13039/100014013": "UK Research and Innovation",
    "10.13039/501100003246": "Dutch Research Council",
    "10.13039/501100001665": "Agence Nationale de la Recherche",
    "10.13039/501100002347": "Federal Ministry of Education and Research",
}


def type_for(general: object, label: object) -> ResourceType | None:
    """The portal's resource type stored as ``{resourceTypeGeneral, resourceType}``."""
    return TYPE_BY_LABEL.get((str(general or ""), str(label or "")))
