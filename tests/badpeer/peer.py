"""A misbehaving peer: a raw asyncio HTTP server on 127.0.0.1 whose first path segment says how it misbehaves.

`http://127.0.0.1:PORT/<behaviour>/...` — a target's base URL or a spec URL picks its behaviour by name. It
is written on sockets, not on a web framework, because half of the behaviours are not HTTP at all (garbage
bytes, a reset, headers dripped a byte at a time) and a framework would refuse to send them.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Writer = asyncio.StreamWriter
Behaviour = Callable[[str, str, Writer], Awaitable[None]]

DRIP_INTERVAL_SECONDS = 0.2
HUGE_CHUNK = b"[" + b"0," * 32767 + b"0]"  # 64 KiB of JSON-looking bytes, sent for ever


def _response(status: str, content_type: str, body: bytes, extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        f"{extra}Connection: close\r\n\r\n"
    )
    return head.encode() + body


async def _send(writer: Writer, data: bytes) -> None:
    writer.write(data)
    await writer.drain()


async def garbage(method: str, path: str, writer: Writer) -> None:
    await _send(writer, b"\x00\xff\xfe SSH-2.0-not-http \x80\x81\r\n\r\n\x00\x00")


async def hang(method: str, path: str, writer: Writer) -> None:
    await asyncio.Event().wait()  # until the peer stops


async def drip(method: str, path: str, writer: Writer) -> None:
    """A status line and headers that never end, one byte at a time: no read ever waits long."""
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Drip: ":
        await _send(writer, bytes([byte]))
        await asyncio.sleep(DRIP_INTERVAL_SECONDS)
    while True:
        await _send(writer, b"z")
        await asyncio.sleep(DRIP_INTERVAL_SECONDS)


async def server_error(method: str, path: str, writer: Writer) -> None:
    body = json.dumps({"error": "internal", "message": "something broke"}).encode()
    await _send(writer, _response("500 Internal Server Error", "application/json", body))


async def bad_json(method: str, path: str, writer: Writer) -> None:
    await _send(writer, _response("200 OK", "application/json", b'{"access_token": "abc12'))


async def html(method: str, path: str, writer: Writer) -> None:
    page = b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>"
    await _send(writer, _response("200 OK", "text/html; charset=utf-8", page))


async def huge(method: str, path: str, writer: Writer) -> None:
    """A chunked JSON body that never ends (no Content-Length to refuse it by)."""
    await _send(
        writer, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = f"{len(HUGE_CHUNK):x}\r\n".encode() + HUGE_CHUNK + b"\r\n"
    while True:
        await _send(writer, chunk)


async def reset(method: str, path: str, writer: Writer) -> None:
    sock: socket.socket = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
    writer.transport.abort()


async def redirect_loop(method: str, path: str, writer: Writer) -> None:
    await _send(writer, _response("302 Found", "text/plain", b"", f"Location: {path}\r\n"))


async def stalls(method: str, path: str, writer: Writer) -> None:
    """A token, then nothing: every other call is left unanswered (the run's deadline must end it)."""
    if path.endswith("/oauth/token"):
        body = json.dumps({"access_token": "stall-token", "token_type": "Bearer", "expires_in": 3600})
        await _send(writer, _response("200 OK", "application/json", body.encode()))
    elif len([part for part in path.split("/") if part]) <= 2:  # /stalls/<gateway>/: the base URL itself
        await _send(writer, _response("404 Not Found", "text/plain", b"not here"))
    else:
        await hang(method, path, writer)


BEHAVIOURS: dict[str, Behaviour] = {
    "garbage": garbage,
    "hang": hang,
    "drip": drip,
    "500": server_error,
    "bad-json": bad_json,
    "html": html,
    "huge": huge,
    "reset": reset,
    "redirect-loop": redirect_loop,
    "stalls": stalls,
}


@dataclass
class BadPeer:
    """The peer, served from a thread of its own; use as a context manager."""

    port: int = 0
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _thread: threading.Thread | None = None
    _server: asyncio.Server | None = None

    def url(self, behaviour: str) -> str:
        assert behaviour in BEHAVIOURS, behaviour
        return f"http://127.0.0.1:{self.port}/{behaviour}"

    def __enter__(self) -> BadPeer:
        started = threading.Event()

        async def serve() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
            started.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="bad-peer", daemon=True)
        self._thread.start()
        assert started.wait(10), "the bad peer did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            if length:
                await reader.readexactly(length)
            behaviour = BEHAVIOURS.get(path.split("/")[1].split("?")[0], server_error)
            await behaviour(method, path, writer)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass  # the client gave up first: that is what it should do with this peer
        except asyncio.CancelledError:
            pass  # the peer is stopping; ending normally spares asyncio's "exception never retrieved" noise
        finally:
            writer.close()
