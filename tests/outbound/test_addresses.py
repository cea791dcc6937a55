"""Which URLs a subscription may name (https, the allowlist, no credentials, no private
address unless named) and where a delivery connects (the address checked, once)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from deposits.models import DeliveryStatus, WebhookEvent
from deposits.outbound import addresses
from deposits.outbound import delivery as sending
from deposits.outbound.events import emit
from tests.factories import DepositFactory, SubscriptionFactory
from tests.outbound.conftest import SECRET
from tests.outbound.receiver import running


def refused(url: str) -> str:
    with pytest.raises(addresses.UnsafeAddress) as caught:
        addresses.check_url(url)
    return str(caught.value)


def test_https_is_required_unless_the_host_is_named_private(settings: Any) -> None:
    settings.SUBSCRIPTION_PRIVATE_HOSTS = []
    assert "Use an https:// URL" in refused("http://hooks.example.org/x")
    assert "Enter a full URL" in refused("ftp://hooks.example.org/x")
    assert "Enter a full URL" in refused("hooks.example.org/x")
    assert addresses.check_url("https://hooks.example.org/x") == "https://hooks.example.org/x"
    settings.SUBSCRIPTION_PRIVATE_HOSTS = ["hooks.internal:8080"]
    assert addresses.check_url("http://hooks.internal:8080/x")
    assert "Use an https:// URL" in refused("http://hooks.internal:8081/x")


def test_private_and_local_addresses_are_refused(settings: Any) -> None:
    settings.SUBSCRIPTION_PRIVATE_HOSTS = []
    for url in (
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://10.1.2.3/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://0.0.0.0/x",
        "https://[fe80::1]/x",
    ):
        assert "private or local address" in refused(url), url
    assert addresses.is_public("93.184.216.34")
    assert not addresses.is_public("::ffff:10.0.0.1")
    assert not addresses.is_public("224.0.0.1")


def test_the_allowlist_is_kept(settings: Any) -> None:
    settings.SUBSCRIPTION_ALLOWED_HOSTS = ["*.example.org", "hooks.partner.net:8443", "exact.io"]
    assert addresses.check_url("https://a.example.org/x")
    assert addresses.check_url("https://b.a.example.org/x")
    assert addresses.check_url("https://hooks.partner.net:8443/x")
    assert addresses.check_url("https://exact.io/x")
    for url in (
        "https://example.org/x",  # the wildcard names subdomains only
        "https://example.org.evil.com/x",
        "https://evilexample.org/x",
        "https://hooks.partner.net/x",  # another port
        "https://sub.exact.io/x",
    ):
        assert "not on this portal's list of webhook hosts" in refused(url), url


def test_credentials_in_the_url_are_refused() -> None:
    assert "Leave out the user name and password" in refused("https://u:p@hooks.example.org/")


def fake_dns(answers: dict[str, list[str]], calls: list[str]) -> Any:
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if addresses._literal(host):  # an address "resolves" to itself, no lookup
            return real(host, port, *args, **kwargs)
        calls.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]

    return getaddrinfo


@pytest.mark.django_db
def test_a_name_resolving_to_a_private_address_is_not_sent_to(settings, monkeypatch, team):
    settings.SUBSCRIPTION_PRIVATE_HOSTS = []
    calls: list[str] = []
    answers = {"hooks.example.org": ["93.184.216.34", "10.0.0.7"]}
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns(answers, calls))
    sub = SubscriptionFactory(team=team, url="https://hooks.example.org/portal")
    (made,) = emit(WebhookEvent.SUBMITTED, DepositFactory(team=team))
    assert sending.deliver(made.pk) is False
    made.refresh_from_db()
    assert made.status == DeliveryStatus.RETRYING and made.last_status_code is None
    assert "hooks.example.org resolves to 10.0.0.7, a private or local address" in made.last_error
    assert calls == ["hooks.example.org"]
    assert sub.pk


@pytest.mark.django_db
def test_it_connects_to_the_address_it_checked(settings, monkeypatch, team):
    """DNS rebinding: the name is resolved once, checked, and that address is used, with
    the name in the Host header (a second lookup could have answered otherwise)."""
    calls: list[str] = []
    settings.SUBSCRIPTION_PRIVATE_HOSTS = ["receiver.test"]
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns({"receiver.test": ["127.0.0.1"]}, calls))
    with running(SECRET) as receiver:
        url = f"http://receiver.test:{receiver.port}/hooks"
        SubscriptionFactory(team=team, url=url, secret=SECRET)
        (made,) = emit(WebhookEvent.SUBMITTED, DepositFactory(team=team))
        assert sending.deliver(made.pk) is True
    assert calls == ["receiver.test"]
    (got,) = receiver.requests
    assert got.verified and got.headers["Host"] == f"receiver.test:{receiver.port}"


def test_an_unknown_name_is_said_so(monkeypatch: Any) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns({}, []))
    with pytest.raises(addresses.UnsafeAddress, match="could not be resolved"):
        addresses.resolve("https://nowhere.example.org/x")
