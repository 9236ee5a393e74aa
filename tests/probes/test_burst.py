"""The burst and the second-source-address call against real servers on loopback: bounded, and honest."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from starlette.types import Receive, Scope, Send

from paycert.core.errors import PaycertError
from paycert.probes.burst import BurstRequest, burst
from paycert.probes.source_address import SourceRequest, call_from
from paycert.targets.settings import RateLimitBurst
from tests.contract.loopback import serve


class Counting:
    """An ASGI app that counts requests, answers after `delay` s, and 429 from request `limit_from` on."""

    def __init__(self, delay: float = 0.0, limit_from: int | None = None) -> None:
        self.delay = delay
        self.limit_from = limit_from
        self.count = 0
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        with self._lock:
            self.count += 1
            number = self.count
        if self.delay:
            await asyncio.sleep(self.delay)
        limited = self.limit_from is not None and number >= self.limit_from
        headers = [(b"content-type", b"application/json")] + ([(b"retry-after", b"3")] if limited else [])
        await send({"type": "http.response.start", "status": 429 if limited else 200, "headers": headers})
        await send(
            {"type": "http.response.body", "body": json.dumps({"client": scope["client"][0]}).encode()}
        )


def test_the_burst_never_sends_more_than_max_requests() -> None:
    app = Counting()
    with serve(app) as url:
        outcome = burst(BurstRequest("GET", url + "/status"), RateLimitBurst(30, 10.0, 8))

    assert app.count == 30
    assert outcome.sent == 30
    assert outcome.statuses == {200: 30}
    assert outcome.limited is None


def test_the_burst_stops_by_itself_within_max_seconds() -> None:
    app = Counting(delay=0.2)
    with serve(app) as url:
        started = time.monotonic()
        outcome = burst(BurstRequest("GET", url + "/slow"), RateLimitBurst(10_000, 1.0, 4))
        took = time.monotonic() - started

    assert took < 1.6, f"the burst ran {took:.2f} s past its 1 s bound"
    assert outcome.sent == app.count
    assert app.count <= 4 * (1.0 / 0.2) + 4  # no worker starts a request after the bound


def test_the_burst_stops_at_the_first_429_and_keeps_its_retry_after() -> None:
    app = Counting(limit_from=10)
    with serve(app) as url:
        outcome = burst(BurstRequest("GET", url + "/limited"), RateLimitBurst(200, 10.0, 4))

    assert outcome.limited is not None
    assert outcome.limited.retry_after == "3"
    assert app.count < 10 + 4 + 1, f"{app.count} requests: the burst went on after the 429"


def test_a_call_from_the_probe_address_leaves_from_it() -> None:
    with serve(Counting()) as url:
        answer = call_from("127.0.0.2", SourceRequest("GET", url + "/who"), seconds=5)

    assert answer.status == 200
    assert json.loads(answer.body)["client"] == "127.0.0.2"


def test_a_source_address_the_machine_does_not_have_is_a_one_line_error() -> None:
    with serve(Counting()) as url, pytest.raises(PaycertError, match="no such local address"):
        call_from("192.0.2.123", SourceRequest("GET", url + "/who"), seconds=5)
