"""The `slow-api` fault: every gateway API answer starts 300 ms late; the hosted page and the control API do not
(the delay is a lower bound, so only "at least" is asserted of what it slows)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from paycert.sandbox.slow_api import DELAY_SECONDS
from tests.conftest import StartSandbox
from tests.sandbox.test_gustaffo import Gustaffo


def _seconds(call: Callable[[], httpx.Response]) -> float:
    """The fastest of three: one slow answer on a busy machine does not make a page look delayed."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        answer = call()
        times.append(time.perf_counter() - started)
        assert answer.status_code < 500
    return min(times)


def test_slow_api_delays_api_answers_but_not_pages_or_controls(start_sandbox: StartSandbox) -> None:
    server = start_sandbox("slow-api")
    gustaffo = Gustaffo(server.base_url)
    payment = gustaffo.created()

    assert (
        _seconds(lambda: gustaffo.http.get(f"/api/v1/payments/{payment['paymentId']}", headers=gustaffo.auth))
        >= DELAY_SECONDS
    )
    assert _seconds(lambda: gustaffo.token_response("x", "y")) >= DELAY_SECONDS  # errors too
    assert _seconds(lambda: httpx.get(payment["redirectUrl"])) < DELAY_SECONDS
    assert _seconds(lambda: httpx.get(f"{server.base_url}/_sandbox/health")) < DELAY_SECONDS
