"""The DataMeta panel: the sample table, sheet import with its per-cell preview, and the
team scoping of every DataMeta page."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import include, path, reverse
from openpyxl import Workbook

from deposits import lifecycle
from deposits.models import Event, LinkedAccount, State, Target
from tests.factories import AccountFactory, DepositFactory, TargetFactory, add_file
from tests.repositories.test_datameta_sheet import SCHEMA

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

urlpatterns = [path("", include("deposits.urls"))]

GOOD = (
    "SampleID,ZIPCode,Date,FileR1\nAB12,149,2021-03-29,AB12_R1.fq\nCD34,150,2021-04-01,CD34_R1.fq\n"
)


@pytest.fixture
def account(team: Any) -> LinkedAccount:
    return AccountFactory(
        team=team,
        kind="datameta",
        label="CoGDat test",
        base_url="http://127.0.0.1:8002",
        schema=SCHEMA,
    )


@pytest.fixture
def target(team: Any, account: LinkedAccount) -> Target:
    deposit = DepositFactory(team=team)
    add_file(deposit, "AB12_R1.fq", b"@r1\nACGT\n")
    add_file(deposit, "CD34_R1.fq", b"@r2\nTTTT\n")
    t = TargetFactory(deposit=deposit, account=account)
    lifecycle.revalidate(deposit)
    t.refresh_from_db()
    return t


def preview(client: Client, target: Target, name: str, content: bytes) -> Any:
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(reverse("datameta-sheet", args=[target.pk]), {"sheet": upload})


def test_a_new_target_asks_for_samples(member_client: Client, target: Target) -> None:
    assert target.state == State.DRAFT
    response = member_client.get(reverse("datameta-panel", args=[target.pk]))
    assert response.status_code == 200
    assert "Import a sample sheet" in response.text
    assert "Add the samples" in response.text
    # the columns come from the site's definitions, required ones marked
    assert 'data-column="SampleID"' in response.text
    assert "Two uppercase letters followed by two digits" in response.text


def test_the_preview_shows_each_cell_problem_and_saves_nothing(
    member_client: Client, target: Target
) -> None:
    sheet = "SampleID,ZIPCode,Date,FileR1,Notes\nAB12,12a4,29.03.2021,AB12_R1.fq,x\nAB12,150,,missing.fq,y\n"
    response = preview(member_client, target, "samples.csv", sheet.encode())
    assert response.status_code == 200
    text = response.text
    assert "ZIP code: exactly three digits" in text
    assert "format YYYY-MM-DD" in text
    assert "appears in rows 1, 2" in text
    assert "no file named &#x27;missing.fq&#x27;" in text
    assert "missing.fq" in text and "CD34_R1.fq" in text  # missing and unreferenced files
    assert "will be left out: Notes" in text
    target.refresh_from_db()
    assert target.options.get("metadatasets") is None


def test_an_xlsx_sheet_is_imported_into_the_table(member_client: Client, target: Target) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    for row in GOOD.strip().split("\n"):
        ws.append(row.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    response = preview(member_client, target, "samples.xlsx", buffer.getvalue())
    assert "Every cell matches" in response.text
    payload = response.context["payload"]
    response = member_client.post(
        reverse("datameta-sheet-import", args=[target.pk]), {"payload": payload, "mode": "replace"}
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert [r["SampleID"] for r in target.options["metadatasets"]] == ["AB12", "CD34"]
    assert target.state == State.READY
    assert Event.objects.filter(target=target, kind="options").exists()


def test_a_tampered_preview_is_refused(member_client: Client, target: Target) -> None:
    response = member_client.post(
        reverse("datameta-sheet-import", args=[target.pk]), {"payload": "forged", "mode": "replace"}
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert not target.options.get("metadatasets")


def test_an_unreadable_sheet_says_why(member_client: Client, target: Target) -> None:
    response = preview(member_client, target, "samples.csv", b"Colour\nred\n")
    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]  # type: ignore[attr-defined]
    assert "No column of the sheet names a field" in messages[0]


def test_fixing_a_cell_in_the_table_clears_its_problem(
    member_client: Client, target: Target, htmx: dict[str, str]
) -> None:
    columns = ["SampleID", "ZIPCode", "Date", "Lane", "FileR1"]
    data: dict[str, Any] = {"columns": columns, "rows": "2"}
    for i, sample in enumerate(["AB12", "CD34"]):
        data.update({f"cell-{i}-SampleID": sample, f"cell-{i}-FileR1": f"{sample}_R1.fq"})
        data[f"cell-{i}-ZIPCode"] = "12a4" if i == 0 else "150"
    url = reverse("datameta-rows", args=[target.pk])
    response = member_client.post(url, data, headers=htmx)
    assert response.status_code == 200
    assert 'data-cell="0-ZIPCode" class="has-problem"' in response.text
    target.refresh_from_db()
    assert target.state == State.DRAFT
    data["cell-0-ZIPCode"] = "149"
    response = member_client.post(url, data, headers=htmx)
    assert "has-problem" not in response.text.split("<tbody>")[1]
    target.refresh_from_db()
    assert target.state == State.READY


def test_rows_are_added_and_removed(
    member_client: Client, target: Target, htmx: dict[str, str]
) -> None:
    url = reverse("datameta-rows", args=[target.pk])
    base = {
        "columns": ["SampleID"],
        "rows": "2",
        "cell-0-SampleID": "AB12",
        "cell-1-SampleID": "CD34",
    }
    response = member_client.post(url, {**base, "op": "add"}, headers=htmx)
    assert 'name="cell-2-SampleID"' in response.text
    member_client.post(url, {**base, "op": "remove:0"}, headers=htmx)
    target.refresh_from_db()
    assert target.options["metadatasets"] == [{"SampleID": "CD34"}]


def test_the_table_cannot_change_while_a_worker_is_on_it(
    member_client: Client, target: Target, htmx: dict[str, str]
) -> None:
    Target.objects.filter(pk=target.pk).update(state=State.WORKING)
    url = reverse("datameta-rows", args=[target.pk])
    member_client.post(
        url, {"columns": ["SampleID"], "rows": "1", "cell-0-SampleID": "AB12"}, headers=htmx
    )
    target.refresh_from_db()
    assert not target.options.get("metadatasets")


def test_the_template_lists_the_site_columns(member_client: Client, target: Target) -> None:
    response = member_client.get(reverse("datameta-sheet-template", args=[target.pk]))
    assert response.content.decode().splitlines() == [
        "SampleID,ZIPCode,Date,Lane,FileR1",
        "AB12,149,2021-03-29,L1,AB12_R1.fastq.gz",
    ]


def test_the_submission_and_service_results_are_shown(
    member_client: Client, target: Target
) -> None:
    Target.objects.filter(pk=target.pk).update(
        state=State.PUBLISHED,
        options={"metadatasets": [{"SampleID": "AB12", "ZIPCode": "149", "FileR1": "AB12_R1.fq"}]},
        remote_data={
            "metadatasets": [{"uuid": "u1", "site": "DMR-00000001", "digest": "x"}],
            "submission": {"uuid": "s-uuid", "site": "DMS-51583203"},
            "results": {"0": {"ENA-ID": "ERR000111"}},
        },
    )
    response = member_client.get(reverse("datameta-panel", args=[target.pk]))
    assert '<span data-identifier="datameta-submission">DMS-51583203</span>' in response.text
    assert "DMR-00000001" in response.text
    assert "ERR000111" in response.text


def test_an_expiring_key_is_announced(member_client: Client, target: Target) -> None:
    from datetime import timedelta

    from django.utils import timezone

    LinkedAccount.objects.filter(pk=target.account_id).update(
        expires_at=timezone.now() + timedelta(days=3)
    )
    response = member_client.get(reverse("datameta-panel", args=[target.pk]))
    assert "expires on" in response.text


def test_fields_not_fetched_yet_offer_a_refresh(member_client: Client, target: Target) -> None:
    LinkedAccount.objects.filter(pk=target.account_id).update(schema={})
    response = member_client.get(reverse("datameta-panel", args=[target.pk]))
    assert "have not been fetched yet" in response.text
    assert "Fetch the fields now" in response.text


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("datameta-panel", "get"),
        ("datameta-rows", "post"),
        ("datameta-sheet", "post"),
        ("datameta-sheet-import", "post"),
        ("datameta-sheet-template", "get"),
        ("datameta-fields-refresh", "post"),
    ],
)
def test_another_team_gets_404(
    stranger_client: Client, target: Target, name: str, method: str
) -> None:
    response = getattr(stranger_client, method)(reverse(name, args=[target.pk]))
    assert response.status_code == 404


def test_a_zenodo_target_has_no_sample_table(member_client: Client, team: Any) -> None:
    zenodo = TargetFactory(deposit=DepositFactory(team=team), account=AccountFactory(team=team))
    assert member_client.get(reverse("datameta-panel", args=[zenodo.pk])).status_code == 404


def test_a_file_no_sample_names_is_left_out_with_a_note(
    member_client: Client, target: Target
) -> None:
    add_file(target.deposit, "README.md", b"# Soil samples\n")
    rows = [
        {"SampleID": "AB12", "ZIPCode": "149", "FileR1": "AB12_R1.fq"},
        {"SampleID": "CD34", "ZIPCode": "150", "FileR1": "CD34_R1.fq"},
    ]
    target = lifecycle.set_target_options(target, {"metadatasets": rows}, user=None, message="rows")
    assert target.state == State.READY, target.problems
    response = member_client.get(reverse("datameta-panel", args=[target.pk]))
    assert 'data-left-out="README.md"' in response.text
    assert "Not sent to DataMeta: <strong>README.md</strong>" in response.text
    assert "name it in a sample's FileR1 cell" in response.text


def test_a_published_target_says_which_ids_a_new_submission_must_change(
    member_client: Client, target: Target
) -> None:
    from django.utils import timezone

    rows = [
        {"SampleID": "AB12", "ZIPCode": "149", "FileR1": "AB12_R1.fq"},
        {"SampleID": "GH78", "ZIPCode": "150", "FileR1": "CD34_R1.fq"},
    ]
    Target.objects.filter(pk=target.pk).update(
        state=State.PUBLISHED,
        published_at=timezone.now(),
        remote_id="s-uuid",
        options={"metadatasets": rows},
        remote_data={
            "metadatasets": [{"uuid": "u1", "site": "DMR-00000001", "digest": "x"}],
            "submission": {"uuid": "s-uuid", "site": "DMS-51583203"},
            "submitted_ids": {"SampleID": ["AB12", "CD34"]},
        },
    )
    response = member_client.get(reverse("datameta-panel", args=[target.pk]))
    notice = response.text.split(f'id="datameta-new-ids-{target.pk}">')[1].split("</p>")[0]
    assert "this deposit has submitted AB12 already" in notice
    assert "give these samples new SampleID values" in notice
    assert "GH78" not in notice

    rows[0]["SampleID"] = "KL12"
    Target.objects.filter(pk=target.pk).update(options={"metadatasets": rows})
    response = member_client.get(reverse("datameta-panel", args=[target.pk]))
    assert "datameta-new-ids" not in response.text


def test_a_begun_new_submission_keeps_showing_the_published_one(
    member_client: Client, target: Target
) -> None:
    from django.utils import timezone

    from deposits.lifecycle.drafts import offered_actions

    published = {
        "submission": {"uuid": "s-uuid", "site": "DMS-51583203"},
        "submitted_ids": {"SampleID": ["AB12"]},
    }
    Target.objects.filter(pk=target.pk).update(
        state=State.FAILED,
        published_at=timezone.now(),
        remote_id="s-uuid",
        remote_state="submitted",
        remote_data={
            "previous": [published["submission"]],
            "submitted_ids": published["submitted_ids"],
            "published": published,
            "metadatasets": [{"uuid": "u2", "site": "DMR-00000002", "digest": "y"}],
        },
    )
    target.refresh_from_db()
    assert [(s.action, s.label) for s in offered_actions(target)] == [
        ("discard_version", "Delete staged items")
    ]
    response = member_client.get(reverse("datameta-panel", args=[target.pk]))
    assert '<span data-identifier="datameta-submission">DMS-51583203</span>' in response.text
