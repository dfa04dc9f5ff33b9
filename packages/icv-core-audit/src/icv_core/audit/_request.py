"""What the audit trail takes from a request: client IP, user agent, request id.

One resolver is shared by the middleware, :func:`~icv_core.audit.services.log_event`,
``@audited`` and the auth handlers, so the same request always gives the same
stored values. Every setting is read at use.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from icv_core.audit._text import safe_text
from icv_core.audit.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: At most this many right-most entries of a forwarding header are looked at,
#: so a header of thousands of hops costs no more than a short one.
MAX_FORWARDED_HOPS = 32
#: Longest textual IP (IPv6 with an embedded IPv4 is 45 characters) plus a port.
_MAX_TOKEN = 64

_REQUEST_ID = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}\Z")
_PORT_V4 = re.compile(r"\A(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}\Z")
_BRACKETED_V6 = re.compile(r"\A\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?\Z")


def parse_ip(value: object) -> IPAddress | None:
    """The address in ``value``, or None for anything that is not one.

    Accepts ``a.b.c.d``, IPv6, ``a.b.c.d:port`` and ``[v6]:port`` (some
    proxies append the port). IPv4-mapped IPv6 addresses are unmapped to
    IPv4. Zone ids (``fe80::1%eth0``), hostnames, ``unknown``, RFC 7239
    obfuscated identifiers and every other token give None.
    """
    if not isinstance(value, str):
        return None
    token = value.strip()
    if not token or len(token) > _MAX_TOKEN:
        return None
    match = _PORT_V4.match(token) or _BRACKETED_V6.match(token)
    if match:
        token = match.group(1)
    if "%" in token:
        return None
    try:
        address = ipaddress.ip_address(token)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=32)
def _networks(spec: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    networks = []
    for item in spec:
        try:
            networks.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"ICV_CORE_AUDIT_TRUSTED_PROXIES: {item!r} is not an IP address "
                "or network."
            ) from None
    return tuple(networks)


def trusted_networks() -> tuple[IPNetwork, ...]:
    """The networks of ``ICV_CORE_AUDIT_TRUSTED_PROXIES`` (read at use)."""
    spec = settings.AUDIT_TRUSTED_PROXIES or ()
    if isinstance(spec, str):
        spec = [spec]
    return _networks(tuple(str(item) for item in spec))


def _is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(
        address.version == network.version and address in network
        for network in networks
    )


def _forwarded_hops(meta: Mapping[str, Any]) -> list[str]:
    header = meta.get(settings.AUDIT_IP_HEADER)
    if not isinstance(header, str) or not header:
        return []
    # rsplit with a bound: only the right-most hops matter, and the work stays
    # bounded however long the (client-controlled) left part is.
    return header.rsplit(",", MAX_FORWARDED_HOPS)[-MAX_FORWARDED_HOPS:]


def client_ip(meta: Mapping[str, Any]) -> str | None:
    """The client address of a request, by the trusted-proxy rules.

    * No trusted proxy configured (the default): ``REMOTE_ADDR``. Forwarding
      headers are ignored, because any client can send them.
    * ``ICV_CORE_AUDIT_TRUSTED_PROXIES`` (addresses or CIDR networks): if the
      immediate peer (``REMOTE_ADDR``) is trusted, the forwarding header
      (``ICV_CORE_AUDIT_IP_HEADER``) is read from the right, skipping trusted
      proxies; the first untrusted hop is the client. Entries left of it are
      client-supplied and never used.
    * ``ICV_CORE_AUDIT_TRUSTED_PROXY_COUNT = N`` (used when no proxy list is
      set): the N-th entry from the right, when the header has at least N
      entries; otherwise ``REMOTE_ADDR``.

    An invalid address where the client should be gives None: it is never
    stored and never skipped over (skipping would let a client choose).
    """
    remote = parse_ip(meta.get("REMOTE_ADDR"))
    networks = trusted_networks()
    if networks:
        if remote is None or not _is_trusted(remote, networks):
            return None if remote is None else str(remote)
        hops = _forwarded_hops(meta)
        candidate: IPAddress | None = remote
        for raw in reversed(hops):
            address = parse_ip(raw)
            if address is None:
                return None
            candidate = address
            if not _is_trusted(address, networks):
                return str(address)
        # Every hop is a trusted proxy: the left-most one is where it started.
        return str(candidate)
    count = settings.AUDIT_TRUSTED_PROXY_COUNT or 0
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ImproperlyConfigured(
            "ICV_CORE_AUDIT_TRUSTED_PROXY_COUNT must be a non-negative integer."
        )
    if count:
        hops = _forwarded_hops(meta)
        if len(hops) >= count and count <= MAX_FORWARDED_HOPS:
            address = parse_ip(hops[-count])
            return None if address is None else str(address)
    return None if remote is None else str(remote)


def user_agent(meta: Mapping[str, Any]) -> str:
    """The ``User-Agent`` header, control characters escaped, length bounded."""
    return safe_text(
        meta.get("HTTP_USER_AGENT") or "", settings.AUDIT_MAX_USER_AGENT_LENGTH
    )


def request_id(meta: Mapping[str, Any]) -> str:
    """The request id from ``ICV_CORE_AUDIT_REQUEST_ID_HEADER`` when it is a
    well-formed token (letters, digits, ``._:-``, at most 64 characters),
    otherwise a new random one (32 hex digits)."""
    header = settings.AUDIT_REQUEST_ID_HEADER
    value = meta.get(header) if header else None
    if isinstance(value, str) and _REQUEST_ID.match(value.strip()):
        return value.strip()
    return uuid.uuid4().hex


def request_values(request: Any) -> dict[str, Any]:
    """IP, user agent and request id of ``request``, computed once per request."""
    cached = getattr(request, "_icv_audit_values", None)
    if cached is not None:
        return cached
    meta = getattr(request, "META", None) or {}
    values = {
        "ip_address": client_ip(meta),
        "user_agent": user_agent(meta),
        "request_id": request_id(meta),
    }
    try:
        request._icv_audit_values = values
    except AttributeError:  # pragma: no cover - objects with __slots__
        pass
    return values
