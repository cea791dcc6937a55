"""Starting a deposit, its page, and the editor that saves and re-validates as people type."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deposits import lifecycle
from deposits.forms.metadata import GROUPS, MetadataEditor
from deposits.metadata import to_view
from deposits.models import Deposit, Event, Target
from tests.factories import (
    FULL_METADATA,
    AccountFactory,
    DepositFactory,
    MembershipFactory,
    TeamFactory,
    add_file,
    record,
)

pytestmark = pytest.mark.django_db


def editor_data(deposit: Deposit, **changes: Any) -> dict[str, Any]:
    """What the page's form posts for ``deposit``, with ``changes`` typed in."""
    editor = MetadataEditor(metadata=deposit.metadata)
    data: dict[str, Any] = {}
    for name in editor.form.fields:
        value = editor.form.initial.get(name, "")
        data[name] = "" if value is None else value
    for group in editor.groups:
        formset = group.formset
        data[f"{formset.prefix}-TOTAL_FORMS"] = str(len(formset.forms))
        data[f"{formset.prefix}-INITIAL_FORMS"] = str(len(formset.forms))
        for form in formset.forms:
            for name in form.fields:
                value = form.initial.get(name, "")
                data[form.add_prefix(name)] = "" if value is None else value
    data.update(changes)
    return data


def error_slot(body: str, path: str) -> str:
    """The inner HTML of the error slot of ``path``."""
    slot_id = "error-" + (path.replace(".", "-") or "deposit")
    start = body.index(f'id="{slot_id}"')
    start = body.index(">", start) + 1
    return body[start : body.index("</div>", start)]


# --------------------------------------------------------------------------- new


def test_it_creates_a_deposit_in_the_first_team_with_its_accounts(
    owner: Any, owner_client: Client, team: Any, zenodo_account: Any
) -> None:
    page = owner_client.get(reverse("deposit-new")).content.decode()
    assert 'id="id_title"' in page
    assert f'value="{zenodo_account.pk}"' in page

    response = owner_client.post(
        reverse("deposit-new"),
        {
            "team": team.pk,
            "title": "Ice cores",
            "resource_type": "dataset",
            "accounts": [zenodo_account.pk],
        },
    )

    deposit = Deposit.objects.get(title="Ice cores")
    assert response.status_code == 302
    assert response["Location"] == reverse("deposit", args=[deposit.pk])
    assert deposit.team == team
    assert deposit.created_by == owner
    assert deposit.metadata["types"] == {
        "resourceTypeGeneral": "Dataset",
        "resourceType": "Dataset",
    }
    assert [t.account for t in deposit.targets.all()] == [zenodo_account]
    assert deposit.targets.get().problems  # validated at once: no creators yet


def test_it_creates_a_deposit_in_a_chosen_team(member: Any, member_client: Client) -> None:
    second: Any = TeamFactory(name="Lab C", slug="lab-c")
    MembershipFactory(team=second, user=member)
    member_client.post(reverse("deposit-new"), {"team": second.pk, "title": "Second"})
    assert Deposit.objects.get(title="Second").team == second


def test_it_refuses_another_teams_team_or_accounts(
    owner_client: Client, team: Any, stranger: Any
) -> None:
    foreign_team = stranger.memberships.get().team
    foreign_account: Any = AccountFactory(team=foreign_team)
    response = owner_client.post(
        reverse("deposit-new"), {"team": foreign_team.pk, "title": "Sneaky"}
    )
    assert response.status_code == 200
    response = owner_client.post(
        reverse("deposit-new"),
        {"team": team.pk, "title": "Sneaky", "accounts": [foreign_account.pk]},
    )
    assert response.status_code == 200
    assert not Deposit.objects.filter(title="Sneaky").exists()


def test_it_shows_the_accounts_of_the_team_chosen_with_htmx(
    member: Any, member_client: Client, zenodo_account: Any, htmx: dict[str, str]
) -> None:
    second: Any = TeamFactory(name="Lab C", slug="lab-c")
    MembershipFactory(team=second, user=member)
    other: Any = AccountFactory(team=second, label="Lab C Zenodo")
    body = member_client.get(reverse("deposit-new"), {"team": second.pk}, headers=htmx)
    text = body.content.decode()
    assert text.lstrip().startswith('<form method="post"')
    assert other.label in text
    assert zenodo_account.label not in text


# --------------------------------------------------------------------------- page


def test_it_shows_each_problem_next_to_its_field_with_the_repository(
    owner_client: Client, deposit: Any, target: Any
) -> None:
    deposit.metadata = record(
        title="Ic", creators=[{"affiliation": "CERN", "orcid": "0000-0002-1825-0098"}]
    )
    deposit.save()
    lifecycle.revalidate(deposit)

    body = owner_client.get(reverse("deposit", args=[deposit.pk])).content.decode()

    assert 'data-field="title"' in body
    assert "Zenodo" in error_slot(body, "title")
    assert "Family, Given" in error_slot(body, "creators.0.name")
    assert "not a valid ORCID" in error_slot(body, "creators.0.orcid")
    assert "resource type" in error_slot(body, "resource_type")
    assert "file" in error_slot(body, "files")
    assert error_slot(body, "license") == ""
    assert f'id="readiness-{target.pk}"' in body
    assert "problems</strong>" in body


def test_it_says_a_target_is_ready_to_publish(
    owner_client: Client, deposit: Any, target: Any
) -> None:
    add_file(deposit, "data.csv", b"a,b\n")
    lifecycle.revalidate(deposit)
    target.refresh_from_db()
    assert target.state == "ready", target.problems

    body = owner_client.get(reverse("deposit", args=[deposit.pk])).content.decode()

    assert "Ready to publish" in body
    assert f'data-action="publish" id="publish-{target.pk}"' in body


def test_it_saves_edits_and_clears_the_problems_they_fix(
    owner_client: Client, deposit: Any, target: Any, htmx: dict[str, str]
) -> None:
    deposit.metadata = record(title="Ice")
    deposit.save()
    lifecycle.revalidate(deposit)
    url = reverse("deposit-metadata", args=[deposit.pk])

    broken = owner_client.post(url, editor_data(deposit), headers=htmx).content.decode()
    assert "at least one creator" in error_slot(broken, "creators")
    assert 'hx-swap-oob="true"' in broken
    assert "<html" not in broken

    fixed = owner_client.post(
        url,
        editor_data(
            deposit,
            **{
                "title": "Ice cores from Law Dome",
                "resource_type": "dataset",
                "creators-TOTAL_FORMS": "1",
                "creators-0-name": "Curie, Marie",
                "creators-0-orcid": "https://orcid.org/0000-0002-1825-0097",
            },
        ),
        headers=htmx,
    )
    body = fixed.content.decode()
    assert error_slot(body, "creators") == ""
    assert error_slot(body, "creators.0.name") == ""
    assert error_slot(body, "resource_type") == ""
    assert "Saved at" in body
    assert "deposit-changed" in fixed.headers["HX-Trigger"]

    deposit.refresh_from_db()
    assert deposit.title == "Ice cores from Law Dome"
    assert to_view(deposit.metadata)["creators"] == [
        {"name": "Curie, Marie", "orcid": "0000-0002-1825-0097"}
    ]
    # stored as DataCite has it
    assert deposit.metadata["creators"] == [
        {
            "name": "Curie, Marie",
            "nameType": "Personal",
            "familyName": "Curie",
            "givenName": "Marie",
            "nameIdentifiers": [
                {
                    "nameIdentifier": "0000-0002-1825-0097",
                    "nameIdentifierScheme": "ORCID",
                    "schemeUri": "https://orcid.org",
                }
            ],
        }
    ]
    target.refresh_from_db()
    assert {p["field"] for p in target.problems} == {"files"}


def test_it_sanitises_the_description(owner_client: Client, deposit: Any) -> None:
    owner_client.post(
        reverse("deposit-metadata", args=[deposit.pk]),
        editor_data(deposit, description='<p onclick="x()">Hi<script>alert(1)</script></p>'),
    )
    deposit.refresh_from_db()
    assert deposit.metadata["descriptions"] == [
        {"description": "<p>Hi</p>", "descriptionType": "Abstract"}
    ]


def test_an_affiliation_keeps_its_ror_id_and_a_wrong_one_is_refused(
    owner_client: Client, deposit: Any, htmx: dict[str, str]
) -> None:
    url = reverse("deposit-metadata", args=[deposit.pk])
    wrong = owner_client.post(
        url, editor_data(deposit, **{"creators-0-ror": "not-a-ror"}), headers=htmx
    ).content.decode()
    assert "not a ROR id" in error_slot(wrong, "creators.0.ror")
    owner_client.post(url, editor_data(deposit, **{"creators-0-ror": "00G30E956"}))
    deposit.refresh_from_db()
    assert deposit.metadata["creators"][0]["affiliation"] == [
        {
            "name": "Analytical Engines Ltd",
            "affiliationIdentifier": "https://ror.org/00g30e956",
            "affiliationIdentifierScheme": "ROR",
            "schemeUri": "https://ror.org",
        }
    ]
    assert to_view(deposit.metadata)["creators"][0]["ror"] == "https://ror.org/00g30e956"


def test_a_date_range_that_ends_before_it_starts_is_refused(
    owner_client: Client, deposit: Any, htmx: dict[str, str]
) -> None:
    before = dict(deposit.metadata)
    body = owner_client.post(
        reverse("deposit-metadata", args=[deposit.pk]),
        editor_data(
            deposit,
            **{
                "dates-TOTAL_FORMS": "1",
                "dates-0-start": "2024-12-31",
                "dates-0-end": "2024-01-01",
                "dates-0-type": "Collected",
            },
        ),
        headers=htmx,
    ).content.decode()
    assert "The end is before the start" in error_slot(body, "dates.0.end")
    assert "Not saved" in body
    deposit.refresh_from_db()
    assert deposit.metadata == before


def test_it_does_not_save_input_it_cannot_read(
    owner_client: Client, deposit: Any, htmx: dict[str, str]
) -> None:
    before = dict(deposit.metadata)
    body = owner_client.post(
        reverse("deposit-metadata", args=[deposit.pk]),
        editor_data(deposit, title="Changed", publication_date="15/01/2025"),
        headers=htmx,
    ).content.decode()
    assert "Enter a valid date." in error_slot(body, "publication_date")
    assert "Not saved" in body
    deposit.refresh_from_db()
    assert deposit.metadata == before


def test_it_stores_every_part_of_the_neutral_metadata(owner_client: Client, deposit: Any) -> None:
    changes = {
        "resource_type": "publication",
        "publication_type": "article",
        "access_right": "embargoed",
        "embargo_date": "2030-01-01",
        "keywords": "ice\n\ncores \n",
        "references": "Doe (2020). A paper.",
        "journal__title": "Nature",
        "journal__volume": "7",
        "thesis__university": "Oslo",
        "thesis_supervisors-TOTAL_FORMS": "1",
        "thesis_supervisors-0-name": "Bohr, Niels",
        "contributors-TOTAL_FORMS": "1",
        "contributors-0-name": "Meitner, Lise",
        "contributors-0-type": "DataCurator",
        "related_identifiers-TOTAL_FORMS": "1",
        "related_identifiers-0-identifier": "10.1234/x",
        "related_identifiers-0-relation": "IsSupplementTo",
        "funding-TOTAL_FORMS": "1",
        "funding-0-funder_doi": "10.13039/501100000780",
        "funding-0-award_number": "101000",
        "dates-TOTAL_FORMS": "1",
        "dates-0-start": "2024-01-01",
        "dates-0-type": "Collected",
        "locations-TOTAL_FORMS": "1",
        "locations-0-place": "Law Dome",
        "locations-0-lat": "-66.7",
        "locations-0-lon": "112.8",
        "subjects-TOTAL_FORMS": "1",
        "subjects-0-term": "Glaciology",
        "subjects-0-identifier": "https://www.wikidata.org/wiki/Q42213",
    }
    owner_client.post(
        reverse("deposit-metadata", args=[deposit.pk]), editor_data(deposit, **changes)
    )
    deposit.refresh_from_db()
    md = to_view(deposit.metadata)
    assert md["publication_type"] == "article"
    assert md["embargo_date"] == "2030-01-01"
    assert md["keywords"] == ["ice", "cores"]
    assert md["references"] == ["Doe (2020). A paper."]
    assert md["journal"] == {"title": "Nature", "volume": "7"}
    assert md["thesis"] == {"university": "Oslo", "supervisors": [{"name": "Bohr, Niels"}]}
    assert md["contributors"] == [{"name": "Meitner, Lise", "type": "DataCurator"}]
    assert md["related_identifiers"] == [{"identifier": "10.1234/x", "relation": "IsSupplementTo"}]
    assert md["funding"] == [{"funder_doi": "10.13039/501100000780", "award_number": "101000"}]
    assert md["dates"] == [{"start": "2024-01-01", "type": "Collected"}]
    assert md["locations"] == [{"place": "Law Dome", "lat": -66.7, "lon": 112.8}]
    assert md["subjects"] == [
        {"term": "Glaciology", "identifier": "https://www.wikidata.org/wiki/Q42213"}
    ]
    assert md["creators"] == to_view(FULL_METADATA)["creators"]  # untouched rows stay
    # ... each in its DataCite place
    stored = deposit.metadata
    assert stored["types"] == {
        "resourceTypeGeneral": "JournalArticle",
        "resourceType": "Journal article",
    }
    assert {"date": "2030-01-01", "dateType": "Available"} in stored["dates"]
    assert {"date": "2024-01-01", "dateType": "Collected"} in stored["dates"]
    assert stored["relatedIdentifiers"] == [
        {"relatedIdentifier": "10.1234/x", "relationType": "IsSupplementTo"}
    ]
    assert stored["fundingReferences"] == [
        {
            "funderIdentifier": "10.13039/501100000780",
            "funderIdentifierType": "Crossref Funder ID",
            "awardNumber": "101000",
        }
    ]
    assert stored["geoLocations"] == [
        {
            "geoLocationPlace": "Law Dome",
            "geoLocationPoint": {"pointLatitude": -66.7, "pointLongitude": 112.8},
        }
    ]
    assert stored["relatedItems"] == [
        {
            "relationType": "IsPublishedIn",
            "relatedItemType": "Journal",
            "titles": [{"title": "Nature"}],
            "volume": "7",
        }
    ]
    assert stored["access"] == {"right": "embargoed"}


def test_it_drops_sub_choices_that_no_longer_apply(owner_client: Client, deposit: Any) -> None:
    owner_client.post(
        reverse("deposit-metadata", args=[deposit.pk]),
        editor_data(
            deposit,
            resource_type="dataset",
            publication_type="article",
            access_right="open",
            embargo_date="2030-01-01",
        ),
    )
    deposit.refresh_from_db()
    assert "publication_type" not in to_view(deposit.metadata)
    assert "embargo_date" not in to_view(deposit.metadata)
    assert deposit.metadata["types"]["resourceTypeGeneral"] == "Dataset"


def test_it_keeps_zenodo_communities_on_the_zenodo_target(
    owner_client: Client, deposit: Any, target: Any
) -> None:
    page = owner_client.get(reverse("deposit", args=[deposit.pk])).content.decode()
    # Zenodo's own panel (its web part) carries the option, not the neutral metadata form
    assert f'id="communities-{target.pk}"' in page
    assert 'name="communities"' not in page.split('id="metadata-form"')[1]
    owner_client.post(
        reverse("zenodo-options", args=[target.pk]), {"communities": "ecfunded\n zenodo \n"}
    )
    target.refresh_from_db()
    assert target.options["communities"] == ["ecfunded", "zenodo"]
    assert "communities" not in Deposit.objects.get(pk=deposit.pk).metadata


def test_it_adds_a_row_with_htmx(owner_client: Client, deposit: Any, htmx: dict[str, str]) -> None:
    data = editor_data(deposit, row="add:creators")
    body = owner_client.post(
        reverse("deposit-metadata", args=[deposit.pk]), data, headers=htmx
    ).content.decode()
    assert body.lstrip().startswith('<div class="group" id="group-creators">')
    assert 'name="creators-2-name"' in body
    assert 'name="creators-TOTAL_FORMS" value="3"' in body


def test_it_removes_a_row_and_renumbers(
    owner_client: Client, deposit: Any, htmx: dict[str, str]
) -> None:
    data = editor_data(deposit, row="remove:creators:0")
    body = owner_client.post(
        reverse("deposit-metadata", args=[deposit.pk]), data, headers=htmx
    ).content.decode()
    assert 'name="creators-1-name"' not in body
    assert 'value="Hopper, Grace"' in body
    deposit.refresh_from_db()
    assert [c["name"] for c in deposit.metadata["creators"]] == ["Hopper, Grace"]


def test_every_repeating_group_has_add_and_remove(owner_client: Client, deposit: Any) -> None:
    body = owner_client.get(reverse("deposit", args=[deposit.pk])).content.decode()
    for key in GROUPS:
        assert f'value="add:{key}"' in body, key


def test_it_notes_an_editing_session_once_in_the_history(
    owner_client: Client, deposit: Any
) -> None:
    url = reverse("deposit-metadata", args=[deposit.pk])
    owner_client.post(url, editor_data(deposit, title="First"))
    deposit.refresh_from_db()
    owner_client.post(url, editor_data(deposit, version="2.0"))
    edits = Event.objects.filter(deposit=deposit, kind="metadata_edited")
    assert edits.count() == 1
    assert set(edits.get().data["fields"]) == {"title", "version"}


def test_it_refuses_edits_while_a_worker_is_on_the_deposit(
    owner_client: Client, deposit: Any, target: Any, htmx: dict[str, str]
) -> None:
    Target.objects.filter(pk=target.pk).update(state="working")
    page = owner_client.get(reverse("deposit", args=[deposit.pk])).content.decode()
    assert 'id="metadata-locked"' in page
    body = owner_client.post(
        reverse("deposit-metadata", args=[deposit.pk]),
        editor_data(deposit, title="Changed"),
        headers=htmx,
    ).content.decode()
    assert "Not saved" in body
    deposit.refresh_from_db()
    assert deposit.title != "Changed"


def test_it_chooses_and_removes_targets(
    owner_client: Client, deposit: Any, team: Any, zenodo_account: Any
) -> None:
    other: Any = AccountFactory(team=team, label="Zenodo (production)")
    url = reverse("deposit-targets", args=[deposit.pk])
    owner_client.post(url, {"accounts": [zenodo_account.pk, other.pk]})
    assert {t.account for t in deposit.targets.all()} == {zenodo_account, other}
    owner_client.post(url, {"accounts": [other.pk]})
    assert [t.account for t in deposit.targets.all()] == [other]


def test_it_says_why_a_target_with_a_remote_record_stays(
    owner_client: Client, deposit: Any, target: Any
) -> None:
    Target.objects.filter(pk=target.pk).update(remote_id="123")
    response = owner_client.post(
        reverse("deposit-targets", args=[deposit.pk]), {"accounts": []}, follow=True
    )
    assert Target.objects.filter(pk=target.pk).exists()
    assert "already holds a record" in response.content.decode()


def test_it_does_not_offer_another_teams_accounts_as_targets(
    owner_client: Client, deposit: Any, stranger: Any
) -> None:
    foreign: Any = AccountFactory(team=stranger.memberships.get().team)
    owner_client.post(reverse("deposit-targets", args=[deposit.pk]), {"accounts": [foreign.pk]})
    assert not deposit.targets.exists()


def test_it_shows_a_deposit_without_targets(owner_client: Client, team: Any) -> None:
    deposit: Any = DepositFactory(team=team)
    body = owner_client.get(reverse("deposit", args=[deposit.pk])).content.decode()
    assert "Choose where this deposit goes." in body
    assert 'id="targets-form"' in body
