"""A body larger than its route allows is refused by its declared length, before the
CSRF check or a view reads it; upload routes take files up to UPLOAD_MAX_BYTES."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse


def test_an_oversize_form_post_is_refused_before_anything_reads_it(
    client: Client, deposit: Any, settings: Any
) -> None:
    url = reverse("deposit-metadata", args=[deposit.pk])
    big = str(568 * 10**6)
    refused = client.generic("POST", url, b"title=x", CONTENT_LENGTH=big)
    assert refused.status_code == 413
    assert "568.0 MB, more than the 10.5 MB this page accepts" in refused.content.decode()
    as_json = client.generic(
        "POST", url, b"x", CONTENT_LENGTH=big, HTTP_ACCEPT="application/json"
    ).json()
    assert "nothing was read or saved" in as_json["error"]
    # a body of the usual size goes on to the login and CSRF checks as before
    assert client.post(url, {"title": "x"}).status_code == 302
    # the upload routes are their views' to refuse (by the same declared length)
    upload = reverse("file-upload", args=[deposit.pk])
    settings.UPLOAD_MAX_BYTES = 10**9
    assert client.generic("POST", upload, b"", CONTENT_LENGTH=big).status_code != 413


def test_a_length_that_is_not_a_number_or_missing_is_refused(client: Client) -> None:
    url = reverse("login")
    assert client.generic("POST", url, b"x", CONTENT_LENGTH="lots").status_code == 400
    chunked = client.generic("POST", url, b"", CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked")
    assert chunked.status_code == 411
