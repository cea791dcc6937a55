"""Over https, the delivery connects to the address it checked while TLS checks the
certificate against the name in the URL (sent as the server name): a certificate for
another name, or one nobody vouches for, is a failed attempt, never a send."""

from __future__ import annotations

import datetime
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from deposits.models import DeliveryStatus, WebhookEvent
from deposits.outbound import delivery as sending
from deposits.outbound.events import emit
from tests.factories import DepositFactory, SubscriptionFactory
from tests.outbound.conftest import SECRET
from tests.outbound.receiver import running

pytestmark = pytest.mark.django_db
NAME = "receiver.test"


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def make_tls(tmp: Path, name: str) -> tuple[ssl.SSLContext, Path]:
    """A server context with a certificate for ``name``, and the CA file vouching for it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(_name("Test CA")).issuer_name(_name("Test CA"))
        .public_key(ca_key.public_key()).serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder().subject_name(_name(name)).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(2)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pem = tmp / "server.pem"
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ca_file = tmp / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    return context, ca_file


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch, settings: Any) -> list[str]:
    """receiver.test resolves to 127.0.0.1 (allowed by name), once per lookup counted."""
    settings.SUBSCRIPTION_PRIVATE_HOSTS = [NAME]
    calls: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == NAME:
            calls.append(host)
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


def deliver_to(team: Any, port: int) -> Any:
    SubscriptionFactory(team=team, url=f"https://{NAME}:{port}/hooks", secret=SECRET)
    (made,) = emit(WebhookEvent.PUBLISHED, DepositFactory(team=team))
    ok = sending.deliver(made.pk)
    made.refresh_from_db()
    return ok, made


def test_https_checks_the_certificate_against_the_name(team, dns, tmp_path, monkeypatch):
    tls, ca_file = make_tls(tmp_path, NAME)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with running(SECRET, tls=tls) as receiver:
        ok, made = deliver_to(team, receiver.port)
    assert ok, made.last_error
    assert made.status == DeliveryStatus.DELIVERED
    assert receiver.server_names == [NAME] and dns == [NAME]
    (got,) = receiver.requests
    assert got.verified and got.headers["Host"] == f"{NAME}:{receiver.port}"


def test_a_certificate_for_another_name_is_refused(team, dns, tmp_path, monkeypatch):
    tls, ca_file = make_tls(tmp_path, "someone-else.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with running(SECRET, tls=tls) as receiver:
        ok, made = deliver_to(team, receiver.port)
    assert not ok and receiver.requests == []
    assert made.status == DeliveryStatus.RETRYING
    assert "certificate" in made.last_error.lower()


def test_a_certificate_nobody_vouches_for_is_refused(team, dns, tmp_path):
    tls, _ = make_tls(tmp_path, NAME)  # its CA is not trusted here
    with running(SECRET, tls=tls) as receiver:
        ok, made = deliver_to(team, receiver.port)
    assert not ok and receiver.requests == []
    assert "certificate" in made.last_error.lower()
