"""A deposit's description downloads as DataCite 4.5 JSON and XML from its page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from datacite import schema45
from django.test import Client
from django.urls import reverse
from lxml import etree

from deposits.models import Identifier
from tests.factories import DepositFactory, record

pytestmark = pytest.mark.django_db
NS = {"d": "http://datacite.org/schema/kernel-4"}


def test_the_page_links_both_exports(owner_client: Client, deposit: Any) -> None:
    page = owner_client.get(reverse("deposit", args=[deposit.pk])).content.decode()
    for fmt in ("json", "xml"):
        assert f'href="{reverse("deposit-datacite", args=[deposit.pk, fmt])}"' in page


def test_it_downloads_valid_datacite_json(owner_client: Client, deposit: Any) -> None:
    response = owner_client.get(reverse("deposit-datacite", args=[deposit.pk, "json"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert f"deposit-{deposit.pk}-datacite.json" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert schema45.validate(data)
    assert data["titles"] == [{"title": "Soil moisture at the Lindenberg site, 2024"}]
    # not published anywhere yet: no DOI, the team publishes
    assert "doi" not in data
    assert data["publisher"] == {"name": deposit.team.name}


def test_a_published_deposit_exports_its_doi_and_repository(
    owner_client: Client, deposit: Any, target: Any
) -> None:
    Identifier.objects.create(target=target, scheme="doi", value="10.5072/zenodo.42")
    response = owner_client.get(reverse("deposit-datacite", args=[deposit.pk, "xml"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    xml = etree.fromstring(response.content)
    identifier = xml.find("d:identifier", NS)
    assert identifier.text == "10.5072/zenodo.42"
    assert identifier.get("identifierType") == "DOI"
    assert xml.find("d:publisher", NS).text == "Zenodo"
    assert xml.find("d:resourceType", NS).get("resourceTypeGeneral") == "Dataset"


def test_an_incomplete_description_says_what_to_fill_in(owner_client: Client, team: Any) -> None:
    deposit = DepositFactory(team=team, metadata=record(version="1"))
    response = owner_client.get(reverse("deposit-datacite", args=[deposit.pk, "json"]))
    assert response.status_code == 422
    text = response.content.decode()
    assert "Give the deposit a title." in text
    assert "Add at least one creator with a name." in text
    assert "Choose a resource type." in text
    assert reverse("deposit", args=[deposit.pk]) in text


def test_other_teams_and_other_formats_get_nothing(
    stranger_client: Client, owner_client: Client, deposit: Any
) -> None:
    url = reverse("deposit-datacite", args=[deposit.pk, "json"])
    assert stranger_client.get(url).status_code == 404
    assert (
        owner_client.get(reverse("deposit-datacite", args=[deposit.pk, "csv"])).status_code == 404
    )
    assert owner_client.post(url).status_code == 405
