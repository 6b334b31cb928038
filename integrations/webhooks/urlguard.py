"""Where a webhook may send: HTTPS to public addresses; plain HTTP only to loopback (tests).

Every address the host resolves to is checked (a name with one private address among public
ones is refused), and the delivery connects to an address checked here, so a DNS answer that
changes between the check and the request cannot point it inside. Private, loopback,
link-local, shared, reserved and multicast addresses are refused unless
VIGIA_WEBHOOK_ALLOW_PRIVATE is on.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written (Host header, TLS server name)
    port: int
    path: str  # path and query
    addresses: tuple[str, ...]  # every resolved address, all of them checked


def _is_loopback_name(host: str) -> bool:
    return host in ("localhost", "localhost.localdomain") or host.endswith(".localhost")


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(ip.is_global) and not ip.is_multicast


def resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeUrl(f"cannot resolve {host!r}: {exc.strerror or exc}") from None
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    if not seen:
        raise UnsafeUrl(f"{host!r} resolves to no address")
    return tuple(seen)


def check_url(url: str, *, allow_private: bool, resolver=resolve) -> Target:
    """The checked target of `url`, or UnsafeUrl saying why it is refused."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeUrl("give the receiver's URL")
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError as exc:  # e.g. an unclosed "[" of an IPv6 literal
        raise UnsafeUrl(f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UnsafeUrl("the URL must start with https:// (http:// only to loopback, for tests)")
    if parts.username or parts.password:
        raise UnsafeUrl("credentials in the URL are not allowed; the signature authenticates")
    if not host:
        raise UnsafeUrl("the URL has no host")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UnsafeUrl("the URL's port is not a number between 0 and 65535") from None
    try:
        addresses = resolver(host, port)
    except UnicodeError:  # an IDNA label too long or empty
        raise UnsafeUrl(f"{host!r} is not a valid host name") from None
    if scheme == "http":
        loopback = _is_loopback_name(host) or all(
            ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses
        )
        if not loopback:
            raise UnsafeUrl("plain http:// is allowed only to loopback (tests); use https://")
    if not allow_private:
        private = [a for a in addresses if not address_is_public(a)]
        if private:
            raise UnsafeUrl(
                f"{host} resolves to a private or reserved address ({private[0]}); refused "
                "unless the operator sets VIGIA_WEBHOOK_ALLOW_PRIVATE"
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)
