"""Serving the sandbox with uvicorn: in the foreground (`paycert sandbox`) or in a thread (runs, tests)."""

from __future__ import annotations

import socket
import ssl
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import uvicorn

from paycert.sandbox.app import create_app
from paycert.sandbox.config import SandboxConfig
from paycert.sandbox.faults import Faults
from paycert.sandbox.plain_http import redirect_to_https, serve_over_plain_http
from paycert.sandbox.tls import ServerCertificate, generate


@dataclass(frozen=True)
class Listening:
    base_url: str
    ca_file: Path | None


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class SandboxServer:
    """A real uvicorn server on loopback. `port=0` picks a free port; `base_url` tells which."""

    def __init__(
        self,
        config: SandboxConfig,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        log_level: str = "warning",
    ) -> None:
        self.config = config
        self.host = host
        self._sock = _bind(host, port)
        self.port = int(self._sock.getsockname()[1])
        self.certificate: ServerCertificate | None = generate(config.data_dir / "tls") if tls else None
        scheme = "https" if tls else "http"
        self.base_url = f"{scheme}://{_url_host(host)}:{self.port}"
        legacy = Faults.from_names(config.faults).active("tls-legacy")
        uv_config = uvicorn.Config(
            create_app(config),
            log_level=log_level,
            access_log=False,
            ssl_certfile=str(self.certificate.cert_file) if self.certificate else None,
            ssl_keyfile=str(self.certificate.key_file) if self.certificate else None,
            ssl_context_factory=_tls_context(legacy=legacy) if tls else None,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(uv_config)
        self._thread: threading.Thread | None = None
        # Over HTTPS, a second listener takes plain HTTP on its own loopback port (SEC-HTTPS): it redirects
        # to HTTPS, or with the `plain-http` fault serves the API in clear text.
        self.plain_http: _PlainHttpListener | None = None
        if self.certificate is not None:
            self.plain_http = _PlainHttpListener(
                host,
                self.base_url,
                self.certificate.ca_file,
                serve_api=Faults.from_names(config.faults).active("plain-http"),
                log_level=log_level,
            )

    @property
    def plain_http_url(self) -> str | None:
        """Where plain HTTP reaches this sandbox (over HTTPS only; over HTTP the base URL is already plain)."""
        return self.plain_http.base_url if self.plain_http else None

    @property
    def ca_file(self) -> Path | None:
        return self.certificate.ca_file if self.certificate else None

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C)."""
        if self.plain_http:
            self.plain_http.start()
        try:
            self._server.run(sockets=[self._sock])
        finally:
            if self.plain_http:
                self.plain_http.stop()

    def start(self, timeout: float = 15.0) -> SandboxServer:
        """Serve in a background thread; returns once the server accepts connections."""
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="paycert-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox did not start on {self.base_url}")
            time.sleep(0.02)
        if self.plain_http:
            self.plain_http.start(timeout)
        return self

    def ask_to_stop(self) -> None:
        """Have the server end at its loop's next tick (safe from a signal handler: it only sets a flag)."""
        self._server.should_exit = True

    def stop(self) -> None:
        # Both servers are told first and then waited for: each takes up to a tick of uvicorn's loop (0.1 s)
        # and its shutdown to end, which one after the other cost every run twice.
        self._server.should_exit = True
        if self.plain_http:
            self.plain_http.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _tls_context(*, legacy: bool) -> Callable[[uvicorn.Config, Callable[[], ssl.SSLContext]], ssl.SSLContext]:
    """uvicorn's context made to refuse TLS 1.0 and 1.1, or with the `tls-legacy` fault to accept them."""

    def build(_: uvicorn.Config, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        context = default()
        if not legacy:
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            return context
        with warnings.catch_warnings():
            # Python deprecates accepting TLS 1.0; accepting it is the point of this fault.
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.options &= ~(ssl.OP_NO_TLSv1 | ssl.OP_NO_TLSv1_1)
        # OpenSSL 3 keeps its TLS 1.0/1.1 ciphers (SHA-1 MACs) out below security level 0.
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        return context

    return build


class _PlainHttpListener:
    """A second uvicorn server on its own free loopback port, taking plain HTTP for an HTTPS sandbox."""

    def __init__(
        self, host: str, https_origin: str, ca_file: Path, *, serve_api: bool, log_level: str
    ) -> None:
        self._sock = _bind(host, 0)
        self.base_url = f"http://{_url_host(host)}:{int(self._sock.getsockname()[1])}"
        app = serve_over_plain_http(https_origin, ca_file) if serve_api else redirect_to_https(https_origin)
        config = uvicorn.Config(
            app, log_level=log_level, access_log=False, lifespan="off", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 15.0) -> None:
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="paycert-plain-http", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox's plain-HTTP listener did not start on {self.base_url}")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()
