"""The outbox's HTTP client: one POST at a time per kept-alive connection, HTTP/1.1, nothing else.

Why not httpx here: sending a webhook through `httpx.AsyncClient` cost the sandbox 0.55 ms of CPU, more than
the payment request that caused it (a txservices debit with a callback: 1.3 ms, of which 0.75 ms the callback),
while a request written on an asyncio connection and its answer read by httptools (uvicorn's own parser,
installed with `uvicorn[standard]`) costs 0.06 ms. The outbox needs little of httpx: POST a rendered body, read
the status and the start of the answer, keep connections alive, time out. The library keeps httpx.

What it keeps of httpx's behaviour, because the outbox and its readers depend on it:
- the egress rule (egress.py): a host off this machine is refused before any look-up or connection, with
  `EgressRefusedError`;
- failures are httpx's exception types (`ConnectError`, `ConnectTimeout`, `ReadTimeout`, `RemoteProtocolError`,
  `UnsupportedProtocol`, ...), so the outbox records them as it did ("timeout", "ConnectError: ...");
- the TLS context it is given (the outbox's, as httpx had it), with the host name checked;
- a timeout that is httpx's per phase: connecting, and then waiting for the receiver (reset by every byte that
  arrives), each at most `timeout`;
- the answer's text as httpx decodes it (the charset of its Content-Type, else UTF-8 with replacement).

It does not follow redirects (httpx did not either) and asks for no compression.
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import cast

import httptools
import httpx

from paycert.sandbox.egress import Egress

# Only the start of an answer is kept (the outbox logs 2 000 characters of it); bytes beyond this are read and
# dropped, so a receiver answering megabytes cannot fill the sandbox's memory.
KEPT_BODY_BYTES = 16 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
_FRAMING = frozenset({"host", "content-length", "transfer-encoding", "connection"})
# What httpx sent when a renderer did not say otherwise (less its Accept-Encoding: answers stay uncompressed).
_DEFAULT_HEADERS = (("accept", "Accept: */*"), ("connection", "Connection: keep-alive"))


@dataclass(frozen=True)
class Answer:
    status_code: int
    text: str  # the start of the answer's body, decoded


def _charset(content_type: str | None) -> str:
    """The answer's charset as httpx reads it: the Content-Type's `charset` if Python knows it, else UTF-8."""
    if content_type:
        for part in content_type.split(";")[1:]:
            name, _, value = part.partition("=")
            if name.strip().lower() == "charset":
                charset = value.strip().strip("'\"")
                try:
                    codecs.lookup(charset)
                except LookupError:
                    break
                return charset
    return "utf-8"


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection; `exchange` writes a request and waits for its whole answer."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[Answer] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timeout = 0.0
        self._body: list[bytes] = []
        self._body_size = 0
        self._content_type: str | None = None
        # An answer with neither Content-Length nor chunked ends when the connection does.
        self._read_to_close = True
        self._headers_done = False
        self._received = False
        self._keep_alive = False
        self.closed = False

    # -- asyncio.Protocol -----------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's does not derive from asyncio.Transport, hence no isinstance check).
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            self.close()  # bytes nobody asked for: the connection cannot be trusted with another request
            return
        self._received = True
        self._arm_timer()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"invalid HTTP answer: {exc}"))

    def eof_received(self) -> bool | None:
        return None  # close our side too; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_timer()
        if self._waiter is None or self._waiter.done():
            return
        if self._headers_done and self._read_to_close:
            self._complete()  # the body of this answer was everything up to the close
        elif not self._received:
            self._fail(httpx.RemoteProtocolError("Server disconnected without sending a response."))
        else:
            self._fail(
                httpx.RemoteProtocolError("peer closed connection without sending complete message body")
            )

    # -- httptools callbacks --------------------------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered == b"content-type":
            self._content_type = value.decode("latin-1")
        elif lowered in (b"content-length", b"transfer-encoding"):
            self._read_to_close = False

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        if self._body_size < KEPT_BODY_BYTES:
            self._body.append(body)
        self._body_size += len(body)

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # an interim answer (100 Continue): the real one follows
            self._reset_answer()
            return
        self._keep_alive = self._parser.should_keep_alive()  # read now: the parser forgets it once past
        self._complete()

    # -- the exchange ---------------------------------------------------------------------------------------
    async def exchange(self, request: bytes, timeout: float) -> Answer:
        assert self._transport is not None
        if self.closed:  # closed by the receiver between connecting and now: nothing would ever answer
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        self._waiter = asyncio.get_running_loop().create_future()
        self._reset_answer()
        self._received = False
        self._keep_alive = False  # an answer read to the close is the connection's last
        self._timeout = timeout
        self._transport.write(request)
        self._arm_timer()
        try:
            answer = await self._waiter
        except BaseException:  # failed, timed out or cancelled: never reuse a connection mid-exchange
            self.close()
            raise
        finally:
            self._waiter = None
            self._cancel_timer()
        if not self._keep_alive:
            self.close()
        return answer

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def _reset_answer(self) -> None:
        self._body = []
        self._body_size = 0
        self._content_type = None
        self._read_to_close = True
        self._headers_done = False

    def _complete(self) -> None:
        if self._waiter is None or self._waiter.done():
            return
        body = b"".join(self._body)[:KEPT_BODY_BYTES]
        text = body.decode(_charset(self._content_type), errors="replace")
        self._waiter.set_result(Answer(self._parser.get_status_code(), text))

    def _fail(self, error: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)

    def _arm_timer(self) -> None:
        """The receiver has `timeout` seconds after the request was written, and after each byte it sends."""
        self._cancel_timer()
        self._timer = asyncio.get_running_loop().call_later(self._timeout, self._time_out)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _time_out(self) -> None:
        self._timer = None
        self._fail(httpx.ReadTimeout("timed out waiting for the receiver's answer"))


class WebhookClient:
    """Sends POSTs to loopback (and allowed) hosts over kept-alive connections.

    The caller bounds how many requests a client has in flight (the outbox gives each lane a few); idle
    connections beyond `max_idle` are closed, the oldest first.
    """

    def __init__(self, egress: Egress, tls: ssl.SSLContext, max_idle: int) -> None:
        self._egress = egress
        self._tls = tls
        self._max_idle = max_idle
        self._idle: list[tuple[tuple[str, str, int], _Connection]] = []

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Answer:
        target = _parse(url)
        self._egress.check(target.origin[1])
        request = _request_head(target, headers, len(body)) + body
        connection = self._take(target.origin) or await self._connect(target.origin, timeout)
        answer = await connection.exchange(request, timeout)
        if not connection.closed:
            self._keep(target.origin, connection)
        return answer

    async def aclose(self) -> None:
        for _, connection in self._idle:
            connection.close()
        self._idle.clear()

    async def __aenter__(self) -> WebhookClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def _take(self, origin: tuple[str, str, int]) -> _Connection | None:
        for index in range(len(self._idle) - 1, -1, -1):  # the most recently used first: the likeliest alive
            kept_origin, connection = self._idle[index]
            if connection.closed:
                del self._idle[index]
            elif kept_origin == origin:
                del self._idle[index]
                return connection
        return None

    def _keep(self, origin: tuple[str, str, int], connection: _Connection) -> None:
        self._idle.append((origin, connection))
        while len(self._idle) > self._max_idle:
            _, oldest = self._idle.pop(0)
            oldest.close()

    async def _connect(self, origin: tuple[str, str, int], timeout: float) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        tls = self._tls if scheme == "https" else None
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(
                    _Connection, host, port, ssl=tls, server_hostname=host if tls else None
                ),
                timeout,
            )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"timed out connecting to {host}:{port}") from exc
        except OSError as exc:  # refused, unreachable, no such name, TLS refused (ssl.SSLError is an OSError)
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return connection


@dataclass(frozen=True)
class _Target:
    origin: tuple[str, str, int]  # scheme, host, port
    request_line: str  # the request line and Host header


@functools.lru_cache(maxsize=256)
def _parse(url: str) -> _Target:
    """The URL as httpx parses it (the same URLs pass, the same fail), once per URL: a sandbox sends to a few
    receivers many times, and parsing is a third of the client's own cost."""
    parsed = httpx.URL(url)
    scheme, host = parsed.scheme, parsed.host
    if scheme not in _DEFAULT_PORTS:
        raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme}://'.")
    if not host:
        raise httpx.UnsupportedProtocol("Request URL is missing an 'http://' or 'https://' protocol.")
    return _Target(
        origin=(scheme, host, parsed.port or _DEFAULT_PORTS[scheme]),
        request_line=f"POST {parsed.raw_path.decode('ascii')} HTTP/1.1\r\nHost: {parsed.netloc.decode('ascii')}",
    )


def _request_head(target: _Target, headers: Mapping[str, str], length: int) -> bytes:
    lines = [target.request_line, f"Content-Length: {length}"]
    given: set[str] = set()
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in _FRAMING:
            continue  # framing is ours to say
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
            raise httpx.LocalProtocolError(f"illegal header {name!r}")
        given.add(lowered)
        lines.append(f"{name}: {value}")
    lines.extend(line for lowered, line in _DEFAULT_HEADERS if lowered not in given)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def lanes_of(
    count: int, egress_hosts: Iterable[str], tls: ssl.SSLContext, max_idle: int
) -> list[WebhookClient]:
    """`count` clients sharing one egress rule and one TLS context."""
    egress = Egress(egress_hosts)
    return [WebhookClient(egress, tls, max_idle) for _ in range(count)]
