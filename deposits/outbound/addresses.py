"""Which URLs a subscription may name, and which addresses a delivery may connect to.

Two checks, because a name can change its answer between them:

- ``check_url`` when a person saves a subscription: https (plain http only for a host
  named in SUBSCRIPTION_PRIVATE_HOSTS), a host on SUBSCRIPTION_ALLOWED_HOSTS, no
  ``user:password@``, and an address written as an IP literal must be public.
- ``resolve`` at every delivery: each address the host resolves to must be public
  (not private, loopback, link-local, reserved, multicast or unspecified, IPv4-mapped
  IPv6 included) unless the host is named in SUBSCRIPTION_PRIVATE_HOSTS. The delivery
  then connects to the address checked here, never resolving the name again (DNS
  rebinding: a second lookup could answer 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

DEFAULT_PORTS = {"http": 80, "https": 443}


class UnsafeAddress(ValueError):
    """The URL (or where its name leads) may not be sent to; the message says why."""


@dataclass(frozen=True)
class Destination:
    """Where one delivery goes: the checked address, and the name it stands for."""

    scheme: str
    host: str  # the name (for the Host header and the TLS server name)
    port: int
    address: str  # the IP address checked, connected to as is
    path: str  # path and query, as sent

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == DEFAULT_PORTS[self.scheme] else f"{name}:{self.port}"


def _host_matches(host: str, port: int, entries: list[str]) -> bool:
    """``host:port`` against entries "*", "host", "host:port" and "*.example.org"."""
    for raw in entries:
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        entry_host, entry_port = entry, ""
        if entry.count(":") == 1 or (entry.startswith("[") and "]:" in entry):
            entry_host, _, entry_port = entry.rpartition(":")
        entry_host = entry_host.strip("[]")
        if entry_port and entry_port != str(port):
            continue
        if entry_host.startswith("*."):
            if host.endswith(entry_host[1:]) and host != entry_host[2:]:
                return True
        elif entry_host == host:
            return True
    return False


def _split(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        raise UnsafeAddress("This is not a valid URL: check the port and the brackets.") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in DEFAULT_PORTS or not host:
        raise UnsafeAddress(
            "Enter a full URL starting with https://, such as https://example.org/hooks."
        )
    if "@" in parts.netloc:
        raise UnsafeAddress(
            "Leave out the user name and password (user:password@): the signature proves "
            "the request comes from this portal."
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port or DEFAULT_PORTS[scheme], path


def is_private_host(host: str, port: int) -> bool:
    return _host_matches(host, port, settings.SUBSCRIPTION_PRIVATE_HOSTS)


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def check_url(url: str) -> str:
    """The URL, cleaned, if a subscription may name it; else ``UnsafeAddress``."""
    scheme, host, port, _ = _split(url)
    private_ok = is_private_host(host, port)
    if scheme != "https" and not private_ok:
        raise UnsafeAddress(
            "Use an https:// URL: webhooks carry your team's news, so they travel encrypted."
        )
    if not _host_matches(host, port, settings.SUBSCRIPTION_ALLOWED_HOSTS):
        allowed = ", ".join(settings.SUBSCRIPTION_ALLOWED_HOSTS) or "none"
        raise UnsafeAddress(
            f"{host} is not on this portal's list of webhook hosts ({allowed}). Ask the "
            "portal's operators to add it (SUBSCRIPTION_ALLOWED_HOSTS)."
        )
    literal = _literal(host)
    if not private_ok and (host == "localhost" or (literal and not is_public(literal))):
        raise UnsafeAddress(_private_message(host))
    return url.strip()


ASK_OPERATORS = (
    "Webhooks are not sent inside the portal's own network unless its operators name the "
    "host in SUBSCRIPTION_PRIVATE_HOSTS."
)


def _private_message(host: str) -> str:
    return f"{host} is a private or local address. {ASK_OPERATORS}"


def resolve(url: str) -> Destination:
    """Check ``url`` again and resolve its host once: every address must be allowed."""
    check_url(url)
    scheme, host, port, path = _split(url)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeAddress(
            f"The name {host} could not be resolved ({exc}): check the URL."
        ) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise UnsafeAddress(f"The name {host} has no address: check the URL.")
    if not is_private_host(host, port):
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise UnsafeAddress(
                f"{host} resolves to {', '.join(refused)}, a private or local address: "
                f"nothing was sent. {ASK_OPERATORS}"
            )
    return Destination(scheme=scheme, host=host, port=port, address=addresses[0], path=path)
