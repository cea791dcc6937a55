"""The webhook subscription pages: every member sees the list and the delivery log; only
an admin adds, changes, tests, re-enables, rotates or deletes (403 for a member); another
team's subscription is a 404. A refused URL is said next to its field; a secret is shown
once, on the page that made it, and never again."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deposits.models import DeliveryStatus, Event, OutboundDelivery, Subscription
from deposits.outbound.events import queue
from tests.factories import SubscriptionFactory
from tests.views.conftest import signed_in

pytestmark = pytest.mark.django_db

EVENTS = ["deposit.published", "deposit.failed"]


def new(client: Client, team: Any, **data: Any) -> Any:
    form = {"url": "https://hooks.example.org/portal", "description": "CRIS", "events": EVENTS}
    return client.post(reverse("subscription-new", args=[team.pk]), {**form, **data})


def field_errors(response: Any, name: str) -> list[str]:
    return [str(e) for e in response.context["form"].errors.get(name, [])]


def test_an_admin_adds_one_and_sees_its_secret_once(owner_client: Client, team: Any) -> None:
    response = new(owner_client, team)
    assert response.status_code == 200
    sub = Subscription.objects.get(team=team)
    secret = response.context["secret"]
    assert secret.startswith("whsec_") and secret == sub.secret
    assert secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert sub.events == EVENTS and sub.description == "CRIS" and sub.enabled
    for page in (
        owner_client.get(reverse("subscription", args=[sub.pk])),
        owner_client.get(reverse("subscriptions", args=[team.pk])),
    ):
        assert page.status_code == 200 and secret not in page.content.decode()
    assert secret not in str(list(Event.objects.values_list("message", "data")))


def test_rotating_shows_the_new_secret_once(owner_client: Client, team: Any) -> None:
    sub = SubscriptionFactory(team=team)
    old = sub.secret
    response = owner_client.post(reverse("subscription-secret", args=[sub.pk]))
    sub.refresh_from_db()
    assert sub.secret != old and sub.secret in response.content.decode()
    page = owner_client.get(reverse("subscription", args=[sub.pk])).content.decode()
    assert sub.secret not in page and old not in page


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"url": "http://hooks.example.org/x"}, "url", "Use an https:// URL"),
        ({"url": "https://10.0.0.1/x"}, "url", "private or local address"),
        ({"url": "https://u:p@hooks.example.org/x"}, "url", "Leave out the user name"),
        ({"url": "not a url"}, "url", "Enter a full URL"),
        ({"events": []}, "events", "Choose at least one event"),
    ],
)
def test_a_refused_value_is_said_next_to_its_field(
    owner_client: Client, team: Any, data: Any, field: str, words: str
) -> None:
    response = new(owner_client, team, **data)
    assert response.status_code == 200
    assert any(words in e for e in field_errors(response, field)), response.context["form"].errors
    assert words in response.content.decode().replace("&#x27;", "'")
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Subscription.objects.exists()


def test_the_allowlist_is_said_next_to_the_url(
    owner_client: Client, team: Any, settings: Any
) -> None:
    settings.SUBSCRIPTION_ALLOWED_HOSTS = ["*.partner.org"]
    response = new(owner_client, team)
    assert "not on this portal's list of webhook hosts" in field_errors(response, "url")[0]


def test_an_admin_changes_it(owner_client: Client, team: Any) -> None:
    sub = SubscriptionFactory(team=team)
    data = {
        "url": "https://other.example.org/x",
        "description": "New",
        "events": ["deposit.failed"],
    }
    response = owner_client.post(reverse("subscription", args=[sub.pk]), data)
    assert response.status_code == 302
    sub.refresh_from_db()
    assert (sub.url, sub.description, sub.events) == (data["url"], "New", ["deposit.failed"])
    refused = owner_client.post(
        reverse("subscription", args=[sub.pk]), {**data, "url": "https://127.0.0.1/"}
    )
    assert "private or local address" in field_errors(refused, "url")[0]


def test_a_member_sees_but_changes_nothing(member_client: Client, team: Any) -> None:
    sub = SubscriptionFactory(team=team, enabled=False, disabled_reason="Switched off after 20")
    (delivery,) = queue([sub], "deposit.published", {"type": "deposit.published"})
    listing = member_client.get(reverse("subscriptions", args=[team.pk]))
    assert listing.status_code == 200 and sub.url in listing.content.decode()
    assert "Switched off after 20" in listing.content.decode()
    page = member_client.get(reverse("subscription", args=[sub.pk]))
    assert page.status_code == 200 and delivery.message_id in page.content.decode()
    assert b'id="reenable"' not in page.content and b'id="rotate-secret"' not in page.content
    refused = [
        member_client.get(reverse("subscription-new", args=[team.pk])),
        new(member_client, team),
        member_client.post(
            reverse("subscription", args=[sub.pk]),
            {"url": "https://x.example.org/", "events": EVENTS},
        ),
        member_client.post(reverse("subscription-enable", args=[sub.pk])),
        member_client.post(reverse("subscription-secret", args=[sub.pk])),
        member_client.post(reverse("subscription-test", args=[sub.pk])),
        member_client.get(reverse("subscription-delete", args=[sub.pk])),
        member_client.post(reverse("subscription-delete", args=[sub.pk]), {"confirmed": "1"}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert Subscription.objects.filter(team=team).count() == 1
    sub_after = Subscription.objects.get(pk=sub.pk)
    assert not sub_after.enabled and sub_after.secret == sub.secret
    assert OutboundDelivery.objects.get().status == DeliveryStatus.HELD


def test_another_teams_subscription_is_not_found(stranger_client: Client, team: Any) -> None:
    sub = SubscriptionFactory(team=team)
    answers = [
        stranger_client.get(reverse("subscriptions", args=[team.pk])),
        stranger_client.get(reverse("subscription-new", args=[team.pk])),
        stranger_client.get(reverse("subscription", args=[sub.pk])),
        stranger_client.post(reverse("subscription-enable", args=[sub.pk])),
        stranger_client.post(reverse("subscription-secret", args=[sub.pk])),
        stranger_client.post(reverse("subscription-test", args=[sub.pk])),
        stranger_client.post(reverse("subscription-delete", args=[sub.pk]), {"confirmed": "1"}),
    ]
    assert [r.status_code for r in answers] == [404] * len(answers)
    assert Subscription.objects.filter(pk=sub.pk).exists()


def test_test_enable_and_delete(owner_client: Client, owner: Any, team: Any) -> None:
    sub = SubscriptionFactory(team=team)
    owner_client.post(reverse("subscription-test", args=[sub.pk]))
    (test,) = OutboundDelivery.objects.filter(subscription=sub)
    assert test.event == "subscription.test" and test.status == DeliveryStatus.PENDING
    assert test.payload["data"]["subscription"]["id"] == sub.pk
    Subscription.objects.filter(pk=sub.pk).update(enabled=False, disabled_reason="Too many")
    OutboundDelivery.objects.update(status=DeliveryStatus.HELD)
    off = owner_client.post(reverse("subscription-test", args=[sub.pk]), follow=True)
    assert "re-enable it first" in off.content.decode()
    owner_client.post(reverse("subscription-enable", args=[sub.pk]))
    sub.refresh_from_db()
    assert sub.enabled and OutboundDelivery.objects.get().status == DeliveryStatus.PENDING
    confirm = owner_client.get(reverse("subscription-delete", args=[sub.pk]))
    assert b"This cannot be undone" in confirm.content
    gone = owner_client.post(reverse("subscription-delete", args=[sub.pk]), {"confirmed": "1"})
    assert gone.status_code == 302 and not Subscription.objects.exists()


def test_the_log_refreshes_itself_while_something_waits(owner_client: Client, team: Any) -> None:
    sub = SubscriptionFactory(team=team)
    queue([sub], "deposit.published", {"type": "deposit.published"})
    page = owner_client.get(reverse("subscription", args=[sub.pk]))
    assert b'data-polling="1"' in page.content
    part = owner_client.get(reverse("subscription", args=[sub.pk]), headers={"HX-Request": "true"})
    assert (
        part.content.decode().lstrip().startswith('<section class="panel flush" id="delivery-log"')
    )


def test_a_member_of_several_teams_finds_each_teams_list(team: Any, member: Any) -> None:
    from tests.factories import MembershipFactory, TeamFactory

    other = TeamFactory(name="Lab C", slug="lab-c")
    MembershipFactory(team=other, user=member, role="member")
    page = signed_in(member).get(reverse("subscriptions", args=[team.pk])).content.decode()
    assert reverse("subscriptions", args=[other.pk]) in page
