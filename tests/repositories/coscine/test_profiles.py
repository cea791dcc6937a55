"""Application profiles read as forms: the sandbox's profiles, field by field."""

from __future__ import annotations

import datetime

import pytest

from deposits.repositories.coscine.profiles import ProfileError, form_for

from . import BASE, MEASUREMENT, SAMPLE, profile_lookup

DCT = "http://purl.org/dc/terms/"
ENG = "https://purl.org/coscine/terms/sandbox/engineering#"
XSD = "http://www.w3.org/2001/XMLSchema#"


def fields(uri: str) -> dict:
    return {f.key: f for f in form_for(profile_lookup(uri)).fields}


def test_base_profile_fields_in_order_with_english_labels() -> None:
    form = form_for(profile_lookup(BASE))
    assert form.uri == BASE
    assert form.name == "Base Profile"
    assert form.target_class == BASE
    assert [f.label for f in form.fields] == [
        "Creator", "Title", "Production Date", "Subject Area", "Resource", "Rights", "Rightsholder",
    ]  # fmt: skip
    assert form.fields[1].key == f"{DCT}title"


def test_base_profile_kinds_counts_and_vocabularies() -> None:
    base = fields(BASE)
    title = base[f"{DCT}title"]
    assert (title.kind, title.datatype, title.required, title.max_count) == (
        "text", f"{XSD}string", True, 1,
    )  # fmt: skip
    created = base[f"{DCT}created"]
    assert created.kind == "date"
    # Coscine's {TODAY} placeholder becomes today's date
    assert created.default == [datetime.datetime.now(datetime.UTC).date().isoformat()]
    assert base[f"{DCT}creator"].default == []  # {ME}: the user is not known here
    subject = base[f"{DCT}subject"]
    assert subject.kind == "choice" and subject.datatype == ""
    assert not subject.required
    assert (
        "http://www.dfg.de/dfg_profil/gremien/fachkollegien/liste/index.jsp?id=405",
        "Materials Engineering",
    ) in subject.choices
    assert ("http://purl.org/dc/dcmitype/Dataset", "Dataset") in base[f"{DCT}type"].choices
    assert base[f"{DCT}rights"].max_count == 1 and base[f"{DCT}rights"].min_count == 0


def test_measurement_profile_constraints() -> None:
    m = fields(MEASUREMENT)
    method = m[f"{ENG}method"]
    assert method.kind == "choice" and method.datatype == f"{XSD}string"
    assert [v for v, _ in method.choices] == [
        "Tensile test", "Hardness test", "Fatigue test", "Impact test",
    ]  # fmt: skip
    assert method.default == ["Tensile test"]
    specimen = m[f"{ENG}specimenId"]
    assert specimen.pattern == "^[A-Z]{2}-[0-9]{4}$"
    assert specimen.description.startswith("Two capital letters")
    assert m[f"{ENG}temperature"].kind == "decimal"
    assert m[f"{ENG}repetitions"].kind == "integer"
    assert m[f"{ENG}repetitions"].default == ["1"]
    assert m[f"{ENG}calibrated"].kind == "boolean"
    assert m["http://www.w3.org/ns/sosa/resultTime"].kind == "datetime"
    assert m[f"{DCT}subject"].max_count == 5 and m[f"{DCT}subject"].max_length == 50
    assert m[f"{DCT}title"].min_length == 3 and m[f"{DCT}title"].max_length == 200
    assert m[f"{ENG}facility"].fixed == ["Institute of Materials Testing, RWTH Aachen University"]
    assert m[f"{DCT}description"].kind == "textarea"
    assert m[f"{DCT}source"].kind == "uri"
    assert m[f"{DCT}creator"].max_count is None
    assert "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" not in m


def test_imported_base_fields_come_first_and_vocabulary_field() -> None:
    form = form_for(profile_lookup(SAMPLE))
    labels = [f.label for f in form.fields]
    assert labels[:2] == ["Creator", "Title"]
    assert labels[-3:] == ["Material", "Mass (g)", "Supplier"]
    material = form.field(f"{ENG}material")
    assert material is not None
    assert (material.kind, material.min_count, material.max_count) == ("choice", 1, 2)
    assert [label for _, label in material.choices][:2] == ["Steel", "Aluminium alloy"]
    assert form.target_class == SAMPLE


def test_german_only_label_is_used_when_there_is_no_english_one() -> None:
    lookup = profile_lookup(BASE)
    lookup["turtle"] = lookup["turtle"].replace('"Title"@en, ', "")
    assert form_for(lookup).fields[1].label == "Titel"


def test_the_same_profile_is_parsed_once() -> None:
    assert form_for(profile_lookup(MEASUREMENT)) == form_for(profile_lookup(MEASUREMENT))
    changed = profile_lookup(MEASUREMENT)
    changed["turtle"] = changed["turtle"].replace('"Specimen ID"@en', '"Sample ID"@en')
    assert form_for(changed).field(f"{ENG}specimenId").label == "Sample ID"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("turtle", "why"),
    [
        ("@prefix sh: <http://www.w3.org/ns/shacl#> .\n<x> sh:path", "does not parse"),
        ("", "sent no Turtle"),
        (
            "<https://example.org/other/> a <http://www.w3.org/ns/shacl#NodeShape> .",
            "no sh:NodeShape",
        ),
    ],
)
def test_a_broken_profile_says_what_is_wrong(turtle: str, why: str) -> None:
    with pytest.raises(ProfileError) as caught:
        form_for({"uri": BASE, "turtle": turtle, "vocabularies": {}, "imports": []})
    assert why in str(caught.value)
    assert "on Coscine is broken" in str(caught.value)


def test_a_count_that_is_no_number_is_a_broken_profile() -> None:
    lookup = profile_lookup(BASE)
    lookup["turtle"] = lookup["turtle"].replace("sh:order 1 ;", 'sh:order "first" ;')
    with pytest.raises(ProfileError, match="sh:order 'first' is not a whole number"):
        form_for(lookup)
