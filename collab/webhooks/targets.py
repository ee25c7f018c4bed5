"""Where webhooks may be sent: never into the server's own networks (SSRF).

A subscription's URL is refused when its host resolves to a loopback, private, link-local,
multicast, reserved or otherwise non-global address (IPv4 and IPv6, IPv4-mapped IPv6 by the
IPv4 it carries), unless `WEBHOOK_ALLOW_PRIVATE_TARGETS` is on (development and tests, with a
receiver on localhost). DNS can change after the check, so the sender checks again on every
connection it opens (redirects included) and connects to the very address it checked.
"""
import http.client
import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit

from flask import current_app


class RefusedTarget(OSError):
    """The target resolves to an address webhooks may not reach."""


def private_targets_allowed() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE_TARGETS", False))


def refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified or not ip.is_global)


def _resolve(host: str, port: int) -> list[tuple]:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def check_url(url: str) -> str | None:
    """Why the URL may not be a webhook target (None when it may)."""
    if private_targets_allowed():
        return None
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = {info[4][0] for info in _resolve(parts.hostname, port)}
    except (OSError, ValueError, UnicodeError):
        return "The host does not resolve."
    if not addresses:
        return "The host does not resolve."
    if any(refused_address(address) for address in addresses):
        return ("The host resolves to a loopback, private, link-local, multicast or reserved "
                "address; webhooks are sent to public addresses only.")
    return None


def _guarded_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None,
                        *args, **kwargs):
    """socket.create_connection that refuses, and never connects to, a non-public address."""
    host, port = address
    infos = _resolve(host, port)
    for info in infos:
        if refused_address(info[4][0]):
            raise RefusedTarget(f"{host} resolves to a non-public address ({info[4][0]})")
    error = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)  # the address just checked, not a second lookup
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError(f"{host} does not resolve")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connection


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connection


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, request):
        return self.do_open(_GuardedHTTPConnection, request)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, request):
        return self.do_open(_GuardedHTTPSConnection, request, context=self._context)


# No proxy: the check is about the receiver's address, which a proxy would hide.
_guarded_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                              _GuardedHTTPHandler, _GuardedHTTPSHandler)


def open_url(request: urllib.request.Request, timeout: float):
    """urlopen, guarded unless private targets are allowed."""
    if private_targets_allowed():
        return urllib.request.urlopen(request, timeout=timeout)
    return _guarded_opener.open(request, timeout=timeout)
