"""Coscine's rules before anything is sent: project, resource or the new resource's
form, the profile, and every live file's metadata at its own field."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest

from deposits.repositories.base import FileJob, FileState
from deposits.repositories.coscine import rules

from . import MEASUREMENT, SAMPLE, profile_lookup

DCT = "http://purl.org/dc/terms/"
ENG = "https://purl.org/coscine/terms/sandbox/engineering#"
STEEL = "https://purl.org/coscine/vocabularies/sandbox/materials#steel"
RECORD = {
    "titles": [{"title": "Tensile tests on S355 steel"}],
    "creators": [{"name": "Muster, Erika"}],
    "dates": [{"date": "2024-03-01", "dateType": "Created"}],
}
SHARED = {
    "http://www.w3.org/ns/sosa/resultTime": ["2024-03-01T10:15:00"],
    f"{ENG}specimenId": ["ST-0042"],
}
NEW_RESOURCE = {
    "name": "Tensile tests 2024",
    "display_name": "Tensile 2024",
    "description": "Raw data of the 2024 campaign.",
    "visibility": "8ab9c883-eb0d-4402-aaad-2e4007badce6",
    "disciplines": ["d2a4b6c8-0000-4000-8000-000000000405"],
    "license": "",
    "keywords": ["steel", "fatigue"],
    "resource_type": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "quota_gib": 1,
}


def job(name: str, status: FileState = FileState.PENDING) -> FileJob:
    data = name.encode()
    return FileJob(name, len(data), hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(),
                   lambda: io.BytesIO(data), status=status)  # fmt: skip


def options(profile: str = MEASUREMENT, **extra: Any) -> dict[str, Any]:
    return {
        "project": {"id": "0b3c9a52-6c3e-4c3a-9d4e-3b8f5c1e2a10", "name": "Lab", "slug": "lab"},
        "resource": {"id": "7d1f0e2a-95b4-4b0c-8f5e-2c6a9b3d4e51", "name": "raw", "type": "rdss3"},
        "application_profile": profile,
        "file_metadata": {"*": dict(SHARED)},
        **extra,
    }


def schema(*uris: str) -> dict[str, Any]:
    return {"lookups": {f"profile:{uri}": profile_lookup(uri) for uri in uris}}


def problems(opts: dict[str, Any], files: list[FileJob] | None = None, **kw: Any) -> dict[str, str]:
    found = rules.check(kw.get("metadata", RECORD), opts, files or [job("a.csv")],
                        kw.get("schema", schema(MEASUREMENT, SAMPLE)))  # fmt: skip
    assert all(p.repository == "coscine" for p in found)
    return {p.field: p.message for p in found}


def test_a_complete_target_has_no_problems() -> None:
    assert problems(options()) == {}
    assert problems(options(SAMPLE, file_metadata={"*": {f"{ENG}material": [STEEL]}})) == {}


def test_field_path() -> None:
    assert rules.field_path("*", f"{DCT}title") == f"options.file_metadata.*.{DCT}title"
    assert rules.field_path("a.csv", "k") == "options.file_metadata.a.csv.k"


def test_project_and_resource_must_be_chosen() -> None:
    found = problems({**options(), "project": None, "resource": {}})
    assert found["options.project"] == "Choose the Coscine project to store the files in."
    assert found["options.resource"].startswith("Choose a resource of the project")


def test_new_resource_limits_of_resource_for_creation_dto() -> None:
    new = {**NEW_RESOURCE, "name": "n" * 201, "display_name": "d" * 26,
           "description": "x" * 10001, "visibility": "", "disciplines": [],
           "resource_type": "", "keywords": ["ok", " "], "quota_gib": 0}  # fmt: skip
    found = problems({**options(), "resource": None, "new_resource": new})
    assert found["options.new_resource.name"] == "Name: at most 200 characters (201 given)."
    assert (
        found["options.new_resource.display_name"]
        == "Display name: at most 25 characters (26 given)."
    )
    assert found["options.new_resource.description"].startswith("Description: at most 10000")
    assert found["options.new_resource.visibility"] == "Choose who may see the resource."
    assert found["options.new_resource.disciplines"] == "Choose at least one discipline."
    assert "resource type" in found["options.new_resource.resource_type"]
    assert found["options.new_resource.keywords"] == "Keywords: remove the empty keyword."
    assert found["options.new_resource.quota_gib"].startswith("Quota:")


def test_a_valid_new_resource_passes_and_name_and_description_are_required() -> None:
    assert problems({**options(), "resource": None, "new_resource": NEW_RESOURCE}) == {}
    missing = {**NEW_RESOURCE, "name": " ", "description": ""}
    found = problems({**options(), "resource": None, "new_resource": missing})
    assert set(found) == {"options.new_resource.name", "options.new_resource.description"}


def test_profile_not_chosen_or_still_being_fetched() -> None:
    assert (
        "Choose the application profile"
        in problems({**options(), "application_profile": ""})["options.application_profile"]
    )
    found = problems(options(), schema={"lookups": {f"profile:{MEASUREMENT}": None}})
    assert "is being fetched from Coscine" in found["options.application_profile"]


def test_broken_profile_is_a_problem_on_the_profile() -> None:
    broken = {
        "lookups": {f"profile:{MEASUREMENT}": {**profile_lookup(MEASUREMENT), "turtle": "@@"}}
    }
    found = problems(options(), schema=broken)
    assert "on Coscine is broken" in found["options.application_profile"]


def test_shared_value_problem_lands_at_star_once_for_all_files() -> None:
    opts = options(file_metadata={"*": {**SHARED, f"{ENG}specimenId": ["bad"]}})
    found = rules.check(RECORD, opts, [job("a.csv"), job("b.csv")], schema(MEASUREMENT))
    path = rules.field_path("*", f"{ENG}specimenId")
    assert [p.field for p in found] == [path]
    assert found[0].message.startswith("Specimen ID: 'bad' does not have the required form")


def test_a_files_own_value_problem_lands_at_that_file() -> None:
    metadata = {"*": dict(SHARED), "b.csv": {f"{ENG}method": ["Bend test"]}}
    found = problems(options(file_metadata=metadata), [job("a.csv"), job("b.csv")])
    path = rules.field_path("b.csv", f"{ENG}method")
    assert list(found) == [path]
    assert found[path].startswith(
        "b.csv: Test method: 'Bend test' is not one of the allowed values"
    )


def test_python_checks_say_each_problem_once() -> None:
    opts = options(
        file_metadata={"*": {**SHARED, f"{ENG}repetitions": ["many"], f"{DCT}title": []}}
    )
    found = rules.check(RECORD, opts, [job("a.csv")], schema(MEASUREMENT))
    messages = [p.message for p in found]
    assert messages.count("Repetitions: 'many' is not a whole number.") == 1
    assert "Title: at least 1 value is required." in messages
    assert len(messages) == 2


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (f"{ENG}temperature", "-300", "below the minimum"),  # only SHACL knows ranges
        (f"{DCT}title", "ab", "shorter than 3 characters"),
        (f"{DCT}source", "not a link", "is not a link"),
        ("http://www.w3.org/ns/sosa/resultTime", "2024-03-01", "is not a date and time"),
    ],
)
def test_each_kind_of_value_problem_names_the_field(key: str, value: str, expected: str) -> None:
    found = problems(options(file_metadata={"*": {**SHARED, key: [value]}}))
    assert expected in found[rules.field_path("*", key)]


def test_deleted_files_are_not_checked() -> None:
    metadata = {"*": dict(SHARED), "gone.csv": {f"{ENG}method": ["Bend test"]}}
    files = [job("a.csv"), job("gone.csv", FileState.DELETE)]
    assert problems(options(file_metadata=metadata), files) == {}


def test_without_files_the_shared_values_are_checked() -> None:
    found = rules.check(RECORD, options(file_metadata={"*": {}}), [], schema(MEASUREMENT))
    assert {p.field for p in found} == {
        rules.field_path("*", "http://www.w3.org/ns/sosa/resultTime"),
        rules.field_path("*", f"{ENG}specimenId"),
    }


def test_shapes_pyshacl_cannot_load_are_a_problem_on_the_profile() -> None:
    lookup = profile_lookup(SAMPLE)
    lookup["turtle"] = lookup["turtle"].split("@base")[0]  # the imported base left out
    opts = options(SAMPLE, file_metadata={"*": {f"{ENG}material": [STEEL]}})
    found = problems(opts, schema={"lookups": {f"profile:{SAMPLE}": lookup}})
    assert list(found) == ["options.application_profile"]
    assert "on Coscine is broken" in found["options.application_profile"]
