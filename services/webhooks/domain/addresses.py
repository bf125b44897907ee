"""Which URLs a webhook may be sent to: server-side request forgery kept out.

An endpoint is an ``https://`` URL (``http://`` only where the operator allows it) without credentials or a
fragment, whose host resolves only to public addresses. Private, loopback, link-local (the cloud metadata
address 169.254.169.254 among them), multicast, reserved and other special-purpose addresses are refused,
also when they hide inside an IPv6 address (IPv4-mapped, 6to4, NAT64, Teredo), unless they fall in a network
the operator allows (``GOTONG_WEBHOOKS_ALLOW_PRIVATE``). The check runs when a subscription is made and again
for every connection, on the addresses the name resolves to then; the connection goes to the address checked.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH = 2000
_PRIVATE_USE = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_METADATA = ipaddress.ip_address("169.254.169.254")


class EndpointRefused(ValueError):
    """A URL or an address a webhook may not be sent to; the message says why."""


@dataclass(frozen=True)
class Endpoint:
    """A webhook URL taken apart: where to connect, and the URL as given."""

    url: str
    scheme: str
    host: str
    port: int


def _embedded(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64, Teredo client), which is what it reaches."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def kind_of(ip: IPAddress) -> str | None:
    """What makes ``ip`` unfit for a webhook (``"loopback"``, ``"private"``…), or None for a public address; an
    IPv6 address carrying an IPv4 one is what the IPv4 address is."""
    inner = _embedded(ip)
    if inner is not None:
        return kind_of(inner)
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip == _METADATA:
        return "link-local (the cloud metadata service)"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip in _SHARED:
        return "shared (carrier-grade NAT)"
    if any(ip in network for network in _PRIVATE_USE):
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "special-purpose (not publicly routable)"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Where webhooks may go: public addresses, plus the networks the operator allows; http only if allowed."""

    allowed: tuple[IPNetwork, ...] = ()
    allow_http: bool = False

    @classmethod
    def of(cls, networks: Iterable[str], *, allow_http: bool) -> AddressPolicy:
        return cls(tuple(ipaddress.ip_network(n, strict=False) for n in networks), allow_http)

    def refusal(self, ip: IPAddress) -> str | None:
        """Why a webhook may not connect to ``ip``, or None if it may."""
        if any(ip.version == network.version and ip in network for network in self.allowed):
            return None
        kind = kind_of(ip)
        if kind is None:
            return None
        inner = _embedded(ip)
        what = f"{ip} carries {inner}, a {kind} address" if inner else f"{ip} is a {kind} address"
        return f"{what}; webhooks go to public addresses only"

    def check(self, host: str, addresses: Iterable[IPAddress]) -> list[IPAddress]:
        """The addresses ``host`` resolved to, if every one of them is allowed (a name that resolves to a private
        address among public ones is refused whole: it may be rebinding)."""
        found = list(dict.fromkeys(addresses))
        if not found:
            raise EndpointRefused(f"{host} does not resolve to any address")
        for ip in found:
            reason = self.refusal(ip)
            if reason is not None:
                shown = "" if str(ip) == host else f"{host} resolves to "
                raise EndpointRefused(shown + reason)
        return found

    def endpoint(self, url: str) -> Endpoint:
        """``url`` taken apart, or ``EndpointRefused`` saying what is wrong with it (before any DNS lookup)."""
        if len(url) > MAX_URL_LENGTH:
            raise EndpointRefused(f"must be at most {MAX_URL_LENGTH} characters")
        if any(c.isspace() or ord(c) < 0x20 for c in url):
            raise EndpointRefused("must not contain spaces or control characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise EndpointRefused(f"is not a valid URL: {error}") from None
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http"):
            raise EndpointRefused("must be an https:// URL")
        if scheme == "http" and not self.allow_http:
            raise EndpointRefused("must be https:// (plain http:// is allowed only where the operator allows it)")
        if parts.username is not None or parts.password is not None:
            raise EndpointRefused("must not carry credentials (user:password@); authenticate by the signature")
        if parts.fragment or url.endswith("#"):
            raise EndpointRefused("must not have a fragment (#…)")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise EndpointRefused("must name a host")
        return Endpoint(url=url, scheme=scheme, host=host, port=port or (443 if scheme == "https" else 80))


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal (``10.0.0.1``, ``::1``) names, or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
