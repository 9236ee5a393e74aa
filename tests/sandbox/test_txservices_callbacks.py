"""txservices callbacks: retries after a failure on the test clock, and the signing faults."""

from __future__ import annotations

import json

from paycert.sandbox import SandboxServer
from paycert.webhooks.signatures import get_scheme
from paycert.webhooks.sink import WebhookSink
from tests.conftest import StartSandbox
from tests.sandbox.test_txservices_support import KEY, VISA, Tx, callback_checksum


def test_a_callback_is_retried_after_a_500(sandbox: SandboxServer) -> None:
    tx = Tx(sandbox.base_url)
    try:
        with WebhookSink() as sink:
            sink.fail_next(1, status=500)
            tx.pay(VISA, notificationUrl=sink.url)
            first = tx.wait_for_attempts(1)
            assert first["state"] == "pending"
            assert first["max_attempts"] == 5
            assert first["schedule"] == [2.0, 4.0, 8.0, 16.0]

            tx.advance(2)

            deliveries = sink.wait_for(2, timeout=5)
            assert [d.answer for d in deliveries] == ["500", "200"]
            retried = deliveries[1].json()
            assert retried == deliveries[0].json() | {
                "checksum": retried["checksum"],
                "timestamp": retried["timestamp"],
            }
            assert retried["checksum"] == callback_checksum(retried)
            assert tx.wait_for_attempts(2)["state"] == "delivered"
    finally:
        tx.close()


def test_fault_bad_signature_signs_with_another_key(start_sandbox: StartSandbox) -> None:
    tx = Tx(start_sandbox("bad-signature").base_url)
    try:
        with WebhookSink() as sink:
            tx.pay(VISA, notificationUrl=sink.url)
            [delivery] = sink.wait_for(1, timeout=5)
        body = delivery.json()
        assert body["checksum"] != callback_checksum(body)
        assert not get_scheme("md5-callback-checksum").verify(KEY, delivery.body, delivery.headers).ok
    finally:
        tx.close()


def test_fault_unsigned_webhook_sends_no_checksum(start_sandbox: StartSandbox) -> None:
    tx = Tx(start_sandbox("unsigned-webhook").base_url)
    try:
        with WebhookSink() as sink:
            payment = tx.pay(VISA, notificationUrl=sink.url)
            [delivery] = sink.wait_for(1, timeout=5)
        body = json.loads(delivery.body)
        assert body["paymentId"] == payment["paymentId"]
        assert "checksum" not in body
    finally:
        tx.close()
