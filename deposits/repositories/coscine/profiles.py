"""Coscine application profiles (SHACL shapes in Turtle) read as forms.

A profile is a ``sh:NodeShape`` whose subject is the profile's URI; each of its
``sh:property`` shapes is one field of the metadata form Coscine shows next to a file
(notes-coscine-cristin.md A.2 "Metadata"). The lookup ``"profile:<uri>"`` holds the
profile's Turtle with the Turtle of the profiles it ``owl:imports`` merged in, and the
instances of every vocabulary (``sh:class``) it names; ``form_for`` turns that into a
``ProfileForm`` the web part renders, ``form`` fills and ``shacl`` checks.

Parsing is cached by a digest of the lookup's content: the same profile is read once per
process however many deposits and page loads ask for it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from rdflib import RDF, RDFS, SH, SKOS, XSD, Graph, Literal, Node, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL

DASH_SINGLE_LINE = URIRef("http://datashapes.org/dash#singleLine")

INTEGER_TYPES = {
    str(XSD[name])
    for name in (
        "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
        "nonPositiveInteger", "negativeInteger", "unsignedInt", "unsignedLong",
        "unsignedShort", "unsignedByte",
    )
}  # fmt: skip
DECIMAL_TYPES = {str(XSD.decimal), str(XSD.double), str(XSD.float)}
KIND_BY_TYPE = {
    str(XSD.boolean): "boolean",
    str(XSD.date): "date",
    str(XSD.dateTime): "datetime",
    str(XSD.dateTimeStamp): "datetime",
    str(XSD.anyURI): "uri",
}
# Coscine's placeholders in sh:defaultValue: today's date and the signed-in user.
TODAY = "{TODAY}"
ME = "{ME}"
CACHE_SIZE = 64


class ProfileError(ValueError):
    """The profile Coscine sent cannot be read as a form: the profile itself is broken."""


@dataclass(frozen=True)
class Field:
    """One property shape of the profile, as a form field (values are lexical strings)."""

    key: str  # the sh:path URI
    label: str
    description: str
    kind: str  # text textarea integer decimal boolean date datetime choice uri
    datatype: str  # xsd URI or ""
    choices: list[tuple[str, str]]  # (value, label)
    min_count: int
    max_count: int | None
    min_length: int | None
    max_length: int | None
    pattern: str
    fixed: list[str]
    default: list[str]
    order: int

    @property
    def required(self) -> bool:
        return self.min_count > 0

    @property
    def is_iri(self) -> bool:
        """Values are IRIs: links, and choices from a vocabulary or a list of IRIs."""
        return self.kind == "uri" or (self.kind == "choice" and not self.datatype)


@dataclass(frozen=True)
class ProfileForm:
    uri: str
    name: str
    fields: list[Field]
    target_class: str

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)


_cache: dict[str, ProfileForm] = {}


def form_for(profile: dict[str, Any]) -> ProfileForm:
    """The form of a ``"profile:<uri>"`` lookup; raises ``ProfileError`` if it is broken."""
    digest = _digest(profile)
    form = _cache.get(digest)
    if form is None:
        form = _parse(profile)
        if len(_cache) >= CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[digest] = form
    return _with_placeholders(form)


def _digest(profile: dict[str, Any]) -> str:
    content = json.dumps(
        [profile.get("uri"), profile.get("turtle"), profile.get("vocabularies")],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(content.encode()).hexdigest()


@contextlib.contextmanager
def quiet_rdflib() -> Iterator[None]:
    """rdflib logs a traceback for every ill-typed literal ("x" as an integer); such a
    value is reported to the user as a problem instead."""
    logger = logging.getLogger("rdflib.term")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def profile_graph(profile: dict[str, Any]) -> Graph:
    """The profile's Turtle as a graph; ``ProfileError`` says why it does not parse."""
    uri = str(profile.get("uri") or "")
    turtle = profile.get("turtle")
    if not isinstance(turtle, str) or not turtle.strip():
        raise ProfileError(broken(uri, "Coscine sent no Turtle for it"))
    try:
        with quiet_rdflib():
            return Graph().parse(data=turtle, format="turtle")
    except Exception as exc:  # rdflib raises many parser types
        raise ProfileError(broken(uri, f"its Turtle does not parse ({_first_line(exc)})")) from exc


def vocabulary_graph(profile: dict[str, Any]) -> Graph:
    """The vocabularies' instances as triples: each ``a <class>`` with its label."""
    graph = Graph()
    vocabularies = profile.get("vocabularies") or {}
    for class_uri, instances in vocabularies.items():
        for item in instances or []:
            if isinstance(item, dict) and item.get("value"):
                node = URIRef(str(item["value"]))
                graph.add((node, RDF.type, URIRef(class_uri)))
                if item.get("label"):
                    graph.add((node, RDFS.label, Literal(str(item["label"]))))
    return graph


BROKEN = "on Coscine is broken"


def broken(uri: str, why: str) -> str:
    """The message for a profile that cannot be used (it starts with the profile)."""
    return (
        f"The application profile {uri or '(no URI)'} {BROKEN}: {why}. "
        "Choose another profile, or ask the profile's maintainers (Coscine support) to fix it."
    )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _parse(profile: dict[str, Any]) -> ProfileForm:
    uri = str(profile.get("uri") or "")
    graph = profile_graph(profile)
    root = URIRef(uri)
    if (root, RDF.type, SH.NodeShape) not in graph:
        raise ProfileError(broken(uri, f"it has no sh:NodeShape <{uri}>"))
    vocabularies = profile.get("vocabularies") or {}
    fields: dict[str, Field] = {}
    for shape in _shapes(graph, root):
        for node in graph.objects(shape, SH.property):
            field = _field(graph, node, vocabularies, uri)
            if field is not None and field.key not in fields:
                fields[field.key] = field
    target = graph.value(root, SH.targetClass)
    return ProfileForm(
        uri=uri,
        name=_text(graph, root, (DCTERMS.title, RDFS.label, SH.name)) or uri,
        fields=sorted(fields.values(), key=lambda f: (f.order, f.label)),
        target_class=str(target) if target is not None else uri,
    )


def _shapes(graph: Graph, root: URIRef) -> list[Node]:
    """The profile's shape, then those of the profiles it imports (found in the graph)."""
    order: list[Node] = []
    todo: list[Node] = [root]
    while todo:
        shape = todo.pop(0)
        if shape in order or (shape, RDF.type, SH.NodeShape) not in graph:
            continue
        order.append(shape)
        todo.extend(graph.objects(shape, OWL.imports))
    return order


def _field(graph: Graph, node: Node, vocabularies: dict[str, Any], uri: str) -> Field | None:
    path = graph.value(node, SH.path)
    if not isinstance(path, URIRef) or path == RDF.type:
        return None  # rdf:type, or a complex path: no form field
    datatype = graph.value(node, SH.datatype)
    choices, choice_type = _choices(graph, node, vocabularies)
    dtype = str(datatype) if datatype is not None else choice_type
    return Field(
        key=str(path),
        label=_text(graph, node, (SH.name, RDFS.label)) or _local_name(str(path)),
        description=_text(graph, node, (SH.description, RDFS.comment)),
        kind=_kind(graph, node, dtype, bool(choices)),
        datatype=dtype,
        choices=choices,
        min_count=_int(graph, node, SH.minCount, uri) or 0,
        max_count=_int(graph, node, SH.maxCount, uri),
        min_length=_int(graph, node, SH.minLength, uri),
        max_length=_int(graph, node, SH.maxLength, uri),
        pattern=_pattern(graph, node),
        fixed=_lexical(graph.objects(node, SH.hasValue)),
        default=_lexical(graph.objects(node, SH.defaultValue)),
        order=_int(graph, node, SH.order, uri) or 0,
    )


def _kind(graph: Graph, node: Node, datatype: str, has_choices: bool) -> str:
    if has_choices:
        return "choice"
    if datatype in INTEGER_TYPES:
        return "integer"
    if datatype in DECIMAL_TYPES:
        return "decimal"
    if datatype in KIND_BY_TYPE:
        return KIND_BY_TYPE[datatype]
    is_iri = graph.value(node, SH.nodeKind) == SH.IRI or graph.value(node, SH["class"])
    if not datatype and is_iri:
        return "uri"
    single_line = graph.value(node, DASH_SINGLE_LINE)
    return "textarea" if single_line is not None and not _true(single_line) else "text"


def _choices(
    graph: Graph, node: Node, vocabularies: dict[str, Any]
) -> tuple[list[tuple[str, str]], str]:
    """(value, label) pairs from sh:in or the vocabulary of sh:class, and the literals'
    datatype ("" when the choices are IRIs)."""
    head = graph.value(node, SH["in"])
    if head is not None:
        members = list(Collection(graph, head))
        pairs = [(str(m), _member_label(graph, m)) for m in members]
        literal = next((m for m in members if isinstance(m, Literal)), None)
        if literal is None:
            return pairs, ""
        return pairs, str(literal.datatype or XSD.string)
    class_uri = graph.value(node, SH["class"])
    if class_uri is None:
        return [], ""
    listed = vocabularies.get(str(class_uri)) or []
    pairs = [
        (str(item["value"]), str(item.get("label") or _local_name(str(item["value"]))))
        for item in listed
        if isinstance(item, dict) and item.get("value")
    ]
    if not pairs:  # instances written into the profile itself
        pairs = [(str(s), _member_label(graph, s)) for s in graph.subjects(RDF.type, class_uri)]
    return pairs, ""


def _member_label(graph: Graph, member: Node) -> str:
    if isinstance(member, Literal):
        return str(member)
    return _text(graph, member, (RDFS.label, SKOS.prefLabel)) or _local_name(str(member))


def _text(graph: Graph, node: Node, predicates: Iterable[URIRef]) -> str:
    """The English text of the first predicate that has one, else untagged, else any."""
    for predicate in predicates:
        literals = [o for o in graph.objects(node, predicate) if isinstance(o, Literal)]
        if literals:
            return str(min(literals, key=_language_rank)).strip()
    return ""


def _language_rank(literal: Literal) -> tuple[int, str]:
    language = (literal.language or "").lower()
    rank = 0 if language.startswith("en") else 1 if not language else 2
    return rank, language


def _int(graph: Graph, node: Node, predicate: URIRef, uri: str) -> int | None:
    value = graph.value(node, predicate)
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError as exc:
        name = graph.qname(predicate)
        raise ProfileError(broken(uri, f"its {name} '{value}' is not a whole number")) from exc


def _pattern(graph: Graph, node: Node) -> str:
    pattern = graph.value(node, SH.pattern)
    if pattern is None:
        return ""
    flags = str(graph.value(node, SH.flags) or "")
    return ("(?i)" if "i" in flags else "") + str(pattern)


def _lexical(nodes: Iterable[Node]) -> list[str]:
    return sorted(str(n) for n in nodes)


def _true(node: Node) -> bool:
    return str(node).strip().lower() in {"true", "1"}


def _local_name(uri: str) -> str:
    for separator in ("#", "/", ":"):
        tail = uri.rstrip("/").rsplit(separator, 1)[-1]
        if tail and tail != uri:
            return tail
    return uri


def _with_placeholders(form: ProfileForm) -> ProfileForm:
    """Coscine's {TODAY} default becomes today's date; {ME} (the signed-in user, whom a
    background check does not know) is dropped: ``form.prefill`` fills the creators."""
    if not any(TODAY in f.default or ME in f.default for f in form.fields):
        return form
    fields = [
        dataclasses.replace(f, default=resolve_defaults(f)) if f.default else f for f in form.fields
    ]
    return dataclasses.replace(form, fields=fields)


def resolve_defaults(field: Field) -> list[str]:
    now = datetime.datetime.now(datetime.UTC)
    today = (
        now.isoformat(timespec="seconds") if field.kind == "datetime" else now.date().isoformat()
    )
    return [today if value == TODAY else value for value in field.default if value != ME]
