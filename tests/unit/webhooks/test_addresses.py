"""Where webhooks may go: https URLs of public addresses; every private, loopback, link-local, multicast,
reserved or special-purpose address refused (also inside an IPv6 address) unless the operator allows it."""

from __future__ import annotations

import ipaddress

import pytest

from services.webhooks.domain.addresses import AddressPolicy, EndpointRefused, kind_of

pytestmark = pytest.mark.unit

STRICT = AddressPolicy.of((), allow_http=False)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.0.10", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local (the cloud metadata service)"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.1", "special-purpose (not publicly routable)"),
        ("2001:db8::1", "special-purpose (not publicly routable)"),
    ],
)
def test_addresses_that_are_not_public_are_named_for_what_they_are(address: str, kind: str) -> None:
    assert kind_of(ipaddress.ip_address(address)) == kind
    assert (
        STRICT.refusal(ipaddress.ip_address(address))
        == f"{address} is a {kind} address; webhooks go to public addresses only"
    )


@pytest.mark.parametrize(
    ("address", "inner", "kind"),
    [
        ("::ffff:127.0.0.1", "127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "169.254.169.254", "link-local (the cloud metadata service)"),
        ("64:ff9b::a00:1", "10.0.0.1", "private"),
        ("2002:c0a8:101::1", "192.168.1.1", "private"),
    ],
)
def test_an_ipv6_address_carrying_an_ipv4_one_is_judged_by_it(address: str, inner: str, kind: str) -> None:
    refusal = STRICT.refusal(ipaddress.ip_address(address))
    assert refusal is not None and f"carries {inner}, a {kind} address" in refusal


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert STRICT.refusal(ipaddress.ip_address(address)) is None


def test_the_operator_allows_networks_and_only_those() -> None:
    policy = AddressPolicy.of(("127.0.0.0/8", "::1/128"), allow_http=True)
    assert policy.refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert policy.refusal(ipaddress.ip_address("::1")) is None
    assert policy.refusal(ipaddress.ip_address("10.0.0.1")) is not None
    everything = AddressPolicy.of(("0.0.0.0/0", "::/0"), allow_http=False)
    assert everything.refusal(ipaddress.ip_address("169.254.169.254")) is None


def test_a_name_resolving_to_any_address_not_allowed_is_refused_whole() -> None:
    public, private = ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("10.0.0.7")
    assert STRICT.check("hooks.example", [public, public]) == [public]
    with pytest.raises(EndpointRefused, match=r"hooks\.example resolves to 10\.0\.0\.7 is a private address"):
        STRICT.check("hooks.example", [public, private])
    with pytest.raises(EndpointRefused, match="does not resolve"):
        STRICT.check("hooks.example", [])


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example/in", "must be https://"),
        ("ftp://hooks.example/in", "must be an https:// URL"),
        ("https://user:pw@hooks.example/in", "credentials"),
        ("https://hooks.example/in#frag", "fragment"),
        ("https:///in", "must name a host"),
        ("https://hooks.example:99999/in", "not a valid URL"),
        ("https://hooks.example/a b", "spaces"),
        ("https://hooks.example/" + "a" * 2000, "at most 2000"),
    ],
)
def test_urls_are_taken_apart_or_refused_before_any_lookup(url: str, reason: str) -> None:
    with pytest.raises(EndpointRefused, match=reason):
        STRICT.endpoint(url)


def test_a_url_names_its_host_and_port() -> None:
    endpoint = STRICT.endpoint("https://Hooks.Example./in?x=1")
    assert (endpoint.scheme, endpoint.host, endpoint.port) == ("https", "hooks.example", 443)
    assert AddressPolicy.of((), allow_http=True).endpoint("http://[::1]:8080/in").port == 8080
