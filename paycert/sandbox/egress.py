"""Where the sandbox may send its own requests (webhooks, the merchant's status reads): this machine only.

The sandbox delivers webhooks to whatever URL a payment names, and generated contract tests name URLs such as
`https://88.com`. A reference sandbox must never reach a host on the network because a fuzzer wrote its name,
so every outgoing request passes `Egress.check`, which refuses, before any DNS look-up or connection, every
host that is not a loopback address or `localhost` (or one the operator allowed by name with
`paycert sandbox --webhook-host`): in `EgressGuard`, the transport of every httpx client the sandbox makes, and
in the outbox's own client (webhook_client.py). A refusal reaches the caller as an `httpx.ConnectError`, which
the outbox records as a failed attempt like any receiver that cannot be reached.
"""

from __future__ import annotations

import functools
import importlib.util
import ipaddress
import ssl
import sys
from collections.abc import Iterable

import httpx

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})
_HTTPX_DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)  # as httpx has it


def is_loopback_host(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; no name is resolved to decide."""
    name = host.strip("[]").lower().rstrip(".")
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class EgressRefusedError(httpx.ConnectError):
    """The sandbox refused to send a request off this machine."""


class Egress:
    """The rule: loopback hosts, and the hosts allowed by name."""

    def __init__(self, allowed_hosts: Iterable[str] = ()) -> None:
        self._allowed = frozenset(h.lower() for h in allowed_hosts)

    def allows(self, host: str) -> bool:
        return is_loopback_host(host) or host.lower() in self._allowed

    def check(self, host: str, request: httpx.Request | None = None) -> None:
        """Raise EgressRefusedError unless `host` is allowed."""
        if not self.allows(host):
            raise EgressRefusedError(
                f"refused: {host} is not on this machine (the sandbox sends only to loopback addresses)",
                request=request,
            )


class EgressGuard(httpx.AsyncBaseTransport):
    """An httpx transport that sends only to loopback (and explicitly allowed) hosts."""

    def __init__(self, transport: httpx.AsyncBaseTransport, allowed_hosts: Iterable[str] = ()) -> None:
        self._transport = transport
        self._egress = Egress(allowed_hosts)

    def allows(self, host: str) -> bool:
        return self._egress.allows(host)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._egress.check(request.url.host, request)
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self._transport.aclose()


def _fail_sniffio_imports_at_once() -> None:
    """httpcore imports `sniffio` on every pooled async request and, where it is not installed (anyio 4.11
    stopped bringing it), pays a failed import each time: a walk of sys.path, about 1 ms, the largest cost of
    sending a webhook (encode/httpcore#1103). A None in sys.modules is the documented way to make an import
    fail at once; it is recorded only when sniffio is absent, so nothing changes where it is installed."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def _shared(verify: ssl.SSLContext | str | bool) -> ssl.SSLContext | bool:
    """The sandbox's one context per CA file (and one for the system trust): httpx builds a new one, parsing
    the bundle, for every client given a path or True, and the merchant opens a client per request (issue 15:
    81 contexts per run). The sandbox may not import the library's factory (paycert.core.tls is allowed, but
    the sandbox keeps its egress rules in this one module), so it has its own cache."""
    if isinstance(verify, str):
        return _context(verify)
    return _context(None) if verify is True else verify


@functools.lru_cache(maxsize=8)
def _context(ca_file: str | None) -> ssl.SSLContext:
    # httpx's own default for True (certifi, or SSL_CERT_FILE); a path as httpx would read it, without its
    # deprecation warning for `verify=<str>`.
    return ssl.create_default_context(cafile=ca_file) if ca_file else httpx.create_ssl_context()


def guarded_client(
    allowed_hosts: Iterable[str] = (),
    *,
    verify: ssl.SSLContext | str | bool = True,
    timeout: float = 10.0,
    limits: httpx.Limits | None = None,
) -> httpx.AsyncClient:
    """An AsyncClient whose every request passes the egress guard (redirects included: each is a request)."""
    _fail_sniffio_imports_at_once()
    inner = httpx.AsyncHTTPTransport(verify=_shared(verify), limits=limits or _HTTPX_DEFAULT_LIMITS)
    return httpx.AsyncClient(transport=EgressGuard(inner, allowed_hosts), timeout=timeout)
