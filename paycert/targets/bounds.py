"""What a peer may cost a run: a deadline for a whole request (and one for the run), a cap on a body.

httpx's timeouts apply to each socket operation, so a peer that sends a byte every second never trips a
10 s read timeout and holds a run for ever. Here the network streams under httpx take their timeout from
the deadline of the request in progress (a context variable set by `within`), so connecting, the TLS
handshake, sending and every read share one deadline; and a body read past its cap is refused.

Every HTTP client paycert points at a target or a spec URL is made by `bounded_client`. This is the lowest
layer that reads from the network (spec URLs are fetched while a target is loaded), hence its place here.
"""

from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from paycert.core.errors import PaycertError

# Far above any gateway answer or spec paycert has met (the largest vendor spec is ~4 MB); a body beyond it
# is a misbehaving peer, and reading it would only fill memory and the report.
MAX_BODY_BYTES = 32 * 1024 * 1024

_DEADLINE: ContextVar[float | None] = ContextVar("paycert_request_deadline", default=None)


class OutOfTime(PaycertError):
    """The run's own deadline (`--max-duration`) passed: what is left is not evaluated."""


class BodyTooLarge(PaycertError):
    """A peer's body is over the cap; refused, not read."""


@dataclass(frozen=True)
class Deadline:
    """A moment (on the monotonic clock) something must end by, and what set it, for the message."""

    at: float
    what: str

    @classmethod
    def after(cls, seconds: float, what: str) -> Deadline:
        return cls(time.monotonic() + seconds, what)

    def remaining(self) -> float:
        return self.at - time.monotonic()

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Every byte sent or read by bounded clients in this block, redirects and retries included, by then."""
    outer = _DEADLINE.get()
    at = time.monotonic() + max(seconds, 0.0)
    token = _DEADLINE.set(at if outer is None else min(at, outer))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def bounded_client(
    *,
    verify: ssl.SSLContext | bool = True,
    follow_redirects: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> httpx.Client:
    """An httpx client whose I/O keeps to the deadline of `within` and refuses bodies over the cap.

    httpx's own timeout stays as the bound on each operation for calls made outside `within`.
    """
    return httpx.Client(
        transport=_BoundedTransport(verify, max_body_bytes),
        follow_redirects=follow_redirects,
        timeout=httpx.Timeout(60.0),
    )


def _bounded(timeout: float | None, error: type[httpcore.TimeoutException]) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the deadline of the request passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout))
        return _Stream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


# httpcore's errors as the httpx ones every caller catches (httpx maps them the same way, privately).
_HTTPX_ERRORS: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore.ProxyError: httpx.ProxyError,
}


_HTTPCORE_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpcore.ProxyError,
)


@contextlib.contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except _HTTPCORE_ERRORS as exc:
        mapped = next((_HTTPX_ERRORS[c] for c in type(exc).__mro__ if c in _HTTPX_ERRORS), None)
        if mapped is None:
            mapped = (
                httpx.TimeoutException if isinstance(exc, httpcore.TimeoutException) else httpx.TransportError
            )
        raise mapped(str(exc) or type(exc).__name__) from exc


class _Body(httpx.SyncByteStream):
    """The response body as it arrives, refused once it passes the cap."""

    def __init__(self, inner: Iterable[bytes], cap: int, url: str) -> None:
        self._inner = inner
        self._cap = cap
        self._url = url

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        with _as_httpx_errors():
            for chunk in self._inner:
                seen += len(chunk)
                if seen > self._cap:
                    raise BodyTooLarge(f"{self._url} sent a body over {_size(self._cap)}; refused")
                yield chunk

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


class _BoundedTransport(httpx.BaseTransport):
    def __init__(self, verify: ssl.SSLContext | bool, max_body_bytes: int) -> None:
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        self._pool = httpcore.ConnectionPool(ssl_context=context, network_backend=_Backend())
        self._cap = max_body_bytes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        url = str(request.url.copy_with(query=None))
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            answer = self._pool.handle_request(core)
        length = _content_length(answer.headers)
        if length is not None and length > self._cap:
            answer.close()
            raise BodyTooLarge(f"{url} announced a body of {_size(length)}, over {_size(self._cap)}; refused")
        assert isinstance(answer.stream, Iterable)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_Body(answer.stream, self._cap, url),
            extensions=answer.extensions,
        )

    def close(self) -> None:
        self._pool.close()


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            with contextlib.suppress(ValueError):
                return int(value)
    return None


def _size(count: int) -> str:
    mib = count / (1024 * 1024)
    return f"{mib:.0f} MiB" if mib >= 1 else f"{count} bytes"
