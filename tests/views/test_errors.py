"""People see the portal's own error pages (DEBUG is off unless asked for)."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


def test_a_missing_page_is_the_portals_404(owner_client: Client) -> None:
    response = owner_client.get("/no/such/page/")
    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()


def test_a_server_error_is_the_portals_500_page() -> None:
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    text = response.content.decode()
    assert "Something went wrong on our side" in text
    assert "Traceback" not in text
