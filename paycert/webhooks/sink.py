"""A local webhook receiver: a real HTTP server on loopback that records what a gateway sends.

It can be told to fail the next deliveries (answer an error status, hold the request past the sender's
timeout, or close the connection without any answer) so a test can prove the sender retries. It is built on
the standard library's threading HTTP server because that gives direct control of the socket: "drop" really
closes the connection with no HTTP response, which a framework would not let us do.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

from paycert.webhooks.serving import ServerThread

__all__ = ["Delivery", "FailureMode", "WebhookSink"]

FailureMode = Literal["status", "timeout", "drop"]
_MODES: tuple[str, ...] = ("status", "timeout", "drop")
# A webhook larger than this is not a webhook; refusing it keeps a broken sender from filling memory.
MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Delivery:
    """One request the sink received, and how it answered: "200", "500", ..., "timeout" or "drop"."""

    path: str
    method: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    received_at: float
    answer: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class _Failure:
    mode: FailureMode
    status: int
    # Only deliveries this accepts are failed (e.g. the webhooks of one payment); None: any delivery.
    match: Callable[[Delivery], bool] | None = None


class _Server(ThreadingHTTPServer):
    # Handler threads must never keep the process (or stop()) waiting.
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], sink: WebhookSink) -> None:
        self.sink = sink
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        sink = self.server.sink
        body = self._read_body()
        if body is None:
            return
        received = Delivery(
            path=self.path,
            method=self.command,
            headers={name.lower(): value for name, value in self._header_items()},
            body=body,
            received_at=time.time(),
            answer="",
        )
        failure = sink._take_failure(received)
        if failure is None:
            answer = str(sink.ok_status)
        elif failure.mode == "status":
            answer = str(failure.status)
        else:
            answer = failure.mode
        sink._record(dataclasses.replace(received, answer=answer))
        if failure is not None and failure.mode == "timeout":
            # Hold the request unanswered; stop() sets the event so a held request never delays shutdown.
            sink._released.wait(sink.hold_seconds)
            self._drop()
        elif failure is not None and failure.mode == "drop":
            self._drop()
        else:
            self._answer(int(answer), {"received": failure is None})

    def _header_items(self) -> list[tuple[str, str]]:
        merged: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return list(merged.items())

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._answer(413, {"error": "body too large"})
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:  # bounded: every chunk adds to `total`, capped below
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                self._answer(413, {"error": "body too large"})
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _answer(self, status: int, document: dict[str, Any]) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        self.close_connection = True

    def _drop(self) -> None:
        # Close without a single byte of HTTP response: the sender sees the connection end mid-exchange.
        self.close_connection = True
        # The client may already be gone (it timed out): then there is nothing left to close.
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    do_POST = do_PUT = do_GET = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        # Webhook bodies may hold card data; the sink never logs them (or anything) to stderr.
        return


class WebhookSink:
    """`with WebhookSink() as sink: ...; sink.wait_for(1)` - receives webhooks on a free loopback port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ok_status: int = 200,
        hold_seconds: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.ok_status = ok_status
        self.hold_seconds = hold_seconds
        self._changed = threading.Condition()
        self._deliveries: list[Delivery] = []
        self._failures: deque[_Failure] = deque()
        self._released = threading.Event()
        self._server: _Server | None = None
        self._thread: ServerThread | None = None

    # -- life cycle -------------------------------------------------------------------------------------

    def start(self) -> WebhookSink:
        if self._server is not None:
            return self
        self._released.clear()
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = ServerThread(self._server, f"webhook-sink-{self.port}").start()
        return self

    def stop(self) -> None:
        thread = self._thread
        if thread is None:
            return
        self._released.set()
        thread.stop()
        self._server = self._thread = None

    def __enter__(self) -> WebhookSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the webhook sink is not started; call start() or use it as a context manager")
        return f"http://{self.host}:{self.port}"

    # -- behaviour --------------------------------------------------------------------------------------

    def fail_next(
        self,
        n: int,
        mode: FailureMode = "status",
        status: int = 500,
        match: Callable[[Delivery], bool] | None = None,
    ) -> None:
        """Make the next `n` requests fail: answer `status`, hold them unanswered, or drop the connection.

        With `match`, only requests it accepts count (and fail); others are answered normally.
        """
        if n < 0:
            raise ValueError("fail_next needs n >= 0")
        if mode not in _MODES:
            raise ValueError(f"unknown failure mode {mode!r}; use one of {', '.join(_MODES)}")
        with self._changed:
            self._failures.extend(_Failure(mode, status, match) for _ in range(n))

    @property
    def deliveries(self) -> list[Delivery]:
        with self._changed:
            return list(self._deliveries)

    def wait_for(
        self,
        count: int = 1,
        timeout: float = 10.0,
        predicate: Callable[[Delivery], bool] | None = None,
    ) -> list[Delivery]:
        """The matching deliveries once at least `count` have arrived; TimeoutError after `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:  # bounded by the deadline: every pass either returns, raises or waits for the rest
                matching = [d for d in self._deliveries if predicate is None or predicate(d)]
                if len(matching) >= count:
                    return matching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    what = "matching deliveries" if predicate is not None else "deliveries"
                    raise TimeoutError(
                        f"webhook sink: expected at least {count} {what} within {timeout:g}s, "
                        f"saw {len(matching)} ({len(self._deliveries)} received in total)"
                    )
                self._changed.wait(remaining)  # woken by `_record` on every arrival

    def wait_for_more(self, than: int, timeout: float) -> int:
        """Block until more than `than` deliveries are recorded or `timeout` s pass; the count by then.

        Woken by the handler thread that records a delivery, so a waiter sees an arrival at once instead of
        on its next poll.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._deliveries) <= than:  # bounded by the deadline
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return len(self._deliveries)

    def clear(self) -> None:
        """Forget recorded deliveries and pending failures."""
        with self._changed:
            self._deliveries.clear()
            self._failures.clear()

    # -- called from handler threads --------------------------------------------------------------------

    def _take_failure(self, delivery: Delivery) -> _Failure | None:
        with self._changed:
            for failure in self._failures:
                if failure.match is None or failure.match(delivery):
                    self._failures.remove(failure)
                    return failure
            return None

    def _record(self, delivery: Delivery) -> None:
        with self._changed:
            self._deliveries.append(delivery)
            self._changed.notify_all()
