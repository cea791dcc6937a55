"""Metadata graphs checked with pyshacl against the sandbox's profiles: each violation
at its field, in words naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from deposits.repositories.coscine import form as profile_form
from deposits.repositories.coscine import shacl
from deposits.repositories.coscine.profiles import form_for

from . import BASE, MEASUREMENT, SAMPLE, profile_lookup

DCT = "http://purl.org/dc/terms/"
ENG = "https://purl.org/coscine/terms/sandbox/engineering#"
SUBJECT = "https://purl.org/coscine/resources/r1/a.csv"
DFG = "http://www.dfg.de/dfg_profil/gremien/fachkollegien/liste/index.jsp?id="
STEEL = "https://purl.org/coscine/vocabularies/sandbox/materials#steel"

VALID: dict[str, dict[str, list[str]]] = {
    BASE: {
        f"{DCT}creator": ["Muster, Erika"],
        f"{DCT}title": ["Tensile tests"],
        f"{DCT}created": ["2024-03-01"],
        f"{DCT}subject": [f"{DFG}405"],
        f"{DCT}type": ["http://purl.org/dc/dcmitype/Dataset"],
    },
    MEASUREMENT: {
        f"{DCT}title": ["Run 7"],
        f"{DCT}creator": ["Muster, Erika", "Max Mustermann"],
        "http://www.w3.org/ns/sosa/resultTime": ["2024-03-01T10:15:00"],
        f"{ENG}method": ["Fatigue test"],
        f"{ENG}specimenId": ["ST-0042"],
        f"{ENG}temperature": ["-20.5"],
        f"{ENG}repetitions": ["3"],
        f"{ENG}calibrated": ["true"],
        f"{ENG}facility": ["Institute of Materials Testing, RWTH Aachen University"],
        f"{DCT}source": ["https://example.org/rig/7"],
    },
    SAMPLE: {
        f"{DCT}creator": ["Muster, Erika"],
        f"{DCT}title": ["Sample 12"],
        f"{DCT}created": ["2024-03-01"],
        f"{ENG}material": [STEEL],
        f"{ENG}mass": ["12.5"],
    },
}


def check(uri: str, **changes: list[str]) -> list[tuple[str, str]]:
    lookup = profile_lookup(uri)
    values = {**VALID[uri], **{_key(k): v for k, v in changes.items()}}
    return shacl.validate(lookup, profile_form.to_turtle(form_for(lookup), values, SUBJECT))


def _key(name: str) -> str:
    prefix, _, local = name.partition("__")
    return {"dct": DCT, "eng": ENG}[prefix] + local


@pytest.mark.parametrize("uri", [BASE, MEASUREMENT, SAMPLE])
def test_a_valid_graph_passes(uri: str) -> None:
    assert check(uri) == []


def test_missing_required_value_names_the_field() -> None:
    assert check(BASE, dct__title=[]) == [(f"{DCT}title", "Title: at least 1 value is required.")]


def test_wrong_datatype() -> None:
    assert check(BASE, dct__created=["1 March 2024"]) == [
        (f"{DCT}created", "Production Date: '1 March 2024' is not a date (YYYY-MM-DD).")
    ]
    issues = check(MEASUREMENT, eng__repetitions=["three"])
    # the value is reported as no number, not also as out of range
    assert issues == [(f"{ENG}repetitions", "Repetitions: 'three' is not a whole number.")]


def test_pattern() -> None:
    [(key, message)] = check(MEASUREMENT, eng__specimenId=["st-42"])
    assert key == f"{ENG}specimenId"
    assert message.startswith("Specimen ID: 'st-42' does not have the required form")
    assert "e.g. ST-0042" in message  # the field's own description helps


def test_value_not_in_sh_in() -> None:
    [(key, message)] = check(MEASUREMENT, eng__method=["Bend test"])
    assert key == f"{ENG}method"
    assert message.startswith("Test method: 'Bend test' is not one of the allowed values")
    assert "'Tensile test'" in message


def test_vocabulary_value_not_in_it() -> None:
    wood = "https://purl.org/coscine/vocabularies/sandbox/materials#wood"
    assert check(SAMPLE, eng__material=[wood]) == [
        (
            f"{ENG}material",
            f"Material: '{wood}' is not in the profile's vocabulary; choose one of its entries.",
        )
    ]
    [(key, _)] = check(BASE, dct__subject=[f"{DFG}999"])
    assert key == f"{DCT}subject"


def test_range_count_and_fixed_value() -> None:
    issues = dict(check(MEASUREMENT, eng__temperature=["-300"], eng__facility=["Elsewhere"],
                        dct__title=["A", "B"]))  # fmt: skip
    assert "below the minimum, -273.15" in issues[f"{ENG}temperature"]
    assert issues[f"{ENG}facility"] == (
        "Facility: the profile fixes this to 'Institute of Materials Testing, RWTH Aachen University'."
    )
    assert issues[f"{DCT}title"].startswith("Title: at most 1 value allowed")


def test_imported_profile_rules_apply() -> None:
    assert check(SAMPLE, dct__creator=[]) == [
        (f"{DCT}creator", "Creator: at least 1 value is required.")
    ]


def test_a_graph_without_the_profile_class_or_not_turtle() -> None:
    lookup = profile_lookup(BASE)
    [(key, message)] = shacl.validate(lookup, f'<{SUBJECT}> <{DCT}title> "x" .')
    assert key == "" and "no node of the profile's class" in message
    [(key, message)] = shacl.validate(lookup, "this is not turtle")
    assert key == "" and "not valid Turtle" in message


def test_a_broken_profile_is_one_problem() -> None:
    broken: dict[str, Any] = {"uri": BASE, "turtle": "@prefix x", "vocabularies": {}, "imports": []}
    [(key, message)] = shacl.validate(broken, f"<{SUBJECT}> a <{BASE}> .")
    assert key == "" and "on Coscine is broken" in message


def test_shapes_pyshacl_cannot_load_are_a_broken_profile() -> None:
    lookup = profile_lookup(SAMPLE)
    lookup["turtle"] = lookup["turtle"].split("@base")[0]  # the imported base left out
    [(key, message)] = shacl.validate(lookup, f"<{SUBJECT}> a <{SAMPLE}> .")
    assert key == "" and "on Coscine is broken" in message
