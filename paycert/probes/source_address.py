"""Calling a gateway from a chosen local source address (SEC-IP-ALLOWLIST).

paycert's usual calls leave from whatever address the system picks; this probe binds the client socket to
another one (by default 127.0.0.2: Linux routes all of 127.0.0.0/8 to the loopback interface, so a socket bound
there reaches a server on 127.0.0.1 from an address a loopback allow-list does not hold). One request, bounded
by its own deadline; only status, content type and body come back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpcore
import httpx

from paycert.core.errors import PaycertError
from paycert.core.tls import context_for


@dataclass(frozen=True)
class SourceAnswer:
    """What the gateway answered to a call from `source`, or why there was no answer."""

    source: str
    status: int | None
    content_type: str = ""
    body: str = ""
    error: str = ""

    @property
    def refused(self) -> bool:
        """Refused: 401/403, or the connection refused or reset (a firewall). Not a 404: the usual address
        gets one too for the probe's unknown payment, so it says the call was let in."""
        return self.status in (401, 403) or (self.status is None and bool(self.error))


@dataclass(frozen=True)
class SourceRequest:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    content: bytes | None = field(default=None, repr=False)


def call_from(
    source: str, request: SourceRequest, *, seconds: float = 10.0, verify: bool | str = True
) -> SourceAnswer:
    """Send `request` from local address `source`; the answer, or the transport error in one line."""
    context = context_for(verify) if isinstance(verify, str) else verify  # the shared one (core/tls.py)
    try:
        transport = httpx.HTTPTransport(local_address=source, verify=context, retries=0)
        with httpx.Client(transport=transport, timeout=httpx.Timeout(seconds)) as client:
            answer = client.request(
                request.method, request.url, headers=dict(request.headers), content=request.content
            )
    except httpx.TransportError as exc:
        if _cannot_bind(exc):
            raise PaycertError(f"cannot send from {source}: this machine has no such local address") from None
        return SourceAnswer(source, None, error=f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
    return SourceAnswer(
        source, answer.status_code, answer.headers.get("content-type", ""), answer.text[:2000]
    )


def _cannot_bind(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno == 99:  # EADDRNOTAVAIL
            return True
        if isinstance(cause, httpcore.ConnectError) and "assign requested address" in str(cause):
            return True
        cause = cause.__cause__ or cause.__context__
    return False
