"""What a working target's card says about its progress: counts and bytes only while
files move, never more files than there are."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from deposits.models import Target

STEPS = ["create", "upload", "describe", "publish", "confirm"]


def card(client: Client, target: Any, step: int, progress: dict[str, int]) -> str:
    Target.objects.filter(pk=target.pk).update(
        state="working", steps=STEPS, step_index=step, progress=progress
    )
    return client.get(reverse("target-card", args=[target.pk])).content.decode()


def test_the_upload_counts_files_and_bytes_of_all_files(owner_client: Client, target: Any) -> None:
    html = card(
        owner_client,
        target,
        1,
        {"files_done": 1, "files_total": 2, "bytes_done": 1000, "bytes_total": 3000,
         "bytes_sent": 500, "file": "b.csv"},
    )  # fmt: skip
    assert "Uploading file 2 of 2" in html and "b.csv" in html
    assert "1.5 KB of 3.0 KB · file 2 of 2" in html
    assert 'max="3000" value="1500"' in html


def test_the_last_file_done_never_reads_one_more_than_there_are(
    owner_client: Client, target: Any
) -> None:
    html = card(owner_client, target, 1, {"files_done": 1, "files_total": 1, "bytes_total": 89})
    assert "file 2 of 1" not in html and "Uploading file 1 of 1" in html


def test_later_steps_show_their_label_and_no_bytes(owner_client: Client, target: Any) -> None:
    html = card(owner_client, target, 3, {"files_done": 1, "files_total": 1, "bytes_total": 89})
    assert "Publishing" in html
    assert "of 89 bytes" not in html and "file 2 of 1" not in html and "<progress max" not in html
