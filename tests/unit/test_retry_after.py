"""The HTTP seam honours a 429's Retry-After (bounded), against a real server on loopback that limits once."""

from __future__ import annotations

import time

from starlette.types import Receive, Scope, Send

from paycert.gateways.http import GatewayHttp, Recorder, retry_after_seconds
from paycert.redaction import Redactor
from tests.contract.loopback import serve


class LimitedOnce:
    """429 with Retry-After `retry_after` to the first request, 200 afterwards."""

    def __init__(self, retry_after: str) -> None:
        self.retry_after = retry_after
        self.seen: list[float] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.seen.append(time.monotonic())
        first = len(self.seen) == 1
        headers = [(b"content-type", b"application/json")]
        if first:
            headers.append((b"retry-after", self.retry_after.encode()))
        await send({"type": "http.response.start", "status": 429 if first else 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})


def test_a_429_with_retry_after_is_waited_out_and_sent_again() -> None:
    app = LimitedOnce("1")
    recorder = Recorder(Redactor())
    with serve(app) as url:
        http = GatewayHttp(url, recorder)
        answer = http.send("GET", "/status")
        http.close()

    assert answer.status == 200
    assert len(app.seen) == 2
    assert app.seen[1] - app.seen[0] >= 0.95, "sent again before Retry-After had passed"
    notes = [e for e in recorder.log.to_list() if e["kind"] == "note"]
    assert any("Retry-After 1 s" in n["text"] for n in notes)


def test_a_retry_after_beyond_the_cap_is_the_answer_not_a_wait() -> None:
    app = LimitedOnce("3600")
    with serve(app) as url:
        http = GatewayHttp(url, Recorder(Redactor()))
        started = time.monotonic()
        answer = http.send("GET", "/status")
        http.close()

    assert answer.status == 429
    assert len(app.seen) == 1
    assert time.monotonic() - started < 5


def test_retry_after_is_read_as_seconds_or_a_date() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: no wait
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
