"""The Coscine panel of the deposit page: project and resource choice, the resource to
create, the application profile's form for all files and per file, lookups loading and
failing, the Handle and publication requests, and team scoping and locks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone

from deposits import lifecycle
from deposits.models import Identifier, LinkedAccount, Lookup, State, Target
from tests.factories import AccountFactory, DepositFactory, TargetFactory, add_file, record

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

urlpatterns = [path("", include("deposits.urls"))]

PROFILES = Path(__file__).resolve().parents[2] / "sandbox" / "coscine" / "profiles"
MEASUREMENT = "https://purl.org/coscine/ap/sandbox/measurement/"
BASE = "https://purl.org/coscine/ap/base/"
ENG = "https://purl.org/coscine/terms/sandbox/engineering#"
SPECIMEN = ENG + "specimenId"
TITLE = "http://purl.org/dc/terms/title"
PROJECT = "5f0e8c3a-0d1b-4a7e-9a51-1c2b3d4e5f60"
SUBPROJECT = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
RESOURCE = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
ROR = "https://ror.org/04xfq0f34"


def lookup_data() -> dict[str, Any]:
    """Cached lookups in the shapes of interfaces.md, as account.fetch_lookup makes them."""
    return {
        "projects": [
            {
                "id": PROJECT,
                "name": "Materials Testing 2026",
                "display_name": "MatTest26",
                "slug": "mattest26",
                "pid": "21.11102/" + PROJECT,
                "organizations": [ROR],
                "parent_id": None,
                "depth": 0,
            },
            {
                "id": SUBPROJECT,
                "name": "Tensile campaign",
                "display_name": "Tensile",
                "slug": "tensile",
                "pid": "21.11102/" + SUBPROJECT,
                "organizations": [ROR],
                "parent_id": PROJECT,
                "depth": 1,
            },
        ],
        f"resources:{PROJECT}": [
            {
                "id": RESOURCE,
                "name": "Tensile raw data",
                "display_name": "Tensile raw",
                "pid": "21.11102/" + RESOURCE,
                "general_type": "rdss3",
                "application_profile": MEASUREMENT,
                "archived": False,
            },
            {
                "id": "0b0b0b0b-0000-4000-8000-000000000000",
                "name": "Old archive",
                "display_name": "Old",
                "pid": "21.11102/0b0b",
                "general_type": "rds",
                "application_profile": BASE,
                "archived": True,
            },
        ],
        f"resource_types:{PROJECT}": [
            {
                "id": "c8e3a4f1-2b6d-4e0a-9f3c-7d1e5b2a6c40",
                "general_type": "rdss3",
                "specific_type": "rdss3rwth",
                "can_create": True,
                "is_enabled": True,
                "status": "active",
                "supports_s3": True,
                "quota": {"allocated_gib": 20.0, "used_gib": 3.5, "maximum_gib": 100.0},
            },
            {
                "id": "d9f4b5a2-3c7e-4f1b-8a4d-8e2f6c3b7d51",
                "general_type": "rds",
                "specific_type": "rdsrwth",
                "can_create": True,
                "is_enabled": True,
                "status": "active",
                "supports_s3": False,
                "quota": {"allocated_gib": 0.0, "used_gib": 0.0, "maximum_gib": 50.0},
            },
            {
                "id": "eaf5c6b3-4d8f-4a2c-9b5e-9f3a7d4c8e62",
                "general_type": "gitlab",
                "specific_type": "gitlab",
                "can_create": False,
                "is_enabled": True,
                "status": "active",
                "supports_s3": False,
                "quota": None,
            },
            {
                "id": "fb06d7c4-5e9a-4b3d-8c6f-0a4b8e5d9f73",
                "general_type": "linked",
                "specific_type": "linked",
                "can_create": True,
                "is_enabled": True,
                "status": "hidden",
                "supports_s3": False,
                "quota": None,
            },
        ],
        "visibilities": [
            {"id": "8ab7b9f5-1c3e-4d2a-9e4f-3b5c7d9e1f02", "name": "Project Members"},
            {"id": "9bc8caf6-2d4f-4e3b-8f5a-4c6d8e0f2a13", "name": "Public"},
        ],
        "disciplines": [
            {
                "id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c01",
                "label": "Production Technology 401",
                "uri": "http://www.dfg.de/401",
            },
            {
                "id": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d05",
                "label": "Materials Engineering 405",
                "uri": "http://www.dfg.de/405",
            },
        ],
        "licenses": [
            {
                "id": "3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e07",
                "name": "CC BY 4.0",
                "url": "https://spdx.org/CC-BY-4.0",
            }
        ],
        "profiles": [
            {"uri": MEASUREMENT, "name": "Engineering Measurement", "description": "Tests"},
            {"uri": BASE, "name": "Base Profile", "description": "Coscine's base"},
        ],
        "publication_services": [
            {"ror": ROR, "name": "University Library RWTH Aachen", "description": "Publishes"}
        ],
        "profile:" + MEASUREMENT: {
            "uri": MEASUREMENT,
            "turtle": (PROFILES / "measurement.ttl").read_text(encoding="utf-8"),
            "vocabularies": {},
            "imports": [],
        },
    }


def fill_lookups(account: LinkedAccount, only: tuple[str, ...] | None = None) -> None:
    now = timezone.now()
    for key, data in lookup_data().items():
        if only is None or key in only:
            Lookup.objects.update_or_create(
                account=account, key=key, defaults={"data": data, "fetched_at": now, "error": ""}
            )


@pytest.fixture
def account(team: Any) -> LinkedAccount:
    return AccountFactory(
        team=team, kind="coscine", label="Coscine RWTH", base_url="http://127.0.0.1:8004/coscine"
    )


@pytest.fixture
def target(team: Any, account: LinkedAccount) -> Target:
    deposit = DepositFactory(team=team, metadata=record(title="Tensile tests of S355"))
    add_file(deposit, "run1.csv", b"force,strain\n1,2\n")
    add_file(deposit, "run2.csv", b"force,strain\n3,4\n")
    return TargetFactory(deposit=deposit, account=account)


def url(name: str, target: Target) -> str:
    return reverse(name, args=[target.pk])


def with_options(target: Target, **options: Any) -> Target:
    Target.objects.filter(pk=target.pk).update(options={**target.options, **options})
    target.refresh_from_db()
    return target


def chosen(target: Target) -> Target:
    """Project and existing resource chosen (with its measurement profile)."""
    return with_options(
        target,
        project={"id": PROJECT, "name": "MatTest26", "slug": "mattest26"},
        resource={"id": RESOURCE, "name": "Tensile raw", "type": "rdss3"},
        application_profile=MEASUREMENT,
    )


def panel(client: Client, target: Target, **params: str) -> str:
    response = client.get(url("coscine-panel", target), params)
    assert response.status_code == 200
    return response.text


# --------------------------------------------------------------------------- project, resource


def test_the_deposit_page_shows_the_coscine_panel_with_projects_and_sub_projects(
    member_client: Client, target: Target, account: LinkedAccount
) -> None:
    fill_lookups(account)
    page = member_client.get(reverse("deposit", args=[target.deposit_id])).text
    assert f'id="coscine-{target.pk}"' in page
    assert ">MatTest26</option>" in page
    assert "\u2003↳ Tensile</option>" in page  # the sub-project, indented under its project


def test_choosing_a_project_saves_it_and_offers_its_resources(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    fill_lookups(account)
    response = member_client.post(
        url("coscine-project", target), {"project": PROJECT}, headers=htmx
    )
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.options["project"] == {"id": PROJECT, "name": "MatTest26", "slug": "mattest26"}
    assert "Tensile raw (rdss3)</option>" in response.text
    assert "Old</option>" not in response.text  # archived resources are not offered
    assert ">Create a new resource</option>" in response.text
    assert "target-changed" in response.headers["HX-Trigger"]


def test_a_project_not_in_the_list_is_refused(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    fill_lookups(account)
    response = member_client.post(url("coscine-project", target), {"project": "nope"}, headers=htmx)
    assert "not among your Coscine projects" in response.text
    target.refresh_from_db()
    assert "project" not in target.options


def test_choosing_a_resource_brings_its_application_profile(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    fill_lookups(account)
    with_options(target, project={"id": PROJECT, "name": "MatTest26", "slug": "mattest26"})
    response = member_client.post(
        url("coscine-resource", target), {"resource": RESOURCE}, headers=htmx
    )
    target.refresh_from_db()
    assert target.options["resource"] == {"id": RESOURCE, "name": "Tensile raw", "type": "rdss3"}
    assert target.options["application_profile"] == MEASUREMENT
    assert "Metadata for all files" in response.text
    assert "Specimen ID" in response.text


def test_changing_the_project_forgets_the_resource_of_the_other(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    fill_lookups(account)
    chosen(target)
    member_client.post(url("coscine-project", target), {"project": SUBPROJECT}, headers=htmx)
    target.refresh_from_db()
    assert target.options["project"]["id"] == SUBPROJECT
    assert "resource" not in target.options


def test_the_project_problem_is_shown_next_to_the_project(
    member_client: Client, target: Target, account: LinkedAccount
) -> None:
    fill_lookups(account)
    lifecycle.revalidate(target.deposit)
    target.refresh_from_db()
    expected = [p["message"] for p in target.problems if p["field"] == "options.project"]
    assert expected  # the rules ask for a project
    text = panel(member_client, target)
    slot = text.split(f'id="error-coscine-project-{target.pk}"')[1].split("</div>")[0]
    assert 'data-for="options.project"' in slot
    assert all(message in slot for message in expected)


# --------------------------------------------------------------------------- a new resource


def new_resource_post(**changes: Any) -> dict[str, Any]:
    post = {
        "name": "Tensile tests S355",
        "display_name": "Tensile S355",
        "description": "Raw force and strain of each tensile test.",
        "visibility": "8ab7b9f5-1c3e-4d2a-9e4f-3b5c7d9e1f02",
        "disciplines": [
            "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c01",
            "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d05",
        ],
        "license": "3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e07",
        "keywords": "tensile, steel",
        "resource_type": "c8e3a4f1-2b6d-4e0a-9f3c-7d1e5b2a6c40",
        "quota_gib": "5",
        "application_profile": MEASUREMENT,
    }
    post.update(changes)
    return post


def test_create_a_new_resource_opens_its_form_with_only_the_types_the_project_may_create(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    fill_lookups(account)
    with_options(target, project={"id": PROJECT, "name": "MatTest26", "slug": "mattest26"})
    response = member_client.post(
        url("coscine-resource", target), {"resource": "new"}, headers=htmx
    )
    text = response.text
    assert f'id="coscine-new-resource-{target.pk}"' in text
    assert "rdss3rwth (80 GiB of 100 GiB left)</option>" in text
    assert "rdsrwth (50 GiB of 50 GiB left)</option>" in text
    assert "gitlab</option>" not in text  # can_create false
    assert "linked</option>" not in text  # hidden
    for label in ("Project Members", "Production Technology 401", "CC BY 4.0", "Base Profile"):
        assert label in text


def test_the_new_resource_form_saves_every_field(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    fill_lookups(account)
    with_options(
        target,
        project={"id": PROJECT, "name": "MatTest26", "slug": "mattest26"},
        new_resource={"quota_gib": 1},
    )
    response = member_client.post(
        url("coscine-new-resource", target), new_resource_post(), headers=htmx
    )
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.options["new_resource"] == {
        "name": "Tensile tests S355",
        "display_name": "Tensile S355",
        "description": "Raw force and strain of each tensile test.",
        "visibility": "8ab7b9f5-1c3e-4d2a-9e4f-3b5c7d9e1f02",
        "disciplines": [
            "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c01",
            "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d05",
        ],
        "license": "3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e07",
        "keywords": ["tensile", "steel"],
        "resource_type": "c8e3a4f1-2b6d-4e0a-9f3c-7d1e5b2a6c40",
        "quota_gib": 5,
    }
    assert target.options["application_profile"] == MEASUREMENT
    # a complete resource form leaves nothing to fix on it
    assert [p for p in target.problems if p["field"].startswith("options.new_resource")] == []
    assert 'value="2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d05" selected' in response.text
    assert "Specimen ID" in response.text  # the chosen profile's form follows


def test_a_new_resource_problem_is_shown_next_to_its_field(
    member_client: Client, target: Target, account: LinkedAccount
) -> None:
    fill_lookups(account)
    with_options(
        target,
        project={"id": PROJECT, "name": "MatTest26", "slug": "mattest26"},
        new_resource={"name": "x", "display_name": "A display name far too long"},
    )
    problem = {
        "field": "options.new_resource.display_name",
        "message": "The display name has 27 characters; Coscine allows 25.",
        "source": "portal",
        "repository": "coscine",
    }
    Target.objects.filter(pk=target.pk).update(problems=[problem])
    text = panel(member_client, target)
    slot = text.split(f'id="error-coscine-nr-{target.pk}-display_name"')[1].split("</div>")[0]
    assert "Coscine allows 25" in slot
    assert f'id="coscine-nr-{target.pk}-display_name" value="A display name far too long"' in (
        text.replace('name="display_name" ', "")
    )


# --------------------------------------------------------------------------- lookups


def test_a_lookup_not_cached_yet_shows_loading_and_polls(
    member_client: Client, target: Target, account: LinkedAccount
) -> None:
    text = panel(member_client, target)
    assert "Loading from Coscine…" in text
    assert 'hx-trigger="every 2s"' in text
    row = Lookup.objects.get(account=account, key="projects")
    assert row.requested_at is not None  # a worker was asked for it
    fill_lookups(account, only=("projects",))
    text = panel(member_client, target)
    assert "Loading from Coscine…" not in text
    assert 'hx-trigger="every 2s"' not in text


def test_a_lookup_error_shows_coscines_message_and_retry_asks_again(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    Lookup.objects.create(
        account=account,
        key="projects",
        error="Coscine answered 503: Service Unavailable (trace 0HN7ABC).",
    )
    text = panel(member_client, target)
    assert "Coscine answered 503: Service Unavailable (trace 0HN7ABC)." in text
    assert 'data-action="retry-lookup"' in text
    Lookup.objects.filter(account=account, key="projects").update(requested_at=None)
    member_client.post(url("coscine-lookup", target), {"key": "projects"}, headers=htmx)
    assert Lookup.objects.get(account=account, key="projects").requested_at is not None


def test_retry_refuses_a_key_that_is_no_coscine_list(
    member_client: Client, target: Target, htmx: dict[str, str]
) -> None:
    response = member_client.post(url("coscine-lookup", target), {"key": "secrets"}, headers=htmx)
    assert response.status_code == 404


def test_a_profile_still_being_fetched_shows_loading(
    member_client: Client, target: Target, account: LinkedAccount
) -> None:
    fill_lookups(account, only=("projects", f"resources:{PROJECT}"))
    chosen(target)
    text = panel(member_client, target)
    assert f'data-lookup-loading="profile:{MEASUREMENT}"' in text
    assert "Metadata for all files" not in text


# --------------------------------------------------------------------------- the profile form


def metadata_post(scope: str = "*", **by_index: Any) -> dict[str, Any]:
    """What the form posts for the fields given (by their index): each field it shows is
    listed in ``fields``, so a field left out keeps what it had."""
    post: dict[str, Any] = {"scope": scope, "op": "save", "fields": list(by_index)}
    post.update({f"v-{i}": v for i, v in by_index.items()})
    return post


def field_index(target: Target, account: LinkedAccount, key: str) -> int:
    from deposits.repositories.coscine import profiles

    form = profiles.form_for(lookup_data()["profile:" + MEASUREMENT])
    return next(i for i, f in enumerate(form.fields) if f.key == key)


def test_the_profile_form_shows_each_kind_of_input(
    member_client: Client, target: Target, account: LinkedAccount
) -> None:
    fill_lookups(account)
    chosen(target)
    text = panel(member_client, target)
    assert 'type="datetime-local"' in text  # Measured at (xsd:dateTime)
    assert 'type="number" step="1"' in text  # Repetitions (xsd:integer)
    assert 'type="number" step="any"' in text  # Temperature (xsd:decimal)
    assert 'type="checkbox"' in text  # Instrument calibrated (xsd:boolean)
    assert 'type="url"' in text  # Test rig documentation
    assert "<textarea" in text  # Notes
    assert '<option value="Hardness test">Hardness test</option>' in text  # sh:in
    # the facility is fixed by the profile: shown, read-only, not sent from the form
    assert 'value="Institute of Materials Testing, RWTH Aachen University" readonly' in text
    # the title comes from the deposit's description, and says so
    assert 'value="Tensile tests of S355"' in text
    assert 'data-source="prefilled"' in text
    assert 'data-source="default"' in text  # repetitions 1, test method Tensile test
    assert 'aria-label="required"' in text


def test_saving_the_form_stores_only_what_differs_from_prefilled_and_defaults(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    fill_lookups(account)
    chosen(target)
    specimen = field_index(target, account, SPECIMEN)
    title = field_index(target, account, TITLE)
    keywords = field_index(target, account, "http://purl.org/dc/terms/subject")
    post = metadata_post(**{str(specimen): "AB-1234", str(title): "Tensile tests of S355"})
    post[f"v-{keywords}"] = ["steel", "tensile", ""]
    post["fields"].append(str(keywords))
    member_client.post(url("coscine-metadata", target), post, headers=htmx)
    target.refresh_from_db()
    shared = target.options["file_metadata"]["*"]
    assert shared[SPECIMEN] == ["AB-1234"]
    assert shared["http://purl.org/dc/terms/subject"] == ["steel", "tensile"]
    assert TITLE not in shared  # still the prefilled title: it follows the description
    assert ENG + "facility" not in shared  # fixed, never the form's


def test_emptying_a_prefilled_field_keeps_it_empty_on_purpose(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    fill_lookups(account)
    chosen(target)
    title = field_index(target, account, TITLE)
    member_client.post(
        url("coscine-metadata", target), metadata_post(**{str(title): ""}), headers=htmx
    )
    target.refresh_from_db()
    assert target.options["file_metadata"]["*"][TITLE] == []


def test_a_repeatable_field_offers_one_more_input(
    member_client: Client, target: Target, account: LinkedAccount
) -> None:
    fill_lookups(account)
    chosen(target)
    with_options(target, file_metadata={"*": {"http://purl.org/dc/terms/subject": ["steel"]}})
    keywords = field_index(target, account, "http://purl.org/dc/terms/subject")
    text = panel(member_client, target)
    assert text.count(f'name="v-{keywords}"') == 2  # "steel" and an empty one
    assert 'value="steel"' in text


def test_a_violation_is_shown_next_to_its_field_and_clears_once_fixed(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    fill_lookups(account)
    chosen(target)
    specimen = field_index(target, account, SPECIMEN)
    slot = f'id="error-coscine-{target.pk}-all-{specimen}"'
    response = member_client.post(
        url("coscine-metadata", target), metadata_post(**{str(specimen): "bad id"}), headers=htmx
    )
    after = response.text.split(slot)[1].split("</div>")[0]
    assert f'data-for="options.file_metadata.*.{SPECIMEN}"' in after
    assert "Specimen ID" in after
    response = member_client.post(
        url("coscine-metadata", target), metadata_post(**{str(specimen): "AB-1234"}), headers=htmx
    )
    after = response.text.split(slot)[1].split("</div>")[0]
    assert "problem" not in after.split(">", 1)[1]


def test_a_file_gets_its_own_metadata_and_can_follow_all_files_again(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    fill_lookups(account)
    chosen(target)
    with_options(target, file_metadata={"*": {SPECIMEN: ["AB-1234"]}})
    specimen = field_index(target, account, SPECIMEN)
    text = panel(member_client, target, scope="run2.csv")
    assert "Metadata for run2.csv only" in text
    assert 'data-source="inherited"' in text
    assert f'id="coscine-{target.pk}-file-{specimen}" value="AB-1234"' in text
    post = metadata_post("run2.csv", **{str(specimen): "CD-5678"})
    response = member_client.post(url("coscine-metadata", target), post, headers=htmx)
    target.refresh_from_db()
    assert target.options["file_metadata"]["run2.csv"] == {SPECIMEN: ["CD-5678"]}
    assert "run2.csv (has its own metadata)" in response.text
    assert "Metadata for run2.csv only" in response.text  # the file's form stays open
    reset = {"scope": "run2.csv", "op": "reset"}
    member_client.post(url("coscine-metadata", target), reset, headers=htmx)
    target.refresh_from_db()
    assert "run2.csv" not in target.options["file_metadata"]


def test_metadata_for_a_file_not_in_the_deposit_is_refused(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    fill_lookups(account)
    chosen(target)
    response = member_client.post(
        url("coscine-metadata", target), metadata_post("ghost.csv"), headers=htmx
    )
    assert response.status_code == 404


# --------------------------------------------------------------------------- published


def published(target: Target, **problem: str) -> Target:
    Target.objects.filter(pk=target.pk).update(
        state=State.PUBLISHED,
        published_at=timezone.now(),
        remote_id=RESOURCE,
        remote_data={
            "project_id": PROJECT,
            "publication_requests": [
                {
                    "id": "req-1",
                    "service": ROR,
                    "requested_at": "2026-12-01T10:00:00Z",
                    "message": "Please publish with a DOI.",
                }
            ],
        },
    )
    Identifier.objects.create(
        target=target,
        scheme="handle",
        value=f"21.11102/{RESOURCE}",
        url=f"https://hdl.handle.net/21.11102/{RESOURCE}",
        **problem,
    )
    target.refresh_from_db()
    return target


def test_a_published_target_shows_its_handle_never_a_doi(
    member_client: Client, target: Target, account: LinkedAccount
) -> None:
    fill_lookups(account)
    published(chosen(target))
    text = panel(member_client, target)
    assert "persistent identifier (Handle)" in text
    assert f'href="https://hdl.handle.net/21.11102/{RESOURCE}"' in text
    published_part = text.split(f'id="coscine-published-{target.pk}"')[1].split("<h3>")[0]
    assert "DOI" not in published_part
    assert "Please publish with a DOI." in text  # the recorded request


def test_a_flagged_handle_shows_its_problem(
    member_client: Client, target: Target, account: LinkedAccount
) -> None:
    fill_lookups(account)
    published(chosen(target), problem="The Handle answers 410 Gone: the resource was deleted.")
    text = panel(member_client, target)
    assert 'data-identifier-problem="21.11102/' in text
    assert "answers 410 Gone" in text


def test_request_publication_saves_the_choice_and_queues_the_action(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    fill_lookups(account)
    published(chosen(target))
    response = member_client.post(
        url("coscine-publication", target),
        {"service": ROR, "message": "Please assign a DOI."},
        headers=htmx,
    )
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.options["publication"] == {"service": ROR, "message": "Please assign a DOI."}
    assert target.state == State.QUEUED
    assert target.action == "request_publication"
    assert f'id="coscine-locked-{target.pk}"' in response.text


def test_request_publication_needs_a_listed_service(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    fill_lookups(account)
    published(chosen(target))
    response = member_client.post(
        url("coscine-publication", target), {"service": "https://evil.example"}, headers=htmx
    )
    assert "Choose one of the publication services listed." in response.text
    target.refresh_from_db()
    assert target.state == State.PUBLISHED


def test_only_the_publication_services_of_the_project_s_organisations_are_offered(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    """A request goes to the project's own library: another organisation's service is
    neither offered nor accepted."""
    fill_lookups(account)
    other = {"ror": "https://ror.org/02nv7yv05", "name": "Another University's Library"}
    Lookup.objects.filter(account=account, key="publication_services").update(
        data=[*lookup_data()["publication_services"], other]
    )
    published(chosen(target))
    text = panel(member_client, target)
    assert "University Library RWTH Aachen" in text
    assert "Another University&#x27;s Library" not in text
    assert "Another University's Library" not in text
    response = member_client.post(
        url("coscine-publication", target), {"service": other["ror"]}, headers=htmx
    )
    assert "Choose one of the publication services listed." in response.text
    target.refresh_from_db()
    assert target.state == State.PUBLISHED


# --------------------------------------------------------------------------- access and locks


ALL_POSTS = (
    ("coscine-project", {"project": PROJECT}),
    ("coscine-resource", {"resource": RESOURCE}),
    ("coscine-new-resource", {"name": "x"}),
    ("coscine-metadata", {"scope": "*"}),
    ("coscine-lookup", {"key": "projects"}),
    ("coscine-publication", {"service": ROR}),
)


def test_another_teams_target_is_404_for_every_view(
    stranger_client: Client, target: Target, account: LinkedAccount
) -> None:
    fill_lookups(account)
    assert stranger_client.get(url("coscine-panel", target)).status_code == 404
    for name, post in ALL_POSTS:
        assert stranger_client.post(url(name, target), post).status_code == 404, name
    target.refresh_from_db()
    assert target.options == {}


def test_a_zenodo_target_is_404_here(member_client: Client, team: Any) -> None:
    other = TargetFactory(deposit=DepositFactory(team=team), account=AccountFactory(team=team))
    assert member_client.get(reverse("coscine-panel", args=[other.pk])).status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client: Client, target: Target) -> None:
    response = client.get(url("coscine-panel", target))
    assert response.status_code == 302
    assert "/login/" in response.headers["Location"]


def test_while_a_worker_has_the_target_nothing_changes(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    fill_lookups(account)
    chosen(target)
    Target.objects.filter(pk=target.pk).update(state=State.WORKING)
    target.refresh_from_db()
    text = panel(member_client, target)
    assert f'id="coscine-locked-{target.pk}"' in text
    assert '<fieldset class="sections" disabled>' in text
    assert 'hx-trigger="every 2s"' in text  # it unlocks by itself once the worker is done
    response = member_client.post(
        url("coscine-project", target), {"project": SUBPROJECT}, headers=htmx
    )
    assert "is working on this deposit" in response.text
    target.refresh_from_db()
    assert target.options["project"]["id"] == PROJECT


def test_without_htmx_a_change_returns_to_the_deposit_page(
    member_client: Client, target: Target, account: LinkedAccount
) -> None:
    fill_lookups(account)
    response = member_client.post(url("coscine-project", target), {"project": PROJECT})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        reverse("deposit", args=[target.deposit_id]) + f"#coscine-{target.pk}"
    )


def test_once_stored_the_project_and_resource_stay_but_the_metadata_can_change(
    member_client: Client, target: Target, account: LinkedAccount, htmx: dict[str, str]
) -> None:
    fill_lookups(account)
    published(chosen(target))
    text = panel(member_client, target)
    assert f'id="coscine-stored-{target.pk}"' in text
    project_form = text.split(f'id="coscine-project-form-{target.pk}"')[1].split("</form>")[0]
    assert '<fieldset class="sections" disabled>' in project_form
    for name, post in (
        ("coscine-project", {"project": SUBPROJECT}),
        ("coscine-resource", {"resource": "new"}),
        ("coscine-new-resource", new_resource_post()),
    ):
        response = member_client.post(url(name, target), post, headers=htmx)
        assert "stay as they are" in response.text, name
    target.refresh_from_db()
    assert target.options["project"]["id"] == PROJECT
    assert target.options["resource"]["id"] == RESOURCE
    specimen = field_index(target, account, SPECIMEN)
    post = metadata_post(**{str(specimen): "AB-1234"})
    member_client.post(url("coscine-metadata", target), post, headers=htmx)
    target.refresh_from_db()
    assert target.options["file_metadata"]["*"][SPECIMEN] == ["AB-1234"]
