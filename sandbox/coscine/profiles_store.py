"""Application profiles (SHACL node shapes) and vocabularies, read from Turtle files:
``profiles/*.ttl`` and ``profiles/vocabularies/*.ttl`` next to this module. A profile's
URI is its ``sh:NodeShape`` subject; ``/_control/profiles`` can replace (or add) one.

Metadata graphs are validated here as Coscine does server-side: pyshacl against the
profile, the profiles it ``owl:imports``, and the vocabularies (inference "rdfs").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyshacl import validate
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, SKOS
from rdflib.term import Node

from .models import ProfileOverride

SH = Namespace("http://www.w3.org/ns/shacl#")
PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
VOCABULARIES_DIR = PROFILES_DIR / "vocabularies"


@dataclass(frozen=True)
class Profile:
    uri: str
    turtle: str
    name: str
    description: str


def _parse(turtle: str) -> Graph | None:
    graph = Graph()
    try:
        graph.parse(data=turtle, format="turtle")
    except Exception:  # a half-written profile file, or a broken override: skip it
        return None
    return graph


def _text(graph: Graph, subject: Node, *predicates: URIRef) -> str:
    for predicate in predicates:
        values = [o for o in graph.objects(subject, predicate) if isinstance(o, Literal)]
        english = [v for v in values if v.language in (None, "en")]
        if english or values:
            return str((english or values)[0])
    return ""


def _profiles_in(turtle: str) -> list[Profile]:
    graph = _parse(turtle)
    if graph is None:
        return []
    found = []
    for subject in sorted(set(graph.subjects(RDF.type, SH.NodeShape)), key=str):
        if not isinstance(subject, URIRef):
            continue
        name = _text(graph, subject, DCTERMS.title, RDFS.label) or str(subject)
        description = _text(graph, subject, DCTERMS.description, RDFS.comment)
        found.append(Profile(str(subject), turtle, name, description))
    return found


def all_profiles() -> list[Profile]:
    """Every profile, by URI; an override replaces the file's Turtle."""
    profiles: dict[str, Profile] = {}
    for path in sorted(PROFILES_DIR.glob("*.ttl")):
        for profile in _profiles_in(path.read_text(encoding="utf-8")):
            profiles.setdefault(profile.uri, profile)
    for override in ProfileOverride.objects.order_by("uri"):
        for profile in _profiles_in(override.turtle):
            if profile.uri == override.uri:
                profiles[profile.uri] = profile
    return sorted(profiles.values(), key=lambda p: p.uri)


def profile(uri: str) -> Profile | None:
    return next((p for p in all_profiles() if p.uri == uri), None)


def vocabulary_graph() -> Graph:
    graph = Graph()
    for path in sorted(VOCABULARIES_DIR.glob("*.ttl")):
        parsed = _parse(path.read_text(encoding="utf-8"))
        if parsed is not None:
            graph += parsed
    return graph


def instances(class_uri: str) -> list[dict[str, str | None]]:
    """VocabularyInstanceDto items for the instances of ``class_uri``."""
    graph = vocabulary_graph()
    items = []
    for instance in sorted(set(graph.subjects(RDF.type, URIRef(class_uri))), key=str):
        label = _text(graph, instance, SKOS.prefLabel, RDFS.label) or str(instance)
        items.append(
            {
                "graphUri": class_uri,
                "instanceUri": str(instance),
                "typeUri": class_uri,
                "subClassOfUri": None,
                "displayName": label,
                "description": _text(graph, instance, SKOS.definition, RDFS.comment) or None,
            }
        )
    return items


def shapes_graph(uri: str) -> Graph | None:
    """The profile's graph with the profiles it imports merged in (None: unknown)."""
    found = profile(uri)
    if found is None:
        return None
    graph = _parse(found.turtle) or Graph()
    seen = {uri}
    for imported in list(graph.objects(None, OWL.imports)):
        if str(imported) not in seen and (other := profile(str(imported))) is not None:
            seen.add(str(imported))
            graph += _parse(other.turtle) or Graph()
    return graph


def check(uri: str, data: Graph) -> list[dict[str, str]]:
    """The SHACL violations of ``data`` against profile ``uri``: path, focus, message."""
    shapes = shapes_graph(uri)
    if shapes is None:
        return [{"path": "", "focusNode": "", "message": f"Unknown application profile {uri}."}]
    # The vocabularies join the data graph, so that ``sh:class`` sees each instance's type.
    conforms, report, _ = validate(data + vocabulary_graph(), shacl_graph=shapes, inference="rdfs")
    if conforms:
        return []
    assert isinstance(report, Graph)
    violations = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        violations.append(
            {
                "path": str(report.value(result, SH.resultPath) or ""),
                "focusNode": str(report.value(result, SH.focusNode) or ""),
                "message": str(report.value(result, SH.resultMessage) or "Constraint violated."),
            }
        )
    return sorted(violations, key=lambda v: (v["path"], v["message"]))
