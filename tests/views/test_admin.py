"""The admin: every model registered, tokens write-only, the audit trail read-only."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from deposits import models
from deposits.models import Event
from tests.factories import TargetFactory, UserFactory, add_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(db: Any) -> Client:
    user: Any = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def test_every_model_is_registered() -> None:
    for name in models.__all__:
        model = getattr(models, name)
        if isinstance(model, type) and hasattr(model, "_meta") and not model._meta.abstract:
            assert admin.site.is_registered(model), name


def test_every_list_and_form_renders(
    admin_client_: Client, deposit: Any, target: Any, owner: Any
) -> None:
    add_file(deposit, "data.csv", b"a")
    from deposits import lifecycle

    lifecycle.record_event(target, "note", user=owner, message="hello")
    for model in (
        models.Team,
        models.Membership,
        models.LinkedAccount,
        models.Deposit,
        models.DepositFile,
        models.Target,
        models.RemoteFile,
        models.Identifier,
        models.Event,
        models.ApiCall,
    ):
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert admin_client_.get(changelist).status_code == 200, model
    for obj in (deposit, target, target.account):
        opts = obj._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        assert admin_client_.get(url).status_code == 200, obj


def test_release_sources_and_subscriptions_are_listed_without_their_secrets(
    admin_client_: Client, deposit: Any
) -> None:
    from tests.factories import ReleaseSourceFactory, SubscriptionFactory

    source = ReleaseSourceFactory(deposit=deposit, secret="source-secret-xyz")
    source.set_token("ghp_forgetoken_abc")
    source.save()
    Release = models.Release
    release = Release.objects.create(source=source, release_id="9", tag="v9", found_by="webhook")
    models.Delivery.objects.create(source=source, outcome="ping", http_status=200)
    subscription = SubscriptionFactory(
        team=deposit.team, secret="whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="
    )
    for obj in (source, release, subscription):
        opts = obj._meta
        for url in (
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
        ):
            page = admin_client_.get(url)
            body = page.content.decode()
            assert page.status_code == 200, url
            for secret in (
                "source-secret-xyz",
                "ghp_forgetoken_abc",
                "c2VjcmV0LXNlY3JldC1zZWNyZXQ",
            ):
                assert secret not in body, (url, secret)
            assert source.secret_encrypted not in body
    for name in ("delivery", "outbounddelivery"):
        assert admin_client_.get(reverse(f"admin:deposits_{name}_changelist")).status_code == 200


def test_it_never_shows_a_token_and_takes_a_new_one_write_only(
    admin_client_: Client, zenodo_account: Any
) -> None:
    secret = zenodo_account.token
    url = reverse("admin:deposits_linkedaccount_change", args=[zenodo_account.pk])
    for page in (
        admin_client_.get(url),
        admin_client_.get(reverse("admin:deposits_linkedaccount_changelist")),
    ):
        body = page.content.decode()
        assert secret not in body
        assert zenodo_account.token_encrypted not in body
    assert zenodo_account.token_hint in admin_client_.get(url).content.decode()

    admin_client_.post(
        url,
        {
            "team": zenodo_account.team_id,
            "kind": "zenodo",
            "label": "Renamed",
            "base_url": zenodo_account.base_url,
            "new_token": "brand-new-token-0001",
            "rate_windows": "[]",
            "settings": "{}",
        },
    )
    zenodo_account.refresh_from_db()
    assert zenodo_account.label == "Renamed"
    assert zenodo_account.token == "brand-new-token-0001"


def test_it_keeps_the_token_when_the_admin_leaves_it_empty(
    admin_client_: Client, zenodo_account: Any
) -> None:
    before = zenodo_account.token
    admin_client_.post(
        reverse("admin:deposits_linkedaccount_change", args=[zenodo_account.pk]),
        {
            "team": zenodo_account.team_id,
            "kind": "zenodo",
            "label": "Same",
            "base_url": zenodo_account.base_url,
            "new_token": "",
            "rate_windows": "[]",
            "settings": "{}",
        },
    )
    zenodo_account.refresh_from_db()
    assert zenodo_account.label == "Same"
    assert zenodo_account.token == before


def test_the_audit_trail_is_read_only(admin_client_: Client, target: Any) -> None:
    event = Event.objects.create(team=target.deposit.team, target=target, kind="note")
    url = reverse("admin:deposits_event_change", args=[event.pk])
    admin_client_.post(url, {"kind": "tampered"})
    event.refresh_from_db()
    assert event.kind == "note"
    assert admin_client_.get(reverse("admin:deposits_event_add")).status_code == 403


def test_it_filters_targets_by_state(admin_client_: Client, deposit: Any) -> None:
    waiting: Any = TargetFactory(deposit=deposit, state="awaiting_review")
    response = admin_client_.get(
        reverse("admin:deposits_target_changelist"), {"state__exact": "awaiting_review"}
    )
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert list(response.context["cl"].result_list) == [waiting]
