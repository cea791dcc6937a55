"""Version discovery, API keys and the three shapes of 401 (notes-datameta.md §1-§6)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from sandbox.datameta.models import ApiKey, User
from sandbox.datameta.seed import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.sandbox.datameta_fixtures import *  # noqa: F403
from tests.sandbox.datameta_fixtures import DATAMETA_API, DataMetaClient

pytestmark = pytest.mark.urls("sandbox.datameta.root_urls")

INVALID_SECURITY = [
    {"exception": "InvalidSecurity", "message": "Security not valid for any requirement"}
]


def test_api_redirects_to_the_current_version(datameta_anonymous: Client) -> None:
    response = datameta_anonymous.get("/api")

    assert response.status_code == 302
    assert response["Location"] == "http://testserver/api/v1"
    assert response["Content-Type"] == "text/html; charset=UTF-8"
    assert b"The resource was found at /api/v1;" in response.content


def test_api_root_is_a_swagger_page_and_the_spec_is_served(datameta_anonymous: Client) -> None:
    assert datameta_anonymous.get(DATAMETA_API)["Content-Type"].startswith("text/html")
    spec = datameta_anonymous.get("/openapi.yaml")
    assert spec.status_code == 200
    assert b"title: DataMeta" in spec.content


def test_it_rejects_a_missing_authorization_header_with_a_list(datameta_anonymous: Client) -> None:
    response = datameta_anonymous.get(f"{DATAMETA_API}/rpc/whoami")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == INVALID_SECURITY
    assert len(response.content) == 84  # compact, as exchange #3


def test_it_answers_an_invalid_key_with_html_by_default(datameta_anonymous: Client) -> None:
    response = datameta_anonymous.get(
        f"{DATAMETA_API}/rpc/whoami", HTTP_AUTHORIZATION="Bearer this-is-not-a-valid-key"
    )

    assert response.status_code == 401
    assert response["Content-Type"] == "text/html; charset=UTF-8"
    assert len(response.content) == 357  # exchange #4, byte for byte


def test_it_answers_an_invalid_key_with_a_json_object_when_asked(
    datameta_anonymous: Client,
) -> None:
    response = datameta_anonymous.get(
        f"{DATAMETA_API}/rpc/whoami",
        HTTP_AUTHORIZATION="Bearer this-is-not-a-valid-key",
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "401 Unauthorized"
    assert body["title"] == "Unauthorized"
    assert len(response.content) == 309  # exchange #5


def test_the_bearer_scheme_is_case_sensitive(datameta_admin: DataMetaClient) -> None:
    token = datameta_admin.defaults["HTTP_AUTHORIZATION"].split(" ")[1]
    response = Client().get(f"{DATAMETA_API}/rpc/whoami", HTTP_AUTHORIZATION=f"bearer {token}")

    assert response.status_code == 401
    assert response["Content-Type"] == "text/html; charset=UTF-8"


def test_server_info_needs_a_key_in_practice(
    datameta_anonymous: Client, datameta_admin: DataMetaClient
) -> None:
    response = datameta_anonymous.get(f"{DATAMETA_API}/server")
    assert response.status_code == 500
    assert response.json() == [
        {"exception": "ResponseNotFound", "message": "Unknown response http status: 401"}
    ]

    info = datameta_admin.api_get("/server")
    assert info.json() == {"apiVersion": "1.5.0", "datametaVersion": "1.1.1"}
    assert info["Server"] == "waitress"


def test_whoami_shows_identity_roles_and_group(
    datameta_admin: DataMetaClient, datameta_submitter: DataMetaClient
) -> None:
    admin = datameta_admin.api_get("/rpc/whoami").json()
    assert admin["email"] == ADMIN_EMAIL
    assert (admin["groupAdmin"], admin["siteAdmin"], admin["siteRead"]) == (True, True, True)
    assert admin["group"]["name"] == "Reference Lab"
    assert admin["id"]["site"].startswith("DMU-")
    assert admin["group"]["id"]["site"].startswith("DMG-")

    other = datameta_submitter.api_get("/rpc/whoami").json()
    assert (other["groupAdmin"], other["siteAdmin"], other["siteRead"]) == (False, False, False)
    assert other["group"]["name"] == "Other Lab"


def test_it_issues_a_key_for_email_and_password(datameta_anonymous: Client) -> None:
    response = datameta_anonymous.post(
        f"{DATAMETA_API}/keys",
        {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "label": "contract-test"},
        content_type="application/json",
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "userId", "token", "label", "expires"}
    assert set(body["id"]) == {"uuid"}  # API-key ids have no site id (notes §10)
    assert len(body["token"]) == 64 and body["token"].isalnum()
    assert "+" not in body["expires"]  # naive local time
    assert "datameta" in response.cookies
    whoami = Client().get(
        f"{DATAMETA_API}/rpc/whoami", HTTP_AUTHORIZATION=f"Bearer {body['token']}"
    )
    assert whoami.status_code == 200
    # The session cookie alone authenticates too.
    assert datameta_anonymous.get(f"{DATAMETA_API}/rpc/whoami").status_code == 200


def test_it_rejects_a_wrong_password_with_html(datameta_anonymous: Client) -> None:
    response = datameta_anonymous.post(
        f"{DATAMETA_API}/keys",
        {"email": ADMIN_EMAIL, "password": "Wrong!Passw0rd", "label": "x"},
        content_type="application/json",
    )

    assert response.status_code == 401
    assert response["Content-Type"] == "text/html; charset=UTF-8"


def test_a_key_needs_a_label(datameta_anonymous: Client) -> None:
    response = datameta_anonymous.post(
        f"{DATAMETA_API}/keys",
        {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == [
        {
            "exception": "ValidationError",
            "message": "'label' is a required property",
            "field": "label",
        }
    ]


def test_a_key_lives_at_most_thirty_days(datameta_anonymous: Client) -> None:
    too_late = (timezone.localtime() + timedelta(days=31)).replace(tzinfo=None).isoformat()
    response = datameta_anonymous.post(
        f"{DATAMETA_API}/keys",
        {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "label": "x", "expires": too_late},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == [
        {
            "exception": "ValidationError",
            "field": "expires",
            "message": "The defined expiration date exceeded the max allowed expiration "
            "period, which is 30 days.",
        }
    ]


def test_it_handles_expired_keys(datameta_admin: DataMetaClient) -> None:
    ApiKey.objects.update(expires=timezone.now() - timedelta(seconds=1))

    response = datameta_admin.api_get("/rpc/whoami", HTTP_ACCEPT="application/json")

    assert response.status_code == 401
    assert response.json()["code"] == "401 Unauthorized"


def test_sandbox_tokens_expire_within_thirty_days(db: None, datameta_storage: object) -> None:
    from sandbox.datameta.tokens import issue_token

    issue_token("alice", days=365)

    key = ApiKey.objects.get(user__name="alice")
    assert key.expires is not None
    assert key.expires <= timezone.now() + timedelta(days=30)


def test_five_failed_logins_disable_the_user_and_their_keys(datameta_admin: DataMetaClient) -> None:
    for _ in range(5):
        Client().post(
            f"{DATAMETA_API}/keys",
            {"email": ADMIN_EMAIL, "password": "nope", "label": "x"},
            content_type="application/json",
        )

    assert not User.objects.get(email=ADMIN_EMAIL).enabled
    assert datameta_admin.api_get("/rpc/whoami").status_code == 401


def test_it_lists_a_users_keys_without_tokens(datameta_admin: DataMetaClient) -> None:
    me = datameta_admin.api_get("/rpc/whoami").json()

    keys = datameta_admin.api_get(f"/users/{me['id']['uuid']}/keys").json()

    assert [set(k) for k in keys] == [{"id", "label", "expires", "hasExpired"}]
    assert keys[0]["hasExpired"] is False


def test_sandbox_token_command_prints_a_working_key(db: None, datameta_storage: object) -> None:
    out = io.StringIO()

    call_command("sandbox_token", "datameta", "--user", "carol", stdout=out)

    whoami = DataMetaClient(out.getvalue().strip()).api_get("/rpc/whoami")
    assert whoami.status_code == 200
    assert whoami.json()["name"] == "carol"


def test_control_issues_and_expires_keys(datameta_anonymous: Client) -> None:
    from tests.sandbox.datameta_fixtures import datameta_control

    token = datameta_control(datameta_anonymous, action="issue_token", user="bob")["token"]
    client = DataMetaClient(token)
    assert client.api_get("/rpc/whoami").json()["siteRead"] is True

    assert datameta_control(datameta_anonymous, action="expire_keys", user="bob")["expired"] == 1
    assert client.api_get("/rpc/whoami").status_code == 401
