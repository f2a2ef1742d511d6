"""Which user-configured URLs Driftline may call (RELIABILITY promise 8).

Two checks, both needed. :func:`check_url` at registration: http(s) only, no credentials, and no
host that is, or spells, an internal address, however written (``0x7f000001``, ``2130706433``,
``127.1``, ``0177.0.0.1``, ``[::ffff:127.0.0.1]``). :func:`resolve_and_check` at send time: a
public name may resolve to an internal address, or change its answer after registration (DNS
rebinding), so every address it resolves to is checked; the relay then connects to those
addresses, not to a second lookup.

``allow`` lists CIDRs (``10.1.0.0/16``) and host names (``hooks.internal``, ``*.corp.example``)
that skip the address checks, for tests and private deployments. It never admits another scheme
or credentials.

>>> check_url("https://hooks.example.com/driftline")
'https://hooks.example.com/driftline'
>>> check_url("http://0x7f000001/")
Traceback (most recent call last):
...
monitor.delivery.errors.UnsafeURLError: host 0x7f000001 is 127.0.0.1, a loopback address
>>> check_url("http://10.1.2.3/hook", allow=["10.1.0.0/16"])
'http://10.1.2.3/hook'
>>> fake = lambda host, port: [(2, 1, 6, "", ("192.168.1.5", port))]
>>> resolve_and_check("https://a.example/", resolver=fake)
Traceback (most recent call last):
...
monitor.delivery.errors.UnsafeURLError: host a.example resolves to 192.168.1.5, a private address
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.delivery.errors import HostResolutionError, UnsafeURLError

__all__ = ["UnsafeURLError", "check_url", "resolve_and_check", "unsafe_reason"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
AddrInfo = tuple[object, object, object, object, tuple[object, ...]]
Resolver = Callable[[str, int], Sequence[AddrInfo]]

MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}
_FORBIDDEN_NAMES = frozenset({
    "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback",
    "metadata", "metadata.google.internal",
})
_METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack instance metadata
    "169.254.170.2",    # AWS ECS task metadata
    "fd00:ec2::254",    # AWS instance metadata over IPv6
    "100.100.100.200",  # Alibaba Cloud metadata
    "168.63.129.16",    # Azure wire server (a public address, hence listed by name)
))
# The IANA special-purpose registries, written out: ipaddress.is_global differs across patch
# releases of Python 3.11, so it is only the last line of defence below.
_BLOCKS: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), kind) for net, kind in (
        ("0.0.0.0/8", "unspecified"), ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared (carrier-grade NAT)"), ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"), ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"), ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "reserved"), ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "reserved"), ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"), ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"), ("::1/128", "loopback"), ("::/96", "reserved"),
        ("64:ff9b:1::/48", "reserved"), ("100::/64", "reserved"), ("2001::/23", "reserved"),
        ("2001:db8::/32", "documentation"), ("fc00::/7", "private"),
        ("fe80::/10", "link-local"), ("fec0::/10", "link-local"), ("ff00::/8", "multicast"),
    ))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HEX = re.compile(r"0[xX][0-9a-fA-F]*", re.ASCII)
_OCTAL = re.compile(r"0[0-7]+", re.ASCII)
_DECIMAL = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_NUMERIC = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*", re.ASCII)
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


def unsafe_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be called (``"a loopback address"``), or None for a public address.

    >>> unsafe_reason(ipaddress.ip_address("::ffff:169.254.169.254"))
    'IPv4-mapped 169.254.169.254, a cloud metadata address'
    >>> unsafe_reason(ipaddress.ip_address("93.184.216.34")) is None
    True
    """
    if ip in _METADATA:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address) and (via := _translated(ip)) is not None:
        # The same destination as the IPv4 address inside: judged as that address (DNS64
        # answers 64:ff9b::/96 for every IPv4-only host on an IPv6-only network).
        kind, inner_ip = via
        inner = unsafe_reason(inner_ip)
        return None if inner is None else f"{kind} {inner_ip}, {inner}"
    reason = _ipv6_reason(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    if reason is None:
        reason = next((_a(kind) for network, kind in _BLOCKS
                       if ip.version == network.version and ip in network), None)
    if reason is None and (not ip.is_global or ip.is_multicast or ip.is_reserved):
        reason = "not a public address"
    return reason


def _a(kind: str) -> str:
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} address"


def _translated(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv4-mapped or NAT64 (64:ff9b::/96) address reaches."""
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip in _NAT64:
        return "NAT64 of", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _ipv6_reason(ip: ipaddress.IPv6Address) -> str | None:
    """A zone, or an internal IPv4 address inside a 6to4 one (2002::/16)."""
    if ip.scope_id:
        return "an IPv6 address with a zone"
    embedded = ip.sixtofour
    if embedded is not None and (inner := unsafe_reason(embedded)) is not None:
        return f"6to4 of {embedded}, {inner}"
    return None


def _parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address in any notation inet_aton and browsers accept, else None.

    >>> _parse_ipv4("2130706433"), _parse_ipv4("127.1"), _parse_ipv4("0177.0.0.1")
    (IPv4Address('127.0.0.1'), IPv4Address('127.0.0.1'), IPv4Address('127.0.0.1'))
    """
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    if not 1 <= len(labels) <= 4:
        return None
    values: list[int] = []
    for label in labels:
        if _HEX.fullmatch(label):
            values.append(int(label[2:] or "0", 16))
        elif _OCTAL.fullmatch(label):
            values.append(int(label, 8))
        elif _DECIMAL.fullmatch(label):
            values.append(int(label, 10))
        else:
            return None
    if any(v > 255 for v in values[:-1]):
        return None
    if values[-1] >= 256 ** (5 - len(values)):
        return None
    number = 0
    for v in values[:-1]:
        number = number * 256 + v
    return ipaddress.IPv4Address((number << 8 * (5 - len(values))) + values[-1])


@dataclass(frozen=True)
class _Allow:
    networks: tuple[IPNetwork, ...]
    names: frozenset[str]
    suffixes: tuple[str, ...]

    @classmethod
    def parse(cls, entries: Sequence[str]) -> _Allow:
        if isinstance(entries, str):
            raise TypeError("allow must be a sequence of CIDRs or host names, not a string")
        networks: list[IPNetwork] = []
        names: set[str] = set()
        suffixes: list[str] = []
        for raw in entries:
            entry = raw.strip().lower().rstrip(".")
            if not entry:
                raise ValueError("empty entry in the URL allow-list")
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if entry.startswith("*."):
                    suffixes.append(entry[1:])
                else:
                    names.add(entry)
        return cls(tuple(networks), frozenset(names), tuple(suffixes))

    def has_name(self, host: str) -> bool:
        return host in self.names or any(host.endswith(s) for s in self.suffixes)

    def has_ip(self, ip: IPAddress) -> bool:
        return any(ip.version == n.version and ip in n for n in self.networks)


@dataclass(frozen=True)
class _Target:
    host: str  # lower case, ASCII (IDNA), without a trailing dot
    ip: IPAddress | None  # the literal address, when the host is one
    port: int


def _normalize_host(host: str) -> str:
    if not host.isascii():
        # IDNA maps look-alikes: circled and full-width letters and digits to ASCII, so
        # "\u24dbocalhost" is "localhost" and full-width "127.0.0.1" is 127.0.0.1.
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeURLError(f"host {host!r} is not a valid host name") from None
    return host.lower().removesuffix(".")


def _split(url: str) -> tuple[str, str, str, int]:
    """Scheme, netloc, host name (normalized) and port of an http(s) URL without credentials."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURLError(f"URL is longer than {MAX_URL_LENGTH} characters")
    if _BAD_CHARS.search(url):
        raise UnsafeURLError("URL contains spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURLError(f"malformed URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UnsafeURLError(f"scheme {scheme!r} is not allowed (http or https only)")
    if "@" in parts.netloc:
        raise UnsafeURLError("credentials in the URL are not allowed; use headers or secrets")
    if not parts.hostname:
        raise UnsafeURLError("URL has no host")
    if port == 0:
        raise UnsafeURLError("port 0 is not a valid port")
    return scheme, parts.netloc, _normalize_host(parts.hostname), port or _DEFAULT_PORTS[scheme]


def _literal(host: str, bracketed: bool) -> IPAddress | None:
    """The address a host spells, if it spells one."""
    if bracketed:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeURLError(f"host [{host}] is not a valid IPv6 address") from None
    ip = _parse_ipv4(host)
    if ip is None and _NUMERIC.fullmatch(host.rsplit(".", 1)[-1]):
        raise UnsafeURLError(f"host {host} looks numeric but is not a valid IPv4 address")
    return ip


def _target(url: str, allow: _Allow) -> _Target:
    _, netloc, host, port = _split(url)
    ip = _literal(host, "[" in netloc)
    target = _Target(host, ip, port)
    if allow.has_name(host) or (ip is not None and allow.has_ip(ip)):
        return target
    if ip is None and (host in _FORBIDDEN_NAMES or host.endswith(".localhost")):
        raise UnsafeURLError(f"host {host} is a local name")
    if ip is not None and (reason := unsafe_reason(ip)) is not None:
        if ip.version == 6:
            raise UnsafeURLError(f"host [{host}] is {reason}")
        if host == str(ip):
            raise UnsafeURLError(f"host {host} is {reason}")
        raise UnsafeURLError(f"host {host} is {ip}, {reason}")
    return target


def check_url(url: str, *, allow: Sequence[str] = ()) -> str:
    """``url`` unchanged when it may be registered; else UnsafeURLError naming what is wrong.

    Only the URL's text is checked (no DNS). A name that resolves inside is caught at send time
    by :func:`resolve_and_check`.
    """
    _target(url, _Allow.parse(allow))
    return url


def resolve_and_check(
    url: str, *, allow: Sequence[str] = (), resolver: Resolver = socket.getaddrinfo,
) -> list[str]:
    """The addresses to connect to for ``url``, each checked; UnsafeURLError if any is internal.

    One internal address among public ones refuses the whole URL: a resolver that answers both
    lets an attacker choose which one the connection uses. A failed lookup raises
    HostResolutionError (transient). An IP literal is returned without a lookup.
    """
    rules = _Allow.parse(allow)
    target = _target(url, rules)
    if target.ip is not None:
        return [str(target.ip)]
    try:
        answers = resolver(target.host, target.port)
    except (OSError, UnicodeError) as exc:
        raise HostResolutionError(f"cannot resolve {target.host}: {exc}") from None
    addresses: list[str] = []
    for *_, sockaddr in answers:
        text = sockaddr[0] if sockaddr else None
        if not isinstance(text, str):
            raise UnsafeURLError(f"host {target.host} resolved to a non-IP socket address")
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            raise UnsafeURLError(f"host {target.host} resolved to {text!r}, not an IP") from None
        if not (rules.has_name(target.host) or rules.has_ip(ip)):
            reason = unsafe_reason(ip)
            if reason is not None:
                raise UnsafeURLError(f"host {target.host} resolves to {ip}, {reason}")
        if str(ip) not in addresses:
            addresses.append(str(ip))
    if not addresses:
        raise HostResolutionError(f"cannot resolve {target.host}: no addresses")
    return addresses
