"""The demo's example deposit: a draft dataset with a full description (creators with
ORCID iDs and ROR ids, funding, a related paper, dates, a place) and a small data file,
aimed at the demo's Zenodo account, so a first visitor can press Publish at once."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from deposits import lifecycle
from deposits.metadata import to_record
from deposits.models import Deposit, LinkedAccount, Team
from deposits.uploads import store_uploaded

TITLE = "Soil moisture at the Lindenberg site, 2024"
# As the editor shows it; stored as the DataCite record ``to_record`` makes of it.
VIEW: dict[str, Any] = {
    "title": TITLE,
    "resource_type": "dataset",
    "publication_date": "2025-01-15",
    "creators": [
        {
            "name": "Lovelace, Ada",
            "affiliation": "University of Hamburg",
            "ror": "https://ror.org/00g30e956",
            "orcid": "0000-0002-1825-0097",
        },
        {"name": "Hopper, Grace", "affiliation": "Demo Lab"},
    ],
    "contributors": [{"name": "Curie, Marie", "type": "DataCurator"}],
    "description": "<p>Hourly soil moisture from <b>12</b> TDR probes at 10, 30 and 60 cm.</p>",
    "method": "Time-domain reflectometry, calibrated against gravimetric samples.",
    "access_right": "open",
    "license": "cc-by-4.0",
    "keywords": ["soil moisture", "hydrology", "TDR"],
    "related_identifiers": [
        {
            "identifier": "10.5194/hess-19-4135-2015",
            "relation": "IsSupplementTo",
            "resource_type": "publication-article",
            "scheme": "doi",
        }
    ],
    "funding": [{"funder_doi": "10.13039/501100001659", "award_number": "SFB-1537"}],
    "dates": [{"start": "2024-01-01", "end": "2024-12-31", "type": "Collected"}],
    "locations": [{"place": "Lindenberg, Germany", "lat": 52.21, "lon": 14.12}],
    "version": "1.0",
    "language": "eng",
}
DATA = b"time,depth_cm,moisture\n2024-01-01T00:00,10,0.231\n2024-01-01T01:00,10,0.229\n"


def seed_deposit(team: Team, user: Any, zenodo: LinkedAccount | None) -> Deposit:
    """The example deposit, made once: an existing one (edited or not) is left alone."""
    existing = Deposit.objects.filter(team=team, title=TITLE).first()
    if existing is not None:
        return existing
    deposit = Deposit.objects.create(team=team, created_by=user, metadata=to_record(VIEW))
    lifecycle.record_event(deposit, "created", user=user, message="Created by the demo seed")
    store_uploaded(
        deposit,
        SimpleUploadedFile("soil-moisture-2024.csv", DATA, content_type="text/csv"),
        replace=True,
        user=user,
    )
    if zenodo is not None:
        lifecycle.add_target(deposit, zenodo, user=user)
    lifecycle.revalidate(deposit)
    return deposit
