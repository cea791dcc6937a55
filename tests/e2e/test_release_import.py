"""End to end: a signed release from the forge stand-in becomes exactly one new version,
with a new DOI, on the Zenodo sandbox, through the real web server (the webhook endpoint)
and real Celery workers.

The forge is ``sandbox/forge`` (GitHub's paths): it serves the releases API and the
archive (``zipball`` -> 302 -> ``codeload``) and sends GitHub's three signed deliveries for
one published release ("created", "published", "released"), each of which the endpoint
must take at most once.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import requests
from django.urls import reverse

from deposits.metadata import to_view
from deposits.models import DepositFile, Identifier, Release, ReleaseStatus, State, Target
from tests.e2e.zenodo_helpers import (
    control,
    counters,
    deposit_with_files,
    publish,
    remote_deposition,
    sandbox_account,
    wait_for_state,
)
from tests.factories import ReleaseSourceFactory
from tests.livesystem import LiveSystem, wait_until

pytestmark = [pytest.mark.e2e]

SECRET = "e2e-webhook-secret"
CFF = """\
cff-version: 1.2.0
message: If you use it, cite it.
title: Soil moisture tools
authors:
  - family-names: Lovelace
    given-names: Ada
    orcid: https://orcid.org/0000-0002-1825-0097
license: MIT
"""


def forge(system: LiveSystem, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    reply = requests.post(
        f"{system.sandbox_urls['forge']}/_control/{path}", json=payload, timeout=30
    )
    assert reply.status_code < 300, reply.text
    return dict(reply.json())


def _released(release: Release) -> bool:
    release.refresh_from_db()
    return release.status in (ReleaseStatus.PUBLISHED, ReleaseStatus.FAILED)


def published_and_linked(system: LiveSystem, team: Any, member: Any) -> tuple[Target, Any, str]:
    """A deposit published once (v1.0) through the real workers, linked to a repository
    on the forge whose hook is the portal's endpoint: (target, source, token)."""
    forge_url = system.sandbox_urls["forge"]
    wait_until(lambda: system._answers(f"{forge_url}/_control/"), 60, "the forge sandbox")
    forge(system, "reset", {})
    control(system, {"wipe": True})
    account, token = sandbox_account(system, team)
    target = deposit_with_files(team, account, {"data.csv": b"site,moisture\n"})
    deposit = target.deposit
    deposit.created_by = member
    deposit.metadata = {**deposit.metadata, "version": "v1.0"}
    deposit.save()
    system.start_worker()
    system.start_beat()  # the reconciler, the release sweep and listing, as in production
    publish(target, member)
    wait_for_state(target, {State.PUBLISHED, State.FAILED})
    assert target.state == State.PUBLISHED, target.last_error

    source = ReleaseSourceFactory(
        deposit=deposit, repository="lab/soil-tools", api_url=forge_url, secret=SECRET
    )
    endpoint = system.url + reverse("release-hook", args=[source.key])
    forge(
        system,
        "repos",
        {"forge": "github", "path": "lab/soil-tools", "files": {"README.md": "Soil tools\n"}},
    )
    forge(system, "hooks", {"forge": "github", "path": "lab/soil-tools", "url": endpoint,
                            "secret": SECRET})  # fmt: skip
    return target, source, token


def test_a_signed_release_becomes_exactly_one_new_version_with_a_new_doi(live_system, team, member):
    system = live_system
    forge_url = system.sandbox_urls["forge"]
    target, source, token = published_and_linked(system, team, member)
    deposit = target.deposit
    v1 = remote_deposition(system, token, target.remote_id)

    published = forge(
        system,
        "releases",
        {"forge": "github", "path": "lab/soil-tools", "tag": "v2.0", "deliver": True,
         "files": {"CITATION.cff": CFF}},
    )  # fmt: skip
    assert [d["action"] for d in published["deliveries"]] == ["created", "published", "released"]
    assert all(d["status"] in (200, 202) for d in published["deliveries"]), published

    release = Release.objects.get(source=source)
    wait_until(lambda: _released(release), 180, f"the release to be published ({release.message})")
    assert release.status == ReleaseStatus.PUBLISHED, (release.message, release.problems)

    target.refresh_from_db()
    v2 = remote_deposition(system, token, target.remote_id)
    assert v2["submitted"] is True and v2["doi"] != v1["doi"]
    assert v2["conceptdoi"] == v1["conceptdoi"]
    assert v2["metadata"]["version"] == "v2.0"
    assert v2["metadata"]["title"] == "Soil moisture tools"
    assert release.message == f"Published as DOI {v2['doi']}"
    archive = DepositFile.objects.get(deposit=deposit)
    assert archive.name == "soil-tools-v2.0.zip"
    assert [(f["filename"], f["checksum"]) for f in v2["files"]] == [(archive.name, archive.md5)]
    assert hashlib.sha256(archive.blob.read()).hexdigest() == release.archive_sha256
    assert to_view(deposit.__class__.objects.get(pk=deposit.pk).metadata)["version"] == "v2.0"

    # Exactly one new version: one release, two publications in all, two version DOIs.
    assert Release.objects.filter(source=source).count() == 1
    assert counters(system)["published"] == 2
    assert Identifier.objects.filter(target=target, scope="version").count() == 2

    # A redelivery changes nothing.
    deliveries = requests.get(f"{forge_url}/_control/deliveries", timeout=10).json()
    first = next(d for d in deliveries["deliveries"] if d.get("action") == "published")
    forge(system, "redeliver", {"delivery": first["id"]})
    assert Release.objects.filter(source=source).count() == 1
    assert Target.objects.get(pk=target.pk).state == State.PUBLISHED
    assert counters(system)["published"] == 2


def test_a_release_whose_webhook_never_came_is_found_by_the_listing_and_published(
    live_system: LiveSystem, team: Any, member: Any
) -> None:
    system = live_system
    system.env["RELEASE_LISTING_EVERY_SECONDS"] = "3"  # beat lists every 3 s
    target, source, token = published_and_linked(system, team, member)
    v1 = remote_deposition(system, token, target.remote_id)
    # the first listing: what the repository had at linking is known, not imported
    wait_until(lambda: _refreshed(source).baseline_at, 60, "the first listing")

    lost = forge(
        system,
        "releases",
        {"forge": "github", "path": "lab/soil-tools", "tag": "v2.0", "deliver": False,
         "files": {"CITATION.cff": CFF}},
    )  # fmt: skip
    assert lost["deliveries"] == []  # a webhook lost on the way: nothing reached the portal

    release = wait_until(
        lambda: Release.objects.filter(source=source, tag="v2.0").first(), 60, "the listing"
    )
    assert release.found_by == "listing"
    wait_until(lambda: _released(release), 180, f"the release to be published ({release.message})")
    assert release.status == ReleaseStatus.PUBLISHED, (release.message, release.problems)
    target.refresh_from_db()
    v2 = remote_deposition(system, token, target.remote_id)
    assert v2["submitted"] is True and v2["doi"] != v1["doi"]
    assert v2["metadata"]["version"] == "v2.0"
    assert not source.deliveries.filter(outcome="accepted").exists()
    assert Release.objects.filter(source=source).count() == 1


def _refreshed(source: Any) -> Any:
    source.refresh_from_db()
    return source
