"""Tests of the Coscine connector. ``profile_lookup`` builds a ``"profile:<uri>"``
lookup from the sandbox's profile files, as ``account.fetch_lookup`` does from Coscine:
the profile's Turtle with its imports merged in, and the instances of its vocabularies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rdflib import OWL, RDF, RDFS, SH, Graph, Literal, URIRef

PROFILES = Path(__file__).resolve().parents[3] / "sandbox/coscine/profiles"
BASE = "https://purl.org/coscine/ap/base/"
MEASUREMENT = "https://purl.org/coscine/ap/sandbox/measurement/"
SAMPLE = "https://purl.org/coscine/ap/sandbox/sample/"


def _file_of(uri: str) -> Path:
    for path in PROFILES.glob("*.ttl"):
        if (URIRef(uri), RDF.type, SH.NodeShape) in Graph().parse(path):
            return path
    raise LookupError(f"no sandbox profile {uri}")


def _vocabularies() -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for path in sorted((PROFILES / "vocabularies").glob("*.ttl")):
        graph = Graph().parse(path)
        for instance, cls in graph.subject_objects(RDF.type):
            if cls == RDFS.Class:
                continue
            label = next(
                str(lbl)
                for lbl in graph.objects(instance, RDFS.label)
                if isinstance(lbl, Literal) and lbl.language == "en"
            )
            out.setdefault(str(cls), []).append({"value": str(instance), "label": label})
    return out


def profile_lookup(uri: str) -> dict[str, Any]:
    """The lookup data of a sandbox profile (its vocabularies: the classes it names)."""
    text = _file_of(uri).read_text()
    imports = [
        str(o)
        for o in Graph().parse(data=text, format="turtle").objects(URIRef(uri), OWL.imports)
        if any(
            (URIRef(str(o)), RDF.type, SH.NodeShape) in Graph().parse(p)
            for p in PROFILES.glob("*.ttl")
        )
    ]
    turtle = "\n".join([text, *(_file_of(i).read_text() for i in imports)])
    graph = Graph().parse(data=turtle, format="turtle")
    named = {str(c) for c in graph.objects(None, SH["class"])}
    vocabularies = {k: v for k, v in _vocabularies().items() if k in named}
    return {"uri": uri, "turtle": turtle, "vocabularies": vocabularies, "imports": imports}
