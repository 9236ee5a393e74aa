"""Real uvicorn servers on loopback for the probe tests: HTTPS with a chosen certificate and TLS floor,
or plain HTTP with a chosen answer."""

from __future__ import annotations

import socket
import ssl
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import trustme
import uvicorn
from starlette.types import Receive, Scope, Send

Answer = tuple[int, dict[str, str]]


def _app(answer: Answer) -> Callable[[Scope, Receive, Send], object]:
    status, headers = answer

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        raw = [(k.encode(), v.encode()) for k, v in headers.items()] + [(b"content-length", b"2")]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


@contextmanager
def serving(
    answer: Answer = (200, {}),
    *,
    certificate: trustme.LeafCert | None = None,
    legacy: bool = False,
) -> Iterator[str]:
    """A uvicorn server on a free loopback port; yields its base URL (https:// when given a certificate).

    `legacy`: it also accepts TLS 1.0 and 1.1 (security level 0); otherwise its floor is TLS 1.2.
    """

    def tls_context(_: uvicorn.Config, __: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        assert certificate is not None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        certificate.configure_cert(context)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1 if legacy else ssl.TLSVersion.TLSv1_2
        if legacy:
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        return context

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        _app(answer),
        log_level="warning",
        lifespan="off",
        ssl_context_factory=tls_context if certificate is not None else None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"{'https' if certificate is not None else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: a connection to it is refused, and nobody else takes it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()
