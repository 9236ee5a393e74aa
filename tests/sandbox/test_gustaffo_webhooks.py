"""The gustaffo sandbox's webhooks: registration, SHA-256(secret + body) signatures, routing, retries, faults.

A real WebhookSink on loopback receives what the sandbox sends; the sandbox clock makes retries due.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jsonschema
import pytest

from paycert.sandbox.gateways.gustaffo import CREDENTIALS
from paycert.webhooks.signatures import get_scheme
from paycert.webhooks.sink import Delivery, WebhookSink
from tests.conftest import StartSandbox
from tests.sandbox.test_gustaffo import (
    SPEC_DIR,
    VISA,
    Gustaffo,
    conforms,
    paid_payment,
    returned,
)


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as receiver:
        yield receiver


@pytest.fixture
def fresh(start_sandbox: StartSandbox) -> Iterator[Gustaffo]:
    """A sandbox of the test's own: its webhook registrations reach only this test's sink."""
    client = Gustaffo(start_sandbox().base_url)
    yield client
    client.http.close()


def settled_outbox(
    gustaffo: Gustaffo, until: Callable[[dict[str, Any]], bool] | None = None, timeout: float = 5.0
) -> list[dict[str, Any]]:
    """The sandbox's outbox once every delivery satisfies `until` (default: none is still pending)."""
    done = until or (lambda d: d["state"] != "pending")
    deadline = time.monotonic() + timeout
    while True:
        outbox: list[dict[str, Any]] = httpx.get(
            f"{gustaffo.sandbox}/_sandbox/outbox", params={"gateway": "gustaffo"}, timeout=10
        ).json()
        if all(done(d) for d in outbox) or time.monotonic() > deadline:
            return outbox
        time.sleep(0.05)


def signature_check(delivery: Delivery, secret: str) -> bool:
    return get_scheme("sha256-secret-body").verify(secret, delivery.body, delivery.headers).ok


def test_success_end_to_end_with_return_and_signed_webhook(fresh: Gustaffo, sink: WebhookSink) -> None:
    gustaffo = fresh
    registration = gustaffo.register(f"{sink.url}/hooks/gustaffo")
    assert registration["secret"].startswith("whsec_")
    payment = gustaffo.created(42.1, returnUrl=f"{sink.url}/return?cart=7")

    answer = gustaffo.pay(payment, VISA)
    result = returned(answer, merchant=f"{sink.url}/return")
    assert result == {"paymentId": payment["paymentId"], "status": "COMPLETED"}
    assert httpx.get(answer.headers["location"], timeout=10).status_code == 200  # the browser lands there
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "COMPLETED"

    (hook,) = sink.wait_for(1, predicate=lambda d: d.method == "POST")
    assert hook.path == "/hooks/gustaffo"
    assert (
        hook.headers["x-signature"] == hashlib.sha256(registration["secret"].encode() + hook.body).hexdigest()
    )
    assert signature_check(hook, registration["secret"])
    event = hook.json()
    assert event["event"] == "payment.completed"
    assert hook.headers["x-webhook-id"] == event["id"]
    assert event["data"]["paymentId"] == payment["paymentId"]
    assert event["data"]["status"] == "COMPLETED"
    assert event["data"]["amount"] == 42.1
    gets = [d for d in sink.deliveries if d.method == "GET"]
    assert [d.path for d in gets] == [f"/return?cart=7&paymentId={payment['paymentId']}&status=COMPLETED"]


def test_webhooks_go_only_to_registrations_of_that_event(fresh: Gustaffo, sink: WebhookSink) -> None:
    gustaffo = fresh
    gustaffo.register(f"{sink.url}/failed-only", ["payment.failed"])
    gustaffo.register(f"{sink.url}/all")
    payment = gustaffo.created()
    returned(gustaffo.pay(payment, VISA, expiry="01/23"))
    deliveries = sink.wait_for(2)
    assert sorted(d.path for d in deliveries) == ["/all", "/failed-only"]
    assert {d.json()["event"] for d in deliveries} == {"payment.failed"}
    # One event: the same id to every receiver.
    assert len({d.headers["x-webhook-id"] for d in deliveries}) == 1


def test_refund_and_cancel_and_expiry_are_announced(fresh: Gustaffo, sink: WebhookSink) -> None:
    gustaffo = fresh
    events = ["payment.completed", "payment.cancelled", "payment.refunded", "payment.expired"]
    gustaffo.register(sink.url, events)
    paid = paid_payment(gustaffo, 50)
    gustaffo.refund(paid, 20)
    cancelled = gustaffo.created()
    returned(gustaffo.submit(cancelled["redirectUrl"], {}, action="cancel"))
    abandoned = gustaffo.created()
    gustaffo.advance_clock(31 * 60)
    seen = {(d.json()["event"], d.json()["data"]["paymentId"]): d.json() for d in sink.wait_for(4)}
    assert set(seen) == {
        ("payment.completed", paid),
        ("payment.refunded", paid),
        ("payment.cancelled", cancelled["paymentId"]),
        ("payment.expired", abandoned["paymentId"]),
    }
    refunded = seen[("payment.refunded", paid)]["data"]
    assert (refunded["status"], refunded["refundedAmount"]) == ("PARTIALLY_REFUNDED", 20)


def test_a_failed_delivery_is_retried_with_the_same_webhook_id(fresh: Gustaffo, sink: WebhookSink) -> None:
    gustaffo = fresh
    registration = gustaffo.register(sink.url)
    sink.fail_next(1, status=500)
    paid_payment(gustaffo)
    (first,) = sink.wait_for(1)
    assert first.answer == "500"
    # The sink records before it answers: wait until the sandbox has heard the 500 and scheduled the retry.
    assert [d["attempts"] for d in settled_outbox(gustaffo, until=lambda d: d["attempts"] >= 1)] == [1]
    gustaffo.advance_clock(1)  # the first retry is due 1 s later on the sandbox clock
    _, second = sink.wait_for(2)
    assert second.headers["x-webhook-id"] == first.headers["x-webhook-id"]
    assert second.body == first.body
    assert signature_check(second, registration["secret"])
    assert [(d["state"], d["attempts"]) for d in settled_outbox(gustaffo)] == [("delivered", 2)]


def test_webhook_list_hides_secrets_and_delete_stops_deliveries(fresh: Gustaffo, sink: WebhookSink) -> None:
    gustaffo = fresh
    registration = gustaffo.register(sink.url)
    listed = gustaffo.http.get("/api/v1/webhooks", headers=gustaffo.auth).json()["webhooks"]
    assert [w["webhookId"] for w in listed] == [registration["webhookId"]]
    assert "secret" not in listed[0]
    url = f"/api/v1/webhooks/{registration['webhookId']}"
    assert gustaffo.http.delete(url, headers=gustaffo.auth).status_code == 204
    assert gustaffo.http.delete(url, headers=gustaffo.auth).status_code == 404
    paid_payment(gustaffo)
    outbox = httpx.get(f"{gustaffo.sandbox}/_sandbox/outbox", params={"gateway": "gustaffo"}).json()
    assert outbox == []


def test_bad_signature_fault_signs_with_another_secret(
    faulty_gustaffo: Callable[..., Gustaffo], sink: WebhookSink
) -> None:
    gustaffo: Gustaffo = faulty_gustaffo("bad-signature")
    registration = gustaffo.register(sink.url)
    paid_payment(gustaffo)
    (hook,) = sink.wait_for(1)
    assert "x-signature" in hook.headers
    assert not signature_check(hook, registration["secret"])


def test_webhook_drift_fault_drops_the_required_timestamp(
    faulty_gustaffo: Callable[..., Gustaffo], sink: WebhookSink
) -> None:
    gustaffo: Gustaffo = faulty_gustaffo("webhook-drift")
    gustaffo.register(sink.url)
    paid_payment(gustaffo)
    (hook,) = sink.wait_for(1)
    assert "createdAt" not in hook.json()
    event_schema = json.loads((SPEC_DIR / "schemas" / "webhook.json").read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(event_schema).validate(hook.json())


def test_unsigned_webhook_fault_sends_no_signature(
    faulty_gustaffo: Callable[..., Gustaffo], sink: WebhookSink
) -> None:
    gustaffo: Gustaffo = faulty_gustaffo("unsigned-webhook")
    gustaffo.register(sink.url)
    paid_payment(gustaffo)
    (hook,) = sink.wait_for(1)
    assert "x-signature" not in hook.headers
    assert hook.json()["event"] == "payment.completed"


def test_answers_and_webhooks_match_the_spec(fresh: Gustaffo, sink: WebhookSink) -> None:
    gustaffo = fresh
    token = gustaffo.token_response(CREDENTIALS["client_id"], CREDENTIALS["client_secret"]).json()
    conforms(token, "TokenResponse")
    registration = gustaffo.register(sink.url)
    conforms(registration, "WebhookRegistration")
    conforms(gustaffo.http.get("/api/v1/webhooks", headers=gustaffo.auth).json(), "WebhookList")
    created = gustaffo.created(19.99)
    conforms(created, "CreatePaymentResponse")
    returned(gustaffo.pay(created, VISA))
    conforms(gustaffo.status(created["paymentId"]).json(), "Payment")
    conforms(gustaffo.refund(created["paymentId"], 9.99).json(), "Refund")
    conforms(gustaffo.create(0).json(), "Error")
    events = sink.wait_for(2)
    for hook in events:
        conforms(hook.json(), "WebhookEvent")
        event_schema = json.loads((SPEC_DIR / "schemas" / "webhook.json").read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(event_schema).validate(hook.json())
