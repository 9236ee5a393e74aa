"""The loopback server thread the webhook sink and the pact state relay run on: it serves until `stop`, which
ends the loop and closes the server (a request already being answered still gets its answer)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from paycert.webhooks.serving import ServerThread


class _Slow(BaseHTTPRequestHandler):
    entered = threading.Event()
    release = threading.Event()

    def log_message(self, *_: Any) -> None:
        return

    def do_GET(self) -> None:
        if self.path == "/slow":
            _Slow.entered.set()
            _Slow.release.wait(10)
        body = self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_it_serves_until_stopped_then_refuses_connections() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = ServerThread(server, "test-serving").start()

    answers = [httpx.get(f"{url}/{n}", timeout=5).text for n in range(3)]
    thread.stop()

    assert answers == ["/0", "/1", "/2"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/after", timeout=5)


def test_a_request_being_answered_when_it_stops_still_gets_its_answer() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = ServerThread(server, "test-serving").start()
    answer: list[str] = []
    client = threading.Thread(target=lambda: answer.append(httpx.get(f"{url}/slow", timeout=10).text))
    client.start()
    assert _Slow.entered.wait(10), "the request never reached the handler"

    thread.stop()
    _Slow.release.set()
    client.join(10)

    assert answer == ["/slow"]
