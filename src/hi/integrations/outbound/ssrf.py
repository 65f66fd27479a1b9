"""Guards for outbound calls to operator-supplied URLs: no internal, loopback or cloud-metadata targets."""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any
from urllib.parse import urlsplit

import idna
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ..core.errors import UnresolvableHost, UnsafeURL

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK = ipaddress.ip_address("127.0.0.1")
#: Instance metadata services hand out cloud credentials: refused even inside an allowed network.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "168.63.129.16", "100.100.100.200")
)
SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT: neither private nor global
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: a site's own translator
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.goog"})
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?", re.ASCII)
_NUMERIC = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*", re.ASCII)


#: The allow-list setting, and its older name (from when only webhooks were guarded), still read.
SETTING = "HI_OUTBOUND_ALLOWED_NETWORKS"
LEGACY_SETTING = "HI_WEBHOOK_ALLOWED_NETWORKS"


def _entries(raw: Any) -> list[str]:
    """A setting's entries, from a list or a comma-separated string."""
    return [str(e).strip() for e in (raw.split(",") if isinstance(raw, str) else list(raw or []))]


def allowed_networks() -> list[Network]:
    """The networks in HI_OUTBOUND_ALLOWED_NETWORKS (and the older HI_WEBHOOK_ALLOWED_NETWORKS)."""
    # Inside them, internal addresses and plain http are allowed for every operator-given URL.
    networks = []
    for name in (SETTING, LEGACY_SETTING):
        for entry in _entries(getattr(settings, name, [])):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry))
            except ValueError as exc:
                raise ImproperlyConfigured(
                    f"{name}: {entry!r} is not a network in CIDR form like 10.0.0.0/8 ({exc})"
                ) from None
    return networks


def _embedded_ipv4(ip: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (IPv4-mapped, 6to4, NAT64), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _is_metadata(ip: Address) -> bool:
    """Whether `ip` is a metadata service, directly or wrapped in an IPv6 address."""
    return ip in METADATA or _embedded_ipv4(ip) in METADATA


def blocked_reason(ip: Address) -> str | None:
    """Why calling `ip` is refused (ignoring the allow-list), or None for a public address."""
    if ip in METADATA:
        return "a cloud metadata service"
    inner = _embedded_ipv4(ip)
    if inner is not None:
        reason = blocked_reason(inner)
        return f"an IPv6 address wrapping {reason}" if reason else None
    checks = (
        (ip.is_loopback, "a loopback address"),
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip in SHARED or ip in LOCAL_NAT64, "a shared (carrier-grade NAT) address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "a non-public address"),
    )
    return next((reason for hit, reason in checks if hit), None)


def _allowed(ip: Address, networks: list[Network]) -> bool:
    """Whether an allowed network holds `ip` (an IPv4-mapped address counts as its IPv4 address)."""
    candidates = [ip] + ([ip.ipv4_mapped] if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else [])
    return any(c in net for c in candidates for net in networks if c.version == net.version)


def _parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address of an IPv4 host in any form resolvers accept (127.1, 0x7f.1, 2130706433, 0177.0.0.1)."""
    # The rule is the WHATWG URL standard's: a host whose last label is a number is an IPv4 address.
    parts = host.removesuffix(".").split(".")
    if not _NUMERIC.fullmatch(parts[-1]):
        return None
    numbers = []
    for part in parts:
        if len(parts) > 4 or not _NUMERIC.fullmatch(part):
            raise UnsafeURL(f"{host!r} looks like an IPv4 address but is not a valid one")
        if part[:2].lower() == "0x":
            numbers.append(int(part[2:] or "0", 16))
        else:
            numbers.append(int(part, 8) if len(part) > 1 and part[0] == "0" else int(part))
    last_limit = 256 ** (5 - len(numbers))
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= last_limit:
        raise UnsafeURL(f"{host!r} is out of range for an IPv4 address")
    value = numbers[-1] + sum(n << (8 * (3 - i)) for i, n in enumerate(numbers[:-1]))
    return ipaddress.IPv4Address(value)


def _host(raw: str) -> tuple[str, Address | None]:
    """The host as an ASCII name or a literal address."""
    try:
        return raw, ipaddress.ip_address(raw)  # IPv6 arrives here without its brackets
    except ValueError:
        pass
    if ":" in raw:
        raise UnsafeURL(f"{raw!r} is not a valid IPv6 address")
    try:
        # As requests does (IDNA 2008 with UTS 46 mapping): fullwidth "ｌocalhost" is "localhost".
        name = idna.encode(raw, uts46=True).decode("ascii") if not raw.isascii() else raw.lower()
    except idna.IDNAError:
        raise UnsafeURL(f"{raw!r} is not a valid host name") from None
    ip = _parse_ipv4(name)
    if ip is not None:
        return name, ip
    labels = name.removesuffix(".").split(".")
    if len(name) > 254 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UnsafeURL(f"{raw!r} is not a valid host name")
    return name, None


def _resolve(name: str, port: int) -> list[Address]:
    """Every address `name` resolves to."""
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHost(f"the host {name} cannot be resolved ({exc})") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))
    if not addresses:
        raise UnresolvableHost(f"the host {name} resolves to no address")
    return addresses


def _refuse_blocked(host: str, addresses: list[Address], networks: list[Network]) -> None:
    """Raise UnsafeURL for the first blocked address outside the allowed networks (metadata always)."""
    for ip in addresses:
        reason = blocked_reason(ip)
        if reason and (_is_metadata(ip) or not _allowed(ip, networks)):
            allow = "" if _is_metadata(ip) else f"; {SETTING} can allow it"
            raise UnsafeURL(f"{host} is {reason} ({ip}){allow}")


def _split(url: str) -> tuple[str, str, int | None]:
    """The scheme, host and port of an operator-given URL; UnsafeURL for anything a parser could read two ways."""
    if not isinstance(url, str) or _UNSAFE_CHARS.search(url):
        raise UnsafeURL("the URL contains spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"the URL is not valid ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL(f"only http and https URLs are allowed, not {parts.scheme or 'a URL without a scheme'}")
    if "@" in parts.netloc:
        raise UnsafeURL("the URL must not contain a user name or password; put credentials in the headers")
    if not parts.hostname:
        raise UnsafeURL("the URL has no host")
    return parts.scheme, parts.hostname, port


def check_url(url: str, *, resolve: bool) -> list[Address]:
    """Raise UnsafeURL unless `url` is a safe target; return the addresses checked, for the caller to pin."""
    # `resolve=False` is the offline check (a form): names are not looked up and the list is empty unless the
    # host is a literal address. `resolve=True` looks the name up and checks every address it has.
    scheme, host, port = _split(url)
    return check_target(scheme, host, port, resolve=resolve)


def check_target(scheme: str, host: str, port: int | None, *, resolve: bool) -> list[Address]:
    """check_url for a connection about to be made: `host` is a name or a literal address (IPv6 with or without brackets)."""
    # With `resolve`, the addresses returned are the only ones the caller may connect to.
    if scheme not in ("http", "https"):
        raise UnsafeURL(f"only http and https URLs are allowed, not {scheme or 'a URL without a scheme'}")
    raw = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not raw:
        raise UnsafeURL("the URL has no host")
    name, literal = _host(raw)
    bare = name.removesuffix(".")
    if bare in METADATA_NAMES:
        raise UnsafeURL(f"{bare} is a cloud metadata service")
    networks = allowed_networks()
    local = bare == "localhost" or bare.endswith(".localhost")
    # RFC 6761 §6.3: localhost names are loopback, and are looked up as "localhost" (the hosts file), never in DNS.
    implied = [literal] if literal is not None else [LOOPBACK] if local else []
    _refuse_blocked(raw, implied, networks)
    resolved = []
    if resolve and literal is None:
        resolved = _resolve("localhost" if local else name, port or (443 if scheme == "https" else 80))
        _refuse_blocked(raw, resolved, networks)
    known = implied + resolved
    if scheme == "http" and not settings.DEBUG:
        if not known or not all(_allowed(ip, networks) for ip in known):
            raise UnsafeURL(f"the URL must use https (plain http only reaches {SETTING})")
    return [literal] if literal is not None else resolved
