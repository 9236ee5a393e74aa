"""PayPal on the gustaffo sandbox's hosted page (000 changelog 1.1.0; the pages are paycert's decision in
specs/gustaffo/openapi.yaml): the button, the approval page, approve and cancel, the `method` the status API
and the webhooks carry, and the fault `wallet-approve-ignored`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin

import httpx
import jsonschema
import pytest

from paycert.webhooks.sink import WebhookSink
from tests.sandbox.test_gustaffo import SPEC_DIR, VISA, Gustaffo, conforms, only_form, returned


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as receiver:
        yield receiver


def to_paypal(gustaffo: Gustaffo, payment: dict[str, Any]) -> str:
    """Press "Pay with PayPal" on the hosted page: the URL of the PayPal approval page it leads to."""
    answer = gustaffo.submit(payment["redirectUrl"], {}, action="paypal")
    assert answer.status_code == 303, answer.text
    return urljoin(str(payment["redirectUrl"]), answer.headers["location"])


def at_paypal(approval_url: str, action: str) -> httpx.Response:
    """Press a button of the PayPal approval page (the one form there, its button named by `action`)."""
    page = httpx.get(approval_url, timeout=10)
    assert page.status_code == 200, page.text
    form = only_form(page)
    assert form.id == "paypal-approval-form"
    assert ("action", action) in form.buttons, form.buttons
    return httpx.post(urljoin(approval_url, form.action), data={"action": action}, timeout=10)


def webhook_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SPEC_DIR / "schemas" / "webhook.json").read_text(encoding="utf-8"))
    return schema


def test_the_hosted_page_offers_paypal_beside_the_card_in_its_one_form(
    faulty_gustaffo: Callable[..., Gustaffo],
) -> None:
    gustaffo = faulty_gustaffo()
    page = httpx.get(gustaffo.created()["redirectUrl"], timeout=10)

    form = only_form(page)
    assert form.id == "gustaffo-payment-form"
    assert form.buttons == [("action", "pay"), ("action", "paypal"), ("action", "cancel")]
    assert 'id="paypal-button"' in page.text
    # The card's pay button stays the form's first: Enter in a card field pays by card, not by PayPal.
    assert page.text.index('id="pay-button"') < page.text.index('id="paypal-button"')


def test_approving_at_paypal_completes_the_payment_with_method_paypal(
    faulty_gustaffo: Callable[..., Gustaffo], sink: WebhookSink
) -> None:
    gustaffo = faulty_gustaffo()
    gustaffo.register(f"{sink.url}/hooks")
    payment = gustaffo.created(30)
    approval = to_paypal(gustaffo, payment)
    assert approval.endswith(f"/checkout/{payment['paymentId']}/paypal")
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "PENDING"  # nothing decided yet

    result = returned(at_paypal(approval, "approve"))

    assert result == {"paymentId": payment["paymentId"], "status": "COMPLETED"}
    status = gustaffo.status(payment["paymentId"]).json()
    assert (status["status"], status["method"]) == ("COMPLETED", "PAYPAL")
    conforms(status, "Payment")
    (hook,) = sink.wait_for(1)
    event = hook.json()
    assert (event["event"], event["data"]["status"], event["data"]["method"]) == (
        "payment.completed",
        "COMPLETED",
        "PAYPAL",
    )
    jsonschema.Draft202012Validator(webhook_schema()).validate(event)
    conforms(event, "WebhookEvent")
    # Paid: the approval page is gone, and the hosted page too.
    assert httpx.get(approval, timeout=10).status_code == 409
    assert httpx.get(payment["redirectUrl"], timeout=10).status_code == 409


def test_cancelling_at_paypal_cancels_the_payment(
    faulty_gustaffo: Callable[..., Gustaffo], sink: WebhookSink
) -> None:
    gustaffo = faulty_gustaffo()
    gustaffo.register(f"{sink.url}/hooks")
    payment = gustaffo.created()

    result = returned(at_paypal(to_paypal(gustaffo, payment), "cancel"))

    assert result == {"paymentId": payment["paymentId"], "status": "CANCELLED"}
    status = gustaffo.status(payment["paymentId"]).json()
    assert (status["status"], status["method"]) == ("CANCELLED", "PAYPAL")
    (hook,) = sink.wait_for(1)
    assert (hook.json()["event"], hook.json()["data"]["method"]) == ("payment.cancelled", "PAYPAL")


def test_a_card_payment_says_card_and_an_unpaid_one_says_no_method(
    faulty_gustaffo: Callable[..., Gustaffo],
) -> None:
    gustaffo = faulty_gustaffo()
    paid, unpaid = gustaffo.created(), gustaffo.created()
    returned(gustaffo.pay(paid, VISA))

    assert gustaffo.status(paid["paymentId"]).json()["method"] == "CARD"
    assert "method" not in gustaffo.status(unpaid["paymentId"]).json()


def test_the_approval_page_needs_a_button_and_an_open_payment(
    faulty_gustaffo: Callable[..., Gustaffo],
) -> None:
    gustaffo = faulty_gustaffo()
    payment = gustaffo.created()
    approval = to_paypal(gustaffo, payment)

    for data in ({}, {"action": "pay"}):
        answer = httpx.post(approval, data=data, timeout=10)
        assert answer.status_code == 400, answer.text
        assert "Approve or Cancel" in answer.text
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "PENDING"
    assert (
        httpx.get(urljoin(approval, "/gustaffo/checkout/pay_unknown/paypal"), timeout=10).status_code == 404
    )
    returned(gustaffo.pay(payment, VISA))
    assert httpx.post(approval, data={"action": "approve"}, timeout=10).status_code == 409
    assert gustaffo.status(payment["paymentId"]).json()["method"] == "CARD"


def test_the_fault_wallet_approve_ignored_sends_the_shopper_back_paid_but_leaves_the_payment_pending(
    faulty_gustaffo: Callable[..., Gustaffo],
) -> None:
    gustaffo = faulty_gustaffo("wallet-approve-ignored")
    payment = gustaffo.created()

    result = returned(at_paypal(to_paypal(gustaffo, payment), "approve"))

    assert result["status"] == "COMPLETED"  # what the shopper is told
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "PENDING"  # what the gateway did
    # Nothing else is touched: a card still pays, and a cancel at PayPal still cancels.
    returned(gustaffo.pay(payment, VISA))
    assert gustaffo.status(payment["paymentId"]).json()["status"] == "COMPLETED"
    other = gustaffo.created()
    assert returned(at_paypal(to_paypal(gustaffo, other), "cancel"))["status"] == "CANCELLED"
    assert gustaffo.status(other["paymentId"]).json()["status"] == "CANCELLED"
