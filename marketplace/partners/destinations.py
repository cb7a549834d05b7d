"""Where webhooks may go: our servers must not be turned against our own network (SSRF).

`check_url` refuses, at registration, a URL whose host is or resolves to a disallowed address
(`Destinations`); since DNS answers can change later (DNS rebinding), every delivery attempt resolves the
host again with `Destinations.resolve`, refuses (a failed attempt, retried like any other) if any address
is disallowed, and connects to a vetted address itself, so no second lookup happens between the check
and the connect.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

from marketplace.kernel.errors import Invalid
from marketplace.partners.errors import PartnerErrorCode

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedDestination(Exception):
    """A host that is, or resolves to, an address webhooks must not reach."""

    def __init__(self, host: str, address: IPAddress, kind: str) -> None:
        what = f"{host} is" if host == str(address) else f"{host} resolves to {address},"
        super().__init__(f"{what} a {kind} address; webhooks only reach public addresses")
        self.address = address


@dataclass(frozen=True)
class Destinations:
    """Which addresses our servers may POST webhooks to: public unicast ones, and loopback outside production.

    `PARTNER_WEBHOOK_ALLOW_PRIVATE` (on-premise installs) also lets through private, unique-local, carrier-grade
    NAT and reserved ones. Link-local (cloud metadata at 169.254.169.254 lives there), multicast and unspecified
    addresses (0.0.0.0 reaches this very host) are never allowed.
    """

    allow_loopback: bool
    allow_private: bool

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Destinations:
        return cls(allow_loopback=config.get("ENV_NAME") != "production",
                   allow_private=bool(config.get("PARTNER_WEBHOOK_ALLOW_PRIVATE")))

    def refusal(self, address: IPAddress) -> str | None:
        """What kind of address this is if webhooks may not reach it; None if they may."""
        if isinstance(address, ipaddress.IPv6Address):  # an IPv4 address carried in IPv6 is judged as itself
            address = address.ipv4_mapped or address.sixtofour or address
        if address.is_loopback:
            return None if self.allow_loopback else "loopback"
        if address.is_unspecified:
            return "unspecified"
        if address.is_multicast:
            return "multicast"
        if address.is_link_local:
            return "link-local"
        if self.allow_private:
            return None
        if address.is_private:
            return "private"
        # `is_global` is False for carrier-grade NAT (100.64.0.0/10), which is not `is_private`
        if address.is_reserved or not address.is_global or getattr(address, "is_site_local", False):
            return "reserved"
        return None

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address a connection to `host` could use, once all are allowed; else RefusedDestination.

        Raises socket.gaierror (an OSError) when the name does not resolve, and ValueError when it cannot be a
        host name at all (a label over 63 characters, a NUL byte).
        """
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:  # a name; getaddrinfo also reads the numeric forms ip_address rejects (10.1, 0x7f000001)
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
            addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        for address in addresses:
            kind = self.refusal(address)
            if kind:
                raise RefusedDestination(host, address, kind)
        return addresses


def check_url(url: str) -> str:
    """https to a public address; plain http only to a loopback host outside production (see `Destinations`).

    A host name that does not resolve now is accepted (its DNS may be down or not set up yet): every delivery
    resolves it again and refuses a disallowed address then, so accepting it opens nothing.
    """
    bad = Invalid(PartnerErrorCode.INVALID_WEBHOOK_URL,
                  _("Webhook URLs must be https (http only to 127.0.0.1, localhost or ::1 outside production)."),
                  field="url")
    if any(c.isspace() for c in url):
        raise bad
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise bad from None
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password or parts.fragment:
        raise bad
    production = current_app.config.get("ENV_NAME") == "production"
    loopback_http = parts.scheme == "http" and not production and (host in LOOPBACK_HOSTS or _is_loopback(host))
    if parts.scheme != "https" and not loopback_http:
        raise bad
    try:
        Destinations.from_config(current_app.config).resolve(host, parts.port or DEFAULT_PORTS[parts.scheme])
    except RefusedDestination as refused:
        raise Invalid(PartnerErrorCode.INVALID_WEBHOOK_URL,
                      _("Webhook URLs must point to public addresses; %(address)s is private, internal or reserved.",
                        address=str(refused.address)), field="url") from None
    except ValueError:
        raise bad from None
    except OSError:  # does not resolve (now): see the docstring
        pass
    return url


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
