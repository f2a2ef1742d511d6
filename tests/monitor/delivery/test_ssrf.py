"""URLs that must never be called, in every spelling, at registration and after resolution."""

from __future__ import annotations

import inspect
import ipaddress
import re
import socket
from collections.abc import Callable, Sequence

import pytest

from monitor.delivery.errors import HostResolutionError
from monitor.delivery.ssrf import UnsafeURLError, check_url, resolve_and_check, unsafe_reason

Answer = tuple[object, object, object, object, tuple[object, ...]]


def exact(text: str) -> str:
    """A ``pytest.raises`` pattern that matches ``text`` and nothing else."""
    return f"^{re.escape(text)}$"


def answering(*addresses: str, calls: list[tuple[str, int]] | None = None,
              ) -> Callable[[str, int], Sequence[Answer]]:
    """A resolver in getaddrinfo's shape; each address appears twice (TCP and UDP), as there."""
    def resolve(host: str, port: int) -> list[Answer]:
        if calls is not None:
            calls.append((host, port))
        out: list[Answer] = []
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr: tuple[object, ...] = (
                (address, port, 0, 0) if family == socket.AF_INET6 else (address, port))
            out += [(family, socket.SOCK_STREAM, 6, "", sockaddr),
                    (family, socket.SOCK_DGRAM, 17, "", sockaddr)]
        return out
    return resolve


def refusing(host: str, port: int) -> list[Answer]:
    raise AssertionError(f"the resolver must not be called ({host}:{port})")


REFUSED = [
    # loopback, in every notation inet_aton and browsers accept
    ("http://127.0.0.1/", "host 127.0.0.1 is a loopback address"),
    ("http://127.0.0.1./", "host 127.0.0.1 is a loopback address"),
    ("http://127.8.9.10:8080/x", "host 127.8.9.10 is a loopback address"),
    ("http://0x7f000001/", "host 0x7f000001 is 127.0.0.1, a loopback address"),
    ("http://0X7F000001/", "host 0x7f000001 is 127.0.0.1, a loopback address"),
    ("http://2130706433/", "host 2130706433 is 127.0.0.1, a loopback address"),
    ("http://127.1/", "host 127.1 is 127.0.0.1, a loopback address"),
    ("http://127.0.1/", "host 127.0.1 is 127.0.0.1, a loopback address"),
    ("http://0177.0.0.1/", "host 0177.0.0.1 is 127.0.0.1, a loopback address"),
    ("http://0x7f.0.0.1/", "host 0x7f.0.0.1 is 127.0.0.1, a loopback address"),
    ("http://0x7f.1/", "host 0x7f.1 is 127.0.0.1, a loopback address"),
    ("http://017700000001/", "host 017700000001 is 127.0.0.1, a loopback address"),
    ("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", "host 127.0.0.1 is a loopback address"),
    ("http://[::1]/", "host [::1] is a loopback address"),
    ("http://[0:0:0:0:0:0:0:1]:8080/", "host [0:0:0:0:0:0:0:1] is a loopback address"),
    ("http://[::ffff:127.0.0.1]/",
     "host [::ffff:127.0.0.1] is IPv4-mapped 127.0.0.1, a loopback address"),
    ("http://[::ffff:7f00:1]/",
     "host [::ffff:7f00:1] is IPv4-mapped 127.0.0.1, a loopback address"),
    ("http://[::127.0.0.1]/", "host [::127.0.0.1] is a reserved address"),
    ("http://[64:ff9b::7f00:1]/",
     "host [64:ff9b::7f00:1] is NAT64 of 127.0.0.1, a loopback address"),
    ("http://[2002:7f00:1::]/", "host [2002:7f00:1::] is 6to4 of 127.0.0.1, a loopback address"),
    # cloud metadata
    ("http://169.254.169.254/latest/meta-data/",
     "host 169.254.169.254 is a cloud metadata address"),
    ("http://0xa9fea9fe/", "host 0xa9fea9fe is 169.254.169.254, a cloud metadata address"),
    ("http://2852039166/", "host 2852039166 is 169.254.169.254, a cloud metadata address"),
    ("http://[fd00:ec2::254]/", "host [fd00:ec2::254] is a cloud metadata address"),
    ("http://[::ffff:169.254.169.254]/",
     "host [::ffff:169.254.169.254] is IPv4-mapped 169.254.169.254, a cloud metadata address"),
    ("http://169.254.170.2/v2/credentials", "host 169.254.170.2 is a cloud metadata address"),
    ("http://100.100.100.200/", "host 100.100.100.200 is a cloud metadata address"),
    ("http://168.63.129.16/", "host 168.63.129.16 is a cloud metadata address"),
    # private, link-local, multicast, reserved, unspecified
    ("http://10.0.0.1/", "host 10.0.0.1 is a private address"),
    ("http://10.255.255.255/", "host 10.255.255.255 is a private address"),
    ("http://172.16.5.4/", "host 172.16.5.4 is a private address"),
    ("http://172.31.255.1/", "host 172.31.255.1 is a private address"),
    ("http://192.168.1.1/", "host 192.168.1.1 is a private address"),
    ("http://012.1.2.3/", "host 012.1.2.3 is 10.1.2.3, a private address"),
    ("http://[fc00::1]/", "host [fc00::1] is a private address"),
    ("http://[fd12:3456::1]/", "host [fd12:3456::1] is a private address"),
    ("http://100.64.0.1/", "host 100.64.0.1 is a shared (carrier-grade NAT) address"),
    ("http://169.254.1.1/", "host 169.254.1.1 is a link-local address"),
    ("http://[fe80::1]/", "host [fe80::1] is a link-local address"),
    ("http://[fe80::1%25eth0]/", "host [fe80::1%25eth0] is an IPv6 address with a zone"),
    ("http://224.0.0.1/", "host 224.0.0.1 is a multicast address"),
    ("http://239.255.255.250/", "host 239.255.255.250 is a multicast address"),
    ("http://[ff02::1]/", "host [ff02::1] is a multicast address"),
    ("http://240.0.0.1/", "host 240.0.0.1 is a reserved address"),
    ("http://255.255.255.255/", "host 255.255.255.255 is a reserved address"),
    ("http://192.0.0.8/", "host 192.0.0.8 is a reserved address"),
    ("http://198.18.0.1/", "host 198.18.0.1 is a reserved address"),
    ("http://[2001::1]/", "host [2001::1] is a reserved address"),
    ("http://192.0.2.1/", "host 192.0.2.1 is a documentation address"),
    ("http://[2001:db8::1]/", "host [2001:db8::1] is a documentation address"),
    ("http://0.0.0.0/", "host 0.0.0.0 is an unspecified address"),
    ("http://0/", "host 0 is 0.0.0.0, an unspecified address"),
    ("http://[::]/", "host [::] is an unspecified address"),
    # local names
    ("http://localhost/", "host localhost is a local name"),
    ("http://LOCALHOST:8080/", "host localhost is a local name"),
    ("http://localhost./", "host localhost is a local name"),
    ("http://api.localhost/", "host api.localhost is a local name"),
    ("http://\u24dbocalhost/", "host localhost is a local name"),
    ("http://metadata.google.internal/computeMetadata/v1/",
     "host metadata.google.internal is a local name"),
    # schemes, credentials, malformed
    ("file:///etc/passwd", "scheme 'file' is not allowed (http or https only)"),
    ("ftp://example.com/", "scheme 'ftp' is not allowed (http or https only)"),
    ("gopher://example.com:70/", "scheme 'gopher' is not allowed (http or https only)"),
    ("javascript:alert(1)", "scheme 'javascript' is not allowed (http or https only)"),
    ("example.com/hook", "scheme '' is not allowed (http or https only)"),
    ("http://user:pass@example.com/",
     "credentials in the URL are not allowed; use headers or secrets"),
    ("https://token@example.com/",
     "credentials in the URL are not allowed; use headers or secrets"),
    ("http://example.com@127.0.0.1/",
     "credentials in the URL are not allowed; use headers or secrets"),
    ("http://:@example.com/", "credentials in the URL are not allowed; use headers or secrets"),
    ("http://example.com\\@127.0.0.1/", "URL contains spaces, control characters or backslashes"),
    ("http://exa mple.com/", "URL contains spaces, control characters or backslashes"),
    ("http://example.com/\r\nHost: x", "URL contains spaces, control characters or backslashes"),
    ("http:///path", "URL has no host"),
    ("http://example.com:0/", "port 0 is not a valid port"),
    ("http://example.com:99999/", "malformed URL: Port out of range 0-65535"),
    ("http://[::1/", "malformed URL: Invalid IPv6 URL"),
    ("http://1.2.3.4.5/", "host 1.2.3.4.5 looks numeric but is not a valid IPv4 address"),
    ("http://256.1.1.1/", "host 256.1.1.1 looks numeric but is not a valid IPv4 address"),
    ("http://08.0.0.1/", "host 08.0.0.1 looks numeric but is not a valid IPv4 address"),
    ("http://1.2.3.0x1ffffff/",
     "host 1.2.3.0x1ffffff looks numeric but is not a valid IPv4 address"),
    ("http://example.com/" + "a" * 2048, "URL is longer than 2048 characters"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_check_url_refuses_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURLError) as info:
        check_url(url)
    assert info.value.reason == reason
    assert str(info.value) == reason


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_resolve_and_check_refuses_the_same_before_any_lookup(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURLError) as info:
        resolve_and_check(url, resolver=refusing)
    assert info.value.reason == reason


@pytest.mark.parametrize("url", ["http://[not-an-ip]/", "http://[127.0.0.1]/"])
def test_brackets_must_hold_an_ipv6_address(url: str) -> None:
    # Python 3.11.4 and later refuse these in urlsplit already; earlier releases do not.
    with pytest.raises(UnsafeURLError, match=r"^(malformed URL: |host \[.* is not a valid IPv6)"):
        check_url(url)


ACCEPTED = [
    "https://hooks.example.com/driftline",
    "HTTPS://Hooks.Example.com:8443/a?b=c#d",
    "https://hooks.slack.com/services/T000/B000/XXXX",
    "http://93.184.216.34:8080/p",
    "http://0x5db8d822/",  # 93.184.216.34, public, however written
    "https://[2606:4700:4700::1111]/",
    "https://[::ffff:93.184.216.34]/",  # the mapped form of a public address is that address
    "http://1e100.net/",  # a name ending in a letter is a name
    "http://172.32.0.1/",  # just past 172.16.0.0/12
    "http://100.128.0.1/",  # just past 100.64.0.0/10
    "http://xn--bcher-kva.example/",
    "http://b\u00fccher.example/",
]


@pytest.mark.parametrize("url", ACCEPTED)
def test_check_url_accepts_public_urls_unchanged(url: str) -> None:
    assert check_url(url) == url


def test_ip_literals_are_returned_canonical_without_a_lookup() -> None:
    assert resolve_and_check("http://0x5db8d822/", resolver=refusing) == ["93.184.216.34"]
    assert resolve_and_check("https://[2606:4700:4700:0::1111]/", resolver=refusing) == [
        "2606:4700:4700::1111"]


# --- the allow-list ------------------------------------------------------------------------------

def test_allow_list_cidr_admits_exactly_its_addresses() -> None:
    assert check_url("http://127.0.0.1:8000/hook", allow=["127.0.0.0/8"]) == (
        "http://127.0.0.1:8000/hook")
    assert check_url("http://0x7f000001/", allow=["127.0.0.1"]) == "http://0x7f000001/"
    assert check_url("http://[::1]:9000/", allow=["::1/128"]) == "http://[::1]:9000/"
    assert check_url("http://10.1.2.3/", allow=["10.1.0.0/16"]) == "http://10.1.2.3/"
    with pytest.raises(UnsafeURLError, match=exact("host 10.2.0.1 is a private address")):
        check_url("http://10.2.0.1/", allow=["10.1.0.0/16"])
    with pytest.raises(UnsafeURLError, match=exact("host 127.0.0.1 is a loopback address")):
        check_url("http://127.0.0.1/", allow=["::/0"])


def test_allow_list_names_admit_local_names_and_suffixes() -> None:
    assert check_url("http://localhost:9000/", allow=["localhost"]) == "http://localhost:9000/"
    assert check_url("http://LocalHost./", allow=["localhost"]) == "http://LocalHost./"
    with pytest.raises(UnsafeURLError, match=exact("host api.localhost is a local name")):
        check_url("http://api.localhost/", allow=["localhost"])
    assert check_url("http://api.localhost/", allow=["*.localhost"]) == "http://api.localhost/"


def test_allow_list_never_admits_other_schemes_or_credentials() -> None:
    for url, reason in [
        ("file:///etc/passwd", "scheme 'file' is not allowed (http or https only)"),
        ("ftp://127.0.0.1/", "scheme 'ftp' is not allowed (http or https only)"),
        ("http://u:p@127.0.0.1/", "credentials in the URL are not allowed; use headers or secrets"),
    ]:
        with pytest.raises(UnsafeURLError) as info:
            check_url(url, allow=["0.0.0.0/0", "::/0", "127.0.0.1"])
        assert info.value.reason == reason


def test_allow_list_entries_are_validated() -> None:
    with pytest.raises(ValueError, match=exact("empty entry in the URL allow-list")):
        check_url("https://example.com/", allow=[" "])
    with pytest.raises(TypeError, match="not a string"):
        check_url("https://example.com/", allow="10.0.0.0/8")


# --- at send time: every resolved address --------------------------------------------------------

def test_resolution_returns_each_address_once_in_resolver_order() -> None:
    calls: list[tuple[str, int]] = []
    resolver = answering("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "93.184.216.34",
                         calls=calls)
    assert resolve_and_check("https://Hooks.Example.COM./x", resolver=resolver) == [
        "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    assert calls == [("hooks.example.com", 443)]
    resolve_and_check("http://hooks.example.com:8080/", resolver=resolver)
    resolve_and_check("http://hooks.example.com/", resolver=resolver)
    assert calls[1:] == [("hooks.example.com", 8080), ("hooks.example.com", 80)]


@pytest.mark.parametrize(("addresses", "reason"), [
    (("10.0.0.7",), "host hooks.example.com resolves to 10.0.0.7, a private address"),
    (("93.184.216.34", "10.0.0.7"),
     "host hooks.example.com resolves to 10.0.0.7, a private address"),
    (("::1",), "host hooks.example.com resolves to ::1, a loopback address"),
    (("127.0.0.53",), "host hooks.example.com resolves to 127.0.0.53, a loopback address"),
    (("169.254.169.254",),
     "host hooks.example.com resolves to 169.254.169.254, a cloud metadata address"),
    (("fd00:ec2::254",),
     "host hooks.example.com resolves to fd00:ec2::254, a cloud metadata address"),
    (("::ffff:127.0.0.1",),
     "host hooks.example.com resolves to ::ffff:7f00:1, IPv4-mapped 127.0.0.1, "
     "a loopback address"),
    (("fe80::1%eth0",), "host hooks.example.com resolves to fe80::1%eth0, an IPv6 address with "
                        "a zone"),
    (("0.0.0.0",), "host hooks.example.com resolves to 0.0.0.0, an unspecified address"),
])
def test_any_internal_answer_refuses_the_url(addresses: tuple[str, ...], reason: str) -> None:
    assert check_url("https://hooks.example.com/") == "https://hooks.example.com/"
    with pytest.raises(UnsafeURLError) as info:
        resolve_and_check("https://hooks.example.com/", resolver=answering(*addresses))
    assert info.value.reason == reason


def test_dns_rebinding_after_registration_is_caught_at_send_time() -> None:
    answers = iter([("93.184.216.34",), ("127.0.0.1",)])

    def rebinding(host: str, port: int) -> list[Answer]:
        return list(answering(*next(answers))(host, port))

    url = check_url("https://rebind.example/hook")
    assert resolve_and_check(url, resolver=rebinding) == ["93.184.216.34"]
    with pytest.raises(UnsafeURLError,
                       match=exact("host rebind.example resolves to 127.0.0.1, "
                                   "a loopback address")):
        resolve_and_check(url, resolver=rebinding)


def test_allow_list_at_send_time_by_cidr_and_by_name() -> None:
    internal = answering("10.1.2.3")
    assert resolve_and_check("https://hooks.corp.example/", allow=["10.1.0.0/16"],
                             resolver=internal) == ["10.1.2.3"]
    assert resolve_and_check("https://hooks.corp.example/", allow=["*.corp.example"],
                             resolver=internal) == ["10.1.2.3"]
    assert resolve_and_check("https://hooks.corp.example/", allow=["hooks.corp.example"],
                             resolver=internal) == ["10.1.2.3"]
    with pytest.raises(UnsafeURLError, match=re.escape("resolves to 10.1.2.3, a private address")):
        resolve_and_check("https://hooks.corp.example/", allow=["10.2.0.0/16", "other.example"],
                          resolver=internal)


def test_a_failed_lookup_is_transient_not_unsafe() -> None:
    def failing(host: str, port: int) -> list[Answer]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(HostResolutionError) as info:
        resolve_and_check("https://gone.example/", resolver=failing)
    assert info.value.reason == "cannot resolve gone.example: [Errno -2] Name or service not known"
    assert not isinstance(info.value, UnsafeURLError)
    no_answer = "cannot resolve gone.example: no addresses"
    with pytest.raises(HostResolutionError, match=exact(no_answer)):
        resolve_and_check("https://gone.example/", resolver=answering())


def test_a_resolver_answering_something_other_than_an_ip_is_refused() -> None:
    def odd(host: str, port: int) -> list[Answer]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("not-an-ip", port))]

    with pytest.raises(UnsafeURLError,
                       match=exact("host odd.example resolved to 'not-an-ip', not an IP")):
        resolve_and_check("https://odd.example/", resolver=odd)


def test_the_default_resolver_is_getaddrinfo() -> None:
    default = inspect.signature(resolve_and_check).parameters["resolver"].default
    assert default is socket.getaddrinfo


@pytest.mark.parametrize(("address", "reason"), [
    ("8.8.8.8", None),
    ("2606:4700:4700::1111", None),
    ("::ffff:8.8.8.8", None),
    ("64:ff9b::808:808", None),
    ("64:ff9b::a00:1", "NAT64 of 10.0.0.1, a private address"),
    ("2002:a9fe:a9fe::", "6to4 of 169.254.169.254, a cloud metadata address"),
    ("64:ff9b:1::1", "a reserved address"),
    ("100::1", "a reserved address"),
    ("fec0::1", "a link-local address"),
    ("203.0.113.9", "a documentation address"),
])
def test_unsafe_reason(address: str, reason: str | None) -> None:
    assert unsafe_reason(ipaddress.ip_address(address)) == reason
