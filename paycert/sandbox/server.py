"""Serving the sandbox with uvicorn: in the foreground (`paycert sandbox`) or in a thread (runs, tests)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import uvicorn

from paycert.sandbox.app import create_app
from paycert.sandbox.config import SandboxConfig
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
        uv_config = uvicorn.Config(
            create_app(config),
            log_level=log_level,
            access_log=False,
            ssl_certfile=str(self.certificate.cert_file) if self.certificate else None,
            ssl_keyfile=str(self.certificate.key_file) if self.certificate else None,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(uv_config)
        self._thread: threading.Thread | None = None

    @property
    def ca_file(self) -> Path | None:
        return self.certificate.ca_file if self.certificate else None

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C)."""
        self._server.run(sockets=[self._sock])

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
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
