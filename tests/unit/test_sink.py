"""The webhook sink is a real loopback server: it records, and fails on demand in each of its three ways."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from paycert.webhooks.sink import WebhookSink


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink(hold_seconds=5.0) as running:
        yield running


def test_a_delivery_is_captured_with_lower_case_headers(sink: WebhookSink) -> None:
    assert sink.url.startswith("http://127.0.0.1:")
    response = httpx.post(
        f"{sink.url}/hooks/gustaffo?x=1",
        content=b'{"paymentId":"p1"}',
        headers={"X-Signature": "abc", "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    (delivery,) = sink.wait_for(1, timeout=2.0)
    assert delivery.path == "/hooks/gustaffo?x=1"
    assert delivery.method == "POST"
    assert delivery.headers["x-signature"] == "abc"
    assert delivery.json() == {"paymentId": "p1"}
    assert delivery.answer == "200"
    assert delivery.received_at == pytest.approx(time.time(), abs=5)


def test_put_and_get_are_recorded_too(sink: WebhookSink) -> None:
    httpx.put(f"{sink.url}/a", content=b"x")
    httpx.get(f"{sink.url}/b")
    assert [(d.method, d.path, d.body) for d in sink.deliveries] == [("PUT", "/a", b"x"), ("GET", "/b", b"")]


def test_a_chunked_body_is_read_whole(sink: WebhookSink) -> None:
    httpx.post(sink.url, content=iter([b'{"a":', b"1}"]))
    assert sink.wait_for(1, timeout=2.0)[0].json() == {"a": 1}


def test_ok_status_is_configurable() -> None:
    with WebhookSink(ok_status=204) as sink:
        assert httpx.post(sink.url, content=b"{}").status_code == 204
        assert sink.deliveries[0].answer == "204"


def test_fail_next_two_answers_500_twice_then_200(sink: WebhookSink) -> None:
    sink.fail_next(2)
    codes = [httpx.post(sink.url, content=b"{}").status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    assert [d.answer for d in sink.deliveries] == ["500", "500", "200"]


def test_fail_next_with_another_status(sink: WebhookSink) -> None:
    sink.fail_next(1, status=503)
    assert httpx.post(sink.url, content=b"{}").status_code == 503


def test_timeout_mode_makes_the_sender_time_out(sink: WebhookSink) -> None:
    sink.fail_next(1, mode="timeout")
    with pytest.raises(httpx.TimeoutException):
        httpx.post(sink.url, content=b'{"n":1}', timeout=0.5)
    assert sink.wait_for(1, timeout=2.0)[0].answer == "timeout"
    assert httpx.post(sink.url, content=b"{}", timeout=2.0).status_code == 200


def test_drop_mode_closes_the_connection_without_a_response(sink: WebhookSink) -> None:
    sink.fail_next(1, mode="drop")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ConnectError, httpx.ReadError)):
        httpx.post(sink.url, content=b"{}", timeout=2.0)
    assert [d.answer for d in sink.deliveries] == ["drop"]
    assert httpx.post(sink.url, content=b"{}", timeout=2.0).status_code == 200


def test_wait_for_times_out_cleanly_and_says_what_it_saw(sink: WebhookSink) -> None:
    httpx.post(sink.url, content=b"{}")
    with pytest.raises(TimeoutError, match=r"at least 2 deliveries within 0.3s, saw 1"):
        sink.wait_for(2, timeout=0.3)


def test_wait_for_filters_with_a_predicate_and_wakes_on_arrival(sink: WebhookSink) -> None:
    def send_later() -> None:
        time.sleep(0.1)
        httpx.post(f"{sink.url}/other", content=b"{}")
        httpx.post(f"{sink.url}/wanted", content=b"{}")

    sender = threading.Thread(target=send_later)
    sender.start()
    found = sink.wait_for(1, timeout=3.0, predicate=lambda d: d.path == "/wanted")
    sender.join(timeout=3.0)
    assert [d.path for d in found] == ["/wanted"]
    with pytest.raises(TimeoutError, match="matching deliveries"):
        sink.wait_for(2, timeout=0.1, predicate=lambda d: d.path == "/wanted")


def test_clear_forgets_deliveries_and_pending_failures(sink: WebhookSink) -> None:
    sink.fail_next(3)
    httpx.post(sink.url, content=b"{}")
    sink.clear()
    assert sink.deliveries == []
    assert httpx.post(sink.url, content=b"{}").status_code == 200


def test_deliveries_is_a_snapshot(sink: WebhookSink) -> None:
    httpx.post(sink.url, content=b"{}")
    snapshot = sink.deliveries
    snapshot.clear()
    assert len(sink.deliveries) == 1


def test_stop_is_fast_even_while_a_request_is_held() -> None:
    sink = WebhookSink(hold_seconds=30.0).start()
    sink.fail_next(1, mode="timeout")
    errors: list[Exception] = []

    def send() -> None:
        try:
            httpx.post(sink.url, content=b"{}", timeout=10.0)
        except httpx.HTTPError as exc:
            errors.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    sink.wait_for(1, timeout=2.0)
    sink.stop()  # must not wait out the 30 s hold: the sender is released well before that
    sender.join(timeout=5.0)
    assert not sender.is_alive()
    assert len(errors) == 1  # released by stop(), the held request ends without an answer
    with pytest.raises(RuntimeError, match="not started"):
        _ = sink.url


def test_fail_next_rejects_an_unknown_mode(sink: WebhookSink) -> None:
    with pytest.raises(ValueError, match="unknown failure mode"):
        sink.fail_next(1, mode="explode")  # type: ignore[arg-type]


def test_a_waiter_is_woken_by_an_arrival_and_told_how_many_came(sink: WebhookSink) -> None:
    seen: list[int] = []
    waiter = threading.Thread(target=lambda: seen.append(sink.wait_for_more(0, timeout=30)))
    waiter.start()
    httpx.post(f"{sink.url}/gw", content=b"{}")
    waiter.join(timeout=30)
    assert seen == [1]
    assert sink.wait_for_more(5, timeout=0) == 1  # nothing more: the count by the deadline
