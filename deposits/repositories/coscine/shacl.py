"""Checking a file's metadata graph against its application profile, as Coscine does.

Coscine validates every metadata graph server-side and answers 400 when it does not
conform; its SDK checks first with pyshacl against the profile and its vocabularies
with RDFS inference (notes-coscine-cristin.md A.2 "Validation"). Doing the same here
lets each problem show at its field, in words: pyshacl's report names shapes and
constraint components, which no one filling a form should have to read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyshacl import validate as pyshacl_validate
from rdflib import RDF, RDFS, SH, Graph, Literal, Node, URIRef

from .profiles import (
    Field,
    ProfileError,
    broken,
    form_for,
    profile_graph,
    quiet_rdflib,
    vocabulary_graph,
)

Issue = tuple[str, str]


# ----------------------------------------------------------------- messages (shared with rules)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def too_few(label: str, n: int) -> str:
    verb = "is" if n == 1 else "are"
    return f"{label}: at least {plural(n, 'value')} {verb} required."


def too_many(label: str, n: int, given: int) -> str:
    return f"{label}: at most {plural(n, 'value')} allowed ({given} given); remove some."


def too_short(label: str, n: int, value: str) -> str:
    return f"{label}: '{_clip(value)}' is shorter than {plural(n, 'character')}."


def too_long(label: str, n: int, value: str) -> str:
    return f"{label}: at most {plural(n, 'character')} allowed ({len(value)} given)."


def no_match(field: Field | None, label: str, value: str, pattern: str) -> str:
    hint = f" {field.description}" if field and field.description else ""
    return f"{label}: '{_clip(value)}' does not have the required form ({pattern}).{hint}"


def not_in_vocabulary(label: str, value: str) -> str:
    return (
        f"{label}: '{_clip(value)}' is not in the profile's vocabulary; choose one of its entries."
    )


def not_a_choice(field: Field | None, label: str, value: str) -> str:
    if field is None or not field.choices or not field.datatype:
        return not_in_vocabulary(label, value)
    allowed = ", ".join(f"'{lbl}'" for _, lbl in (field.choices if field else [])[:10])
    return f"{label}: '{_clip(value)}' is not one of the allowed values ({allowed})."


KIND_WORDS = {
    "integer": "a whole number",
    "decimal": "a number (e.g. 12.5)",
    "boolean": "true or false",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date and time (YYYY-MM-DDThh:mm:ss)",
    "uri": "a link (an absolute URI such as https://...)",
}


def wrong_type(field: Field | None, label: str, value: str) -> str:
    kind = field.kind if field else ""
    word = KIND_WORDS.get(kind, "text")
    return f"{label}: '{_clip(value)}' is not {word}."


def _clip(value: str, n: int = 60) -> str:
    return value if len(value) <= n else value[: n - 1] + "…"


# ----------------------------------------------------------------- validation


def validate(profile: dict[str, Any], turtle: str) -> list[Issue]:
    """Every violation of ``turtle`` against the profile: (field key or "", message)."""
    try:
        form = form_for(profile)
        shapes = profile_graph(profile)
    except ProfileError as exc:
        return [("", str(exc))]
    try:
        with quiet_rdflib():
            data = Graph().parse(data=turtle, format="turtle")
    except Exception as exc:  # rdflib raises many parser types
        return [("", f"The metadata graph is not valid Turtle ({_first_line(exc)}).")]
    # pyshacl's ont_graph brings in class axioms, not a vocabulary's instances: they go
    # into the data graph (so sh:class sees each value's type), with any subclass links.
    data += vocabulary_graph(profile)
    for triple in shapes.triples((None, RDFS.subClassOf, None)):
        data.add(triple)
    if not _has_target(data, URIRef(form.target_class)):
        return [
            ("", f"The metadata graph has no node of the profile's class <{form.target_class}>.")
        ]
    try:
        with quiet_rdflib():
            _conforms, report, _text = pyshacl_validate(
                data,
                shacl_graph=shapes,
                inference="rdfs",
                abort_on_first=False,
                allow_infos=True,
                allow_warnings=True,
            )
    except Exception as exc:  # pyshacl refuses shapes it cannot load (ShapeLoadError...)
        return [("", broken(form.uri, _first_line(exc).rstrip(".")))]
    fields = {f.key: f for f in form.fields}
    issues = _without_range_noise([_issue(report, shapes, r, fields) for r in _results(report)])
    order = {f.key: f.order for f in form.fields}
    unique = list(dict.fromkeys(issues))
    return sorted(unique, key=lambda i: (order.get(i[0], 10**6), i[0], i[1]))


def _has_target(graph: Graph, target: URIRef) -> bool:
    classes = {target, *graph.transitive_subjects(RDFS.subClassOf, target)}
    return any(True for c in classes for _ in graph.subjects(RDF.type, c))


def _results(report: Graph) -> list[Node]:
    return [r for r in report.subjects(RDF.type, SH.ValidationResult) if _is_violation(report, r)]


def _is_violation(report: Graph, result: Node) -> bool:
    return report.value(result, SH.resultSeverity) in (None, SH.Violation)


def _without_range_noise(issues: list[tuple[str, str, str]]) -> list[Issue]:
    """A value that is no number at all is reported as such, not also as out of range."""
    mistyped = {key for key, _, name in issues if name == "Datatype"}
    return [
        (key, message) for key, message, name in issues if not (key in mistyped and name in RANGES)
    ]


RANGES = {"MinInclusive", "MinExclusive", "MaxInclusive", "MaxExclusive"}


def _issue(
    report: Graph, shapes: Graph, result: Node, fields: dict[str, Field]
) -> tuple[str, str, str]:
    path = report.value(result, SH.resultPath)
    key = str(path) if isinstance(path, URIRef) else ""
    field = fields.get(key)
    label = field.label if field else (_local(key) if key else "Metadata")
    component = report.value(result, SH.sourceConstraintComponent)
    shape = report.value(result, SH.sourceShape)
    value = report.value(result, SH.value)
    name = str(component).rsplit("#", 1)[-1].removesuffix("ConstraintComponent")

    def param(predicate: URIRef) -> Node | None:
        return shapes.value(shape, predicate) if shape is not None else None

    message = _message(name, field, label, param, str(value) if value is not None else "")
    if message is None:
        raw = report.value(result, SH.resultMessage)
        message = f"{label}: {raw or 'does not fit the application profile.'}"
    return key, message, name


def _message(
    name: str,
    field: Field | None,
    label: str,
    param: Callable[[URIRef], Node | None],
    text: str,
) -> str | None:
    """The words for one constraint component; ``param`` reads the shape's parameter."""
    writers = {
        "MinCount": lambda: too_few(label, _as_int(param(SH.minCount))),
        "MaxCount": lambda: (
            f"{label}: at most {plural(_as_int(param(SH.maxCount)), 'value')} allowed; remove some."
        ),
        "MinLength": lambda: too_short(label, _as_int(param(SH.minLength)), text),
        "MaxLength": lambda: too_long(label, _as_int(param(SH.maxLength)), text),
        "Pattern": lambda: no_match(field, label, text, str(param(SH.pattern))),
        "In": lambda: not_a_choice(field, label, text),
        "Class": lambda: not_in_vocabulary(label, text),
        "Datatype": lambda: wrong_type(field, label, text),
        "NodeKind": lambda: f"{label}: '{_clip(text)}' must be a link (an absolute URI), not text.",
        "HasValue": lambda: f"{label}: the profile fixes this to '{param(SH.hasValue)}'.",
        "MinInclusive": lambda: f"{label}: {text} is below the minimum, {param(SH.minInclusive)}.",
        "MinExclusive": lambda: (
            f"{label}: must be more than {param(SH.minExclusive)} ({text} given)."
        ),
        "MaxInclusive": lambda: f"{label}: {text} is above the maximum, {param(SH.maxInclusive)}.",
        "MaxExclusive": lambda: (
            f"{label}: must be less than {param(SH.maxExclusive)} ({text} given)."
        ),
        "Closed": lambda: f"{label}: is not a field of this application profile; remove it.",
    }
    writer = writers.get(name)
    return writer() if writer else None


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def _as_int(node: Node | None) -> int:
    try:
        return int(str(node)) if isinstance(node, Literal) else 0
    except ValueError:
        return 0


def _local(uri: str) -> str:
    return uri.rstrip("/").rsplit("#", 1)[-1].rsplit("/", 1)[-1] or uri
