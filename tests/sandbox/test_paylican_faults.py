"""Each fault that applies to paylican really misbehaves on it. bad-signature, unsigned-webhook and
wrong-return-status do not apply (paylican webhooks carry no signature, its return URL carries no status):
the tests here prove they change nothing."""

from __future__ import annotations

import time

import jsonschema
import pytest

from paycert.webhooks.sink import WebhookSink
from tests.conftest import StartSandbox
from tests.sandbox.test_paylican_support import (
    DECLINED,
    RETURN_URL,
    Paylican,
    attempts_made,
    webhook_schema,
)


def test_wrong_status_reports_a_declined_invoice_as_paid(start_sandbox: StartSandbox) -> None:
    gw = Paylican(start_sandbox("wrong-status").base_url)
    declined = gw.create()
    gw.pays(declined, card=DECLINED)
    cancelled = gw.create()
    gw.cancels(cancelled)
    assert gw.status(declined["invoiceId"])["status"] == "PAID"
    # Only the card the issuer refused is misreported: a cancel (REJECTED) and an open invoice read true.
    assert gw.status(cancelled["invoiceId"])["status"] == "REJECTED"
    assert gw.status(gw.create()["invoiceId"])["status"] == "UNPAID"
    gw.close()


def test_accept_bad_amount_creates_zero_and_negative(start_sandbox: StartSandbox) -> None:
    gw = Paylican(start_sandbox("accept-bad-amount").base_url)
    for amount in (0, -5):
        response = gw.create_response(gw.payment_body(amount=amount))
        assert response.status_code == 200, response.text
        assert gw.status(response.json()["invoiceId"])["totalAmount"] == amount
    gw.close()


def test_no_auth_skips_the_token_but_not_the_token_endpoint(start_sandbox: StartSandbox) -> None:
    gw = Paylican(start_sandbox("no-auth").base_url)
    created = gw.create_response(auth=False)
    assert created.status_code == 200
    assert gw.status_response(created.json()["invoiceId"], auth=False).status_code == 200
    assert gw.token_response(password="wrong").status_code == 401
    gw.close()


def test_schema_drift_renames_the_invoice_id(start_sandbox: StartSandbox) -> None:
    gw = Paylican(start_sandbox("schema-drift").base_url)
    created = gw.create_response().json()
    assert "invoiceId" not in created
    status = gw.status(created["invoiceID"])
    assert "invoiceId" not in status
    assert status["invoiceID"] == created["invoiceID"]
    gw.close()


def _cancel_one(gw: Paylican, sink: WebhookSink) -> dict[str, str]:
    gw.configure_webhook(sink.url)
    payment = gw.create()
    gw.cancels(payment)
    return payment


def test_no_retry_gives_up_after_the_first_failure(start_sandbox: StartSandbox) -> None:
    gw = Paylican(start_sandbox("no-retry").base_url)
    with WebhookSink() as sink:
        sink.fail_next(1, status=500)
        payment = _cancel_one(gw, sink)
        sink.wait_for(1)
        gw.wait_for_invocation(payment["invoiceId"], attempts_made(1, "GAVE_UP"))
        gw.advance(120)
        time.sleep(0.3)
        assert len(sink.deliveries) == 1
    gw.close()


def test_duplicate_webhook_sends_a_delivered_event_twice(start_sandbox: StartSandbox) -> None:
    gw = Paylican(start_sandbox("duplicate-webhook").base_url)
    with WebhookSink() as sink:
        _cancel_one(gw, sink)
        first, second = sink.wait_for(2)
        assert first.json() == second.json()
        assert first.json()["pendingWebhooks"] == 2
    gw.close()


def test_slow_webhook_leaves_late_on_the_test_clock(start_sandbox: StartSandbox) -> None:
    gw = Paylican(start_sandbox("slow-webhook").base_url)
    with WebhookSink() as sink:
        _cancel_one(gw, sink)
        time.sleep(0.3)
        assert sink.deliveries == []
        gw.advance(15)
        assert sink.wait_for(1)[0].json()["type"] == "invoice.payment_rejected"
    gw.close()


def test_signature_faults_do_not_apply_to_unsigned_webhooks(start_sandbox: StartSandbox) -> None:
    gw = Paylican(start_sandbox("bad-signature", "unsigned-webhook").base_url)
    with WebhookSink() as sink:
        _cancel_one(gw, sink)
        (delivery,) = sink.wait_for(1)
        assert not [name for name in delivery.headers if "signature" in name or name.startswith("webhook-")]
    gw.close()


def test_wrong_return_status_does_not_apply_nothing_is_appended(start_sandbox: StartSandbox) -> None:
    gw = Paylican(start_sandbox("wrong-return-status").base_url)
    paid = gw.create()
    declined = gw.create()
    assert gw.pays(paid).headers["location"] == RETURN_URL
    assert gw.pays(declined, card=DECLINED).headers["location"] == RETURN_URL
    assert gw.status(paid["invoiceId"])["status"] == "PAID"
    gw.close()


def test_cancel_ignored_returns_to_the_merchant_but_leaves_the_invoice_unpaid(
    start_sandbox: StartSandbox,
) -> None:
    gw = Paylican(start_sandbox("cancel-ignored").base_url)
    with WebhookSink() as sink:
        payment = _cancel_one(gw, sink)
        assert gw.cancels(payment).headers["location"] == RETURN_URL  # again: the page is still open
        assert gw.status(payment["invoiceId"])["status"] == "UNPAID"
        assert gw.invocations(payment["invoiceId"]) == []  # no invoice.payment_rejected
        # The invoice is still payable, and what it sends then are the payment's own events only.
        gw.pays(payment)
        assert gw.status(payment["invoiceId"])["status"] == "PAID"
        types = [invocation["type"] for invocation in gw.invocations(payment["invoiceId"])]
        assert types == ["invoice.payment_initiated", "invoice.payment_executed"]
        sink.wait_for(2)
    gw.close()


def test_webhook_drift_drops_created_at_and_keeps_the_rest(start_sandbox: StartSandbox) -> None:
    gw = Paylican(start_sandbox("webhook-drift").base_url)
    with WebhookSink() as sink:
        payment = _cancel_one(gw, sink)
        (delivery,) = sink.wait_for(1)
    body = delivery.json()
    assert "createdAt" not in body
    assert (body["type"], body["pendingWebhooks"]) == ("invoice.payment_rejected", 2)
    assert (body["data"]["id"], body["data"]["status"]) == (payment["invoiceId"], "REJECTED")
    with pytest.raises(jsonschema.ValidationError, match="createdAt"):
        webhook_schema()(body)
    gw.close()
