"""Filling a profile's form from the deposit's metadata, per file, and the graph sent."""

from __future__ import annotations

from rdflib import RDF, Graph, Literal, URIRef, namespace

from deposits.repositories.coscine import form as profile_form
from deposits.repositories.coscine.profiles import form_for

from . import BASE, MEASUREMENT, SAMPLE, profile_lookup

DCT = "http://purl.org/dc/terms/"
ENG = "https://purl.org/coscine/terms/sandbox/engineering#"
SUBJECT = "https://purl.org/coscine/resources/r1/data%20set.csv"

RECORD = {
    "titles": [
        {"title": "Tensile tests on S355 steel", "lang": "en"},
        {"title": "Zugversuche an S355", "titleType": "TranslatedTitle"},
    ],
    "creators": [
        {"name": "Muster, Erika", "givenName": "Erika", "familyName": "Muster",
         "nameIdentifiers": [{"nameIdentifier": "0000-0002-1825-0097", "nameIdentifierScheme": "ORCID"}]},
        {"givenName": "Max", "familyName": "Mustermann"},
    ],
    "dates": [{"date": "2024-03-01", "dateType": "Created"}, {"date": "2024-05-02", "dateType": "Issued"}],
    "publicationYear": "2024",
    "subjects": [
        {"subject": "fatigue"},
        {"subject": "Materials Engineering", "subjectScheme": "DFG",
         "valueUri": "http://www.dfg.de/dfg_profil/gremien/fachkollegien/liste/index.jsp?id=405"},
    ],
    "rightsList": [{"rights": "Creative Commons Attribution 4.0 International",
                    "rightsUri": "https://creativecommons.org/licenses/by/4.0/legalcode",
                    "rightsIdentifier": "cc-by-4.0"}],
    "descriptions": [{"description": "<p>Raw <b>force-displacement</b> curves.</p>", "descriptionType": "Abstract"}],
    "types": {"resourceTypeGeneral": "Dataset", "resourceType": "Measurements"},
}  # fmt: skip


def test_prefill_base_profile_from_a_datacite_record() -> None:
    form = form_for(profile_lookup(BASE))
    values = profile_form.prefill(form, RECORD)
    assert values[f"{DCT}title"] == ["Tensile tests on S355 steel"]
    assert values[f"{DCT}creator"] == ["Muster, Erika"]  # max 1 in the base profile
    assert values[f"{DCT}created"] == ["2024-03-01"]
    # the vocabulary field takes the subject whose URI it knows, not the free keyword
    assert values[f"{DCT}subject"] == [
        "http://www.dfg.de/dfg_profil/gremien/fachkollegien/liste/index.jsp?id=405"
    ]
    assert values[f"{DCT}type"] == ["http://purl.org/dc/dcmitype/Dataset"]
    assert values[f"{DCT}rights"] == ["Creative Commons Attribution 4.0 International"]
    assert f"{DCT}rightsHolder" not in values


def test_prefill_measurement_profile_keeps_what_fits() -> None:
    form = form_for(profile_lookup(MEASUREMENT))
    values = profile_form.prefill(form, RECORD)
    assert values[f"{DCT}creator"] == ["Muster, Erika", "Max Mustermann"]
    assert values[f"{DCT}subject"] == [
        "fatigue",
        "Materials Engineering",
        "http://www.dfg.de/dfg_profil/gremien/fachkollegien/liste/index.jsp?id=405",
    ]
    assert values[f"{DCT}description"] == ["Raw force-displacement curves."]  # no HTML
    assert f"{ENG}specimenId" not in values


def test_values_for_a_file_in_order_of_precedence() -> None:
    form = form_for(profile_lookup(MEASUREMENT))
    options = {
        "file_metadata": {
            "*": {f"{DCT}title": ["Shared title"], f"{ENG}specimenId": ["ST-0001"],
                  f"{ENG}facility": ["Somewhere else"]},
            "b.csv": {f"{ENG}specimenId": ["ST-0002"], f"{DCT}subject": []},
        }
    }  # fmt: skip
    a = profile_form.values_for(form, options, "a.csv", RECORD)
    b = profile_form.values_for(form, options, "b.csv", RECORD)
    assert a[f"{ENG}specimenId"] == ["ST-0001"]  # shared
    assert b[f"{ENG}specimenId"] == ["ST-0002"]  # the file's own wins
    assert a[f"{DCT}title"] == b[f"{DCT}title"] == ["Shared title"]  # shared beats prefill
    assert a[f"{DCT}subject"][0] == "fatigue"  # prefilled
    assert b[f"{DCT}subject"] == []  # emptied on purpose for this file
    assert a[f"{ENG}facility"] == ["Institute of Materials Testing, RWTH Aachen University"]
    assert a[f"{ENG}method"] == ["Tensile test"]  # the default
    assert a[f"{ENG}repetitions"] == ["1"]
    assert a[f"{ENG}temperature"] == []


def test_turtle_round_trip_types_each_value() -> None:
    form = form_for(profile_lookup(MEASUREMENT))
    values = {
        f"{DCT}title": ["Run 7"],
        f"{ENG}temperature": ["23.5"],
        f"{ENG}repetitions": ["3"],
        f"{ENG}calibrated": ["true"],
        "http://www.w3.org/ns/sosa/resultTime": ["2024-03-01T10:15:00"],
        f"{DCT}source": ["https://example.org/rig/7"],
        f"{DCT}subject": ["steel", "fatigue"],
        "https://example.org/not-a-field": ["ignored"],
    }
    graph = Graph().parse(data=profile_form.to_turtle(form, values, SUBJECT), format="turtle")
    node = URIRef(SUBJECT)
    assert (node, RDF.type, URIRef(MEASUREMENT)) in graph
    assert graph.value(node, URIRef(f"{DCT}title")) == Literal("Run 7")
    assert graph.value(node, URIRef(f"{ENG}temperature")) == Literal(
        "23.5", datatype=namespace.XSD.decimal
    )
    assert graph.value(node, URIRef(f"{ENG}repetitions")) == Literal(
        "3", datatype=namespace.XSD.integer
    )
    assert graph.value(node, URIRef(f"{ENG}calibrated")) == Literal(
        "true", datatype=namespace.XSD.boolean
    )
    assert graph.value(node, URIRef("http://www.w3.org/ns/sosa/resultTime")) == Literal(
        "2024-03-01T10:15:00", datatype=namespace.XSD.dateTime
    )
    assert graph.value(node, URIRef(f"{DCT}source")) == URIRef("https://example.org/rig/7")
    assert set(graph.objects(node, URIRef(f"{DCT}subject"))) == {
        Literal("steel"),
        Literal("fatigue"),
    }
    assert not list(graph.objects(node, URIRef("https://example.org/not-a-field")))


def test_vocabulary_choices_are_written_as_iris() -> None:
    form = form_for(profile_lookup(SAMPLE))
    steel = "https://purl.org/coscine/vocabularies/sandbox/materials#steel"
    turtle = profile_form.to_turtle(form, {f"{ENG}material": [steel]}, SUBJECT)
    graph = Graph().parse(data=turtle, format="turtle")
    assert graph.value(URIRef(SUBJECT), URIRef(f"{ENG}material")) == URIRef(steel)
    assert (URIRef(SUBJECT), RDF.type, URIRef(SAMPLE)) in graph
