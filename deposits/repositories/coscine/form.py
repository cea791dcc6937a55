"""Filling an application profile's form, and writing what it holds as a metadata graph.

Values are lists of lexical strings keyed by the field's ``sh:path`` (the shape of
``options["file_metadata"]``). Each file's values come, field by field, from the first
of: the profile's fixed value, the file's own entry, the entry for every file ("*"),
what the deposit's neutral metadata (DataCite JSON) says, the profile's default.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import nh3
from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS

from deposits.metadata import record

from .profiles import Field, ProfileForm, quiet_rdflib

Values = dict[str, list[str]]
Record = dict[str, Any]

IRI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")
# DataCite resourceTypeGeneral -> the DCMI type (dcterms:type's usual vocabulary).
DCMI_TYPES = {
    "Audiovisual": "MovingImage",
    "Collection": "Collection",
    "Dataset": "Dataset",
    "Image": "Image",
    "InteractiveResource": "InteractiveResource",
    "PhysicalObject": "PhysicalObject",
    "Service": "Service",
    "Software": "Software",
    "Sound": "Sound",
    "Text": "Text",
}


# --------------------------------------------------------------------------- prefill


def _person(person: dict[str, Any]) -> str:
    name = str(person.get("name") or "").strip()
    if name:
        return name
    parts = [str(person.get(k) or "").strip() for k in ("givenName", "familyName")]
    return " ".join(p for p in parts if p)


def _creators(meta: Record) -> list[str]:
    return [n for n in (_person(p) for p in record.items(meta, "creators")) if n]


def _contributors(meta: Record) -> list[str]:
    return [n for n in (_person(p) for p in record.items(meta, "contributors")) if n]


def _title(meta: Record) -> list[str]:
    return [t for t in [record.title(meta)] if t]


def _alternative(meta: Record) -> list[str]:
    return [
        str(t.get("title")).strip()
        for t in record.items(meta, "titles")
        if t.get("titleType") and t.get("title")
    ]


def _dates(kind: str, fallback_year: bool = False) -> Callable[[Record], list[str]]:
    def read(meta: Record) -> list[str]:
        found = record.date(meta, kind)
        if not found and fallback_year and meta.get("publicationYear"):
            found = str(meta["publicationYear"])
        return [found] if found else []

    return read


def _any_date(meta: Record) -> list[str]:
    dates = [str(d.get("date")) for d in record.items(meta, "dates") if d.get("date")]
    return _dates("Issued", fallback_year=True)(meta) or dates[:1]


def _subjects(meta: Record) -> list[str]:
    """Free keywords as text, plus the value URIs of subjects from a scheme (a choice
    field keeps those its vocabulary has)."""
    out: list[str] = []
    for item in record.items(meta, "subjects"):
        out.extend(str(item[k]) for k in ("subject", "valueUri") if item.get(k))
    return out


def _rights(meta: Record) -> list[str]:
    out: list[str] = []
    for item in record.items(meta, "rightsList"):
        out.extend(str(item[k]) for k in ("rights", "rightsUri", "rightsIdentifier") if item.get(k))
    return out


def _description(meta: Record) -> list[str]:
    text = record.description(meta, "Abstract") or next(
        (str(d.get("description")) for d in record.items(meta, "descriptions")), ""
    )
    plain = nh3.clean(text or "", tags=set()).strip()
    return [plain] if plain else []


def _publisher(meta: Record) -> list[str]:
    value = meta.get("publisher")
    name = value.get("name") if isinstance(value, dict) else value
    return [str(name).strip()] if name else []


def _language(meta: Record) -> list[str]:
    return [str(meta["language"])] if meta.get("language") else []


def _type(meta: Record) -> list[str]:
    types = meta.get("types") if isinstance(meta.get("types"), dict) else {}
    general = str((types or {}).get("resourceTypeGeneral") or "")
    dcmi = DCMI_TYPES.get(general)
    return [f"http://purl.org/dc/dcmitype/{dcmi}", dcmi] if dcmi else []


READERS: dict[str, Callable[[Record], list[str]]] = {
    str(DCTERMS.title): _title,
    str(DCTERMS.alternative): _alternative,
    str(DCTERMS.creator): _creators,
    str(DCTERMS.contributor): _contributors,
    str(DCTERMS.created): _dates("Created", fallback_year=False),
    str(DCTERMS.issued): _dates("Issued", fallback_year=True),
    str(DCTERMS.modified): _dates("Updated"),
    str(DCTERMS.available): _dates("Available"),
    str(DCTERMS.dateAccepted): _dates("Accepted"),
    str(DCTERMS.dateCopyrighted): _dates("Copyrighted"),
    str(DCTERMS.date): _any_date,
    str(DCTERMS.subject): _subjects,
    str(DCTERMS.rights): _rights,
    str(DCTERMS.license): _rights,
    str(DCTERMS.description): _description,
    str(DCTERMS.abstract): _description,
    str(DCTERMS.publisher): _publisher,
    str(DCTERMS.language): _language,
    str(DCTERMS.type): _type,
}


def prefill(form: ProfileForm, metadata: dict[str, Any]) -> Values:
    """What the deposit's metadata says for the fields whose meaning it knows (by
    sh:path), kept only where it fits the field (a date field takes a full date, a
    choice field only its choices), cut to the field's maximum count."""
    out: Values = {}
    for field in form.fields:
        reader = READERS.get(field.key)
        if reader is None:
            continue
        values = _fitting(field, reader(metadata or {}))
        if values:
            out[field.key] = values
    return out


def _fitting(field: Field, values: list[str]) -> list[str]:
    if field.choices:
        by_label = {label.casefold(): value for value, label in field.choices}
        known = {value for value, _ in field.choices}
        picked = [v if v in known else by_label.get(v.casefold(), "") for v in values]
        values = [v for v in picked if v]
    elif field.kind == "date":
        values = [v[:10] for v in values if DATE_RE.match(v[:10])]
    elif field.kind == "datetime":
        values = [v for v in values if DATETIME_RE.match(v)]
    elif field.kind == "uri":
        values = [v for v in values if IRI_RE.match(v)]
    elif field.key in (str(DCTERMS.rights), str(DCTERMS.license)):
        values = values[:1]  # the rights statement's name, not its URI and id too
    unique = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    return unique[: field.max_count] if field.max_count is not None else unique


# --------------------------------------------------------------------------- per file


def scope_values(options: dict[str, Any], scope: str) -> Values:
    """The form's values for one scope ("*" or a file name) as the options hold them."""
    metadata = options.get("file_metadata")
    entry = metadata.get(scope) if isinstance(metadata, dict) else None
    return entry if isinstance(entry, dict) else {}


def values_for(
    form: ProfileForm, options: dict[str, Any], file_name: str, metadata: dict[str, Any]
) -> Values:
    """What is sent for one file, every field of the form present (``[]`` when empty)."""
    own = scope_values(options, file_name) if file_name and file_name != "*" else {}
    shared = scope_values(options, "*")
    filled = prefill(form, metadata)
    out: Values = {}
    for field in form.fields:
        if field.fixed:
            out[field.key] = list(field.fixed)
        elif field.key in own:
            out[field.key] = _clean(own[field.key])
        elif field.key in shared:
            out[field.key] = _clean(shared[field.key])
        else:
            out[field.key] = filled.get(field.key) or list(field.default)
    return out


def _clean(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in items if v is not None and str(v).strip()]


# --------------------------------------------------------------------------- graph


def to_turtle(form: ProfileForm, values: Values, subject: str) -> str:
    """The metadata graph of one file: ``subject`` typed with the profile's target class,
    one triple per value, typed by the field's datatype (IRIs for links and vocabulary
    choices). Keys that are no field of the form are left out."""
    graph = Graph()
    graph.bind("dcterms", DCTERMS)
    node = URIRef(subject)
    graph.add((node, RDF.type, URIRef(form.target_class)))
    with quiet_rdflib():
        for field in form.fields:
            for value in values.get(field.key) or []:
                graph.add((node, URIRef(field.key), term(field, value)))
        return graph.serialize(format="turtle")


def term(field: Field, value: str) -> URIRef | Literal:
    """The RDF term of one value. Text where a link belongs stays text, so the graph can
    still be written and the check says what is wrong with it."""
    if field.is_iri:
        return URIRef(value) if IRI_RE.match(value) else Literal(value)
    if field.datatype and field.datatype != str(XSD.string):
        return Literal(value, datatype=URIRef(field.datatype))
    return Literal(value)  # a plain literal is an xsd:string, as sh:in lists write them
