"""SEC-HTTPS: what a host does with a request over plain HTTP.

A refused connection, or a redirect to https://, keeps every byte on TLS; anything else it answers over plain
HTTP (a 2xx, a 4xx, a 5xx, a redirect to another http:// URL) means requests travel in clear text.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urljoin, urlsplit

import httpx

from paycert.core.evidence import Exchange
from paycert.probes.one_get import one_get
from paycert.redaction import Redactor

# The probe speaks plain HTTP and follows no redirect, so no TLS handshake ever happens; yet httpx builds an
# SSL context for `verify=True` (loading the whole CA bundle: 25 ms of CPU a probe, far more on a busy
# machine). A context that verifies as strictly but trusts no CA stands in: any TLS would fail, none is used.
_NO_TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class PlainHttp(StrEnum):
    REFUSED = "refused"  # nothing takes a plain-HTTP connection there
    REDIRECTED = "redirected"  # a 3xx to an https:// URL
    SERVED = "served"  # an answer over plain HTTP that is not a redirect to https://
    NO_ANSWER = "no answer"  # connected (or not resolvable) but no HTTP answer: proves nothing


@dataclass(frozen=True)
class PlainHttpProbe:
    url: str
    outcome: PlainHttp
    detail: str
    exchange: Exchange | None = None

    @property
    def kept_on_tls(self) -> bool:
        return self.outcome in (PlainHttp.REFUSED, PlainHttp.REDIRECTED)

    def describe(self) -> str:
        return f"plain HTTP to {self.url}: {self.outcome.value} ({self.detail})"


def probe_plain_http(url: str, *, seconds: float = 10.0, redactor: Redactor | None = None) -> PlainHttpProbe:
    """Send one GET over plain HTTP to `url` (an http:// URL) and judge the answer; redirects are not followed."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"{url} is not an http:// URL")
    safe = redactor or Redactor()
    target = url.rstrip("/") + "/"
    started = time.monotonic()
    try:
        with one_get(target, verify=_NO_TLS, seconds=seconds) as response:
            outcome, detail = _judge(target, response)
            exchange = _exchange(target, response, started, safe)
    except httpx.TransportError as exc:
        outcome, detail = _unanswered(exc, seconds)
        exchange = _exchange(target, None, started, safe, error=f"{outcome.value}: {detail}")
    return PlainHttpProbe(safe.url(target), outcome, safe.text(detail), exchange)


def _judge(url: str, response: httpx.Response) -> tuple[PlainHttp, str]:
    status = response.status_code
    location = response.headers.get("location")
    if 300 <= status < 400 and location:
        absolute = urljoin(url, location)
        if urlsplit(absolute).scheme == "https":
            return PlainHttp.REDIRECTED, f"HTTP {status} to {absolute}"
        return PlainHttp.SERVED, f"HTTP {status} to {absolute}, which is not https://"
    return PlainHttp.SERVED, f"answered HTTP {status} over plain HTTP"


def _unanswered(exc: httpx.TransportError, seconds: float) -> tuple[PlainHttp, str]:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return PlainHttp.REFUSED, "connection refused"
        if isinstance(cause, socket.gaierror):
            return PlainHttp.NO_ANSWER, f"cannot resolve the host ({cause.strerror})"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectTimeout):
        # Nothing accepted the connection (a firewall dropping port 80 looks like this): not served.
        return PlainHttp.REFUSED, f"no connection accepted within {seconds:g} s"
    if isinstance(exc, httpx.ConnectError):
        return PlainHttp.REFUSED, f"connection not accepted ({' '.join(str(exc).split())[:200]})"
    return PlainHttp.NO_ANSWER, f"connected, but no HTTP answer ({type(exc).__name__})"


def _exchange(
    url: str, response: httpx.Response | None, started: float, redactor: Redactor, *, error: str | None = None
) -> Exchange:
    """The plain-HTTP request as evidence; no body is kept, only the status and headers the probe judged."""
    safe_url = redactor.url(url)
    return Exchange(
        method="GET",
        url=safe_url,
        request_headers={"accept": "*/*"},
        request_body=None,
        status=response.status_code if response is not None else None,
        response_headers=redactor.headers(dict(response.headers)) if response is not None else {},
        response_body=None,
        duration_ms=round((time.monotonic() - started) * 1000, 2),
        curl=f"curl -sS -i --max-redirs 0 {safe_url}",
        error=redactor.text(error) if error else None,
        label="SEC-HTTPS: plain HTTP",
    )
