"""The payment scenarios of the source documents: paid, declined, challenged, cancelled, wrong amounts."""

from __future__ import annotations

import pytest

from paycert.core import PaymentState
from paycert.plugin.checkout import Checkout
from paycert.plugin.clock import GatewayTime

COMPLETED = PaymentState.COMPLETED
FAILED = PaymentState.FAILED
CANCELLED = PaymentState.CANCELLED


@pytest.mark.criterion("PAY-SUCCESS")
def test_a_paid_payment_is_completed_on_the_return_url_the_status_api_and_the_webhook(
    checkout: Checkout,
) -> None:
    paid = checkout.pay("COMPLETED")

    if paid.shopper is not None and checkout.profile.return_url.get("status"):
        assert paid.shopper.landed, (
            f"the shopper never came back to the merchant (ended on {paid.shopper.final_url})"
        )
        assert paid.returned_state is COMPLETED, (
            f"the return URL says {paid.returned_status!r}, not completed"
        )
    assert checkout.status(paid.payment) is COMPLETED, f"the status API says {paid.payment.vendor_status!r}"
    webhook = checkout.webhooks(paid.payment).wait_for_state(COMPLETED, timeout=30)
    assert webhook is not None, f"no webhook announced {paid.payment} as completed within 30 s"


@pytest.mark.criterion("PAY-DECLINED")
def test_a_declined_card_ends_failed_everywhere_it_is_reported(
    checkout: Checkout, gateway_time: GatewayTime
) -> None:
    declined = checkout.pay("FAILED")

    if declined.returned_state is not None:
        assert declined.returned_state is FAILED, f"the return URL says {declined.returned_status!r}"
    assert checkout.status(declined.payment) is FAILED, (
        f"the status API says {declined.payment.vendor_status!r}"
    )
    inbox = checkout.webhooks(declined.payment)
    if gateway_time.controllable:
        # A sandbox's outbox says when all it has to send now is sent: every webhook of the payment is seen,
        # and a gateway that sends none for a decline costs no real wait (it cost 15 s).
        gateway_time.settle(checkout.client.id)
        webhook = inbox.events()
    else:
        webhook = inbox.wait(timeout=15)
    states = {e.state for e in webhook}
    assert COMPLETED not in states, "a webhook announced the declined payment as completed"


@pytest.mark.criterion("PAY-3DS")
def test_a_passed_challenge_completes_the_payment(checkout: Checkout) -> None:
    checkout.client.require_challenge()
    challenged = checkout.pay("CHALLENGE")

    assert challenged.challenged, "the challenge card was never asked for its 3-D Secure password"
    assert checkout.status(challenged.payment) is COMPLETED, f"status is {challenged.payment.vendor_status!r}"


@pytest.mark.criterion("PAY-3DS")
def test_a_failed_challenge_fails_the_payment(checkout: Checkout) -> None:
    checkout.client.require_challenge()
    challenged = checkout.pay("CHALLENGE", password="not-the-password")

    assert challenged.challenged, "the challenge card was never asked for its 3-D Secure password"
    assert checkout.status(challenged.payment) is FAILED, (
        f"a wrong 3-D Secure password left the payment {challenged.payment.vendor_status!r}"
    )


@pytest.mark.criterion("PAY-CANCEL")
def test_a_shopper_who_cancels_ends_cancelled(checkout: Checkout) -> None:
    cancelled = checkout.cancel()

    if cancelled.returned_state is not None:
        assert cancelled.returned_state is CANCELLED, f"the return URL says {cancelled.returned_status!r}"
    assert checkout.status(cancelled.payment) is CANCELLED, (
        f"after the shopper cancelled, the status API says {cancelled.payment.vendor_status!r}"
    )


@pytest.mark.criterion("PAY-AMOUNT")
def test_invalid_amounts_are_rejected_with_a_clear_error(checkout: Checkout) -> None:
    rules = checkout.profile.amounts.get("invalid") or [{"amount": 0}, {"amount": -1}]
    _, card = checkout.card_for("COMPLETED")
    for rule in rules:
        attempt = checkout.attempt_create(rule["amount"], card, verbatim=True)
        expected = rule.get("status")
        assert 400 <= attempt.status < 500, f"amount {rule['amount']} was accepted (HTTP {attempt.status})"
        if expected:
            assert attempt.status == expected, (
                f"amount {rule['amount']}: HTTP {attempt.status}, expected {expected}"
            )
        message = rule.get("message")
        if message:
            assert message in attempt.error_text(), (
                f"amount {rule['amount']}: the error does not say {message!r}"
            )
        else:
            assert attempt.error_text().strip(), f"amount {rule['amount']}: rejected without any explanation"
    # The gateway's cap (`amounts.max`) is OPS-CAPS's, in suites/security/test_limits.py.
