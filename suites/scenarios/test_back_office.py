"""Back-office operations: refund, capture, void, recurring, tokens, payouts — where the gateway has them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from paycert.core import PaymentState
from paycert.gateways.client import ApiResult
from paycert.plugin.checkout import Checkout

AMOUNT = Decimal("20.00")
STEP = Decimal("0.01")  # how far the over-refund and over-capture probes exceed what was taken


def refused(result: ApiResult) -> bool:
    return 400 <= result.status < 500


@pytest.mark.criterion("OPS-REFUND")
def test_a_refund_is_limited_to_the_captured_amount_and_made_once(checkout: Checkout) -> None:
    checkout.client.require("refund")
    # On a live target the probe above the payment must still be within the cap, or it would be capped to
    # the payment's own amount and a correct gateway would be blamed for accepting it.
    amount = checkout.client.below_cap(AMOUNT, STEP)
    paid = checkout.pay("COMPLETED", amount=amount)
    assert checkout.status(paid.payment) is PaymentState.COMPLETED, "the payment to refund did not complete"

    too_much = checkout.client.follow_up("refund", paid.payment, amount + STEP)
    assert refused(too_much), f"a refund above the captured amount was accepted (HTTP {too_much.status})"
    full = checkout.client.follow_up("refund", paid.payment, amount)
    assert full.ok, f"a full refund was refused (HTTP {full.status})"
    assert checkout.status(paid.payment) is PaymentState.REFUNDED, (
        f"after a full refund: {paid.payment.vendor_status!r} ({paid.payment.state}, "
        f"refunded {paid.payment.refunded})"
    )
    if checkout.client.reads("get_payment", "refunded_amount"):
        assert paid.payment.refunded == amount, (
            f"after a full refund of {amount} the status API says {paid.payment.refunded} was refunded"
        )
    twice = checkout.client.follow_up("refund", paid.payment, amount)
    assert refused(twice), f"the same payment was refunded twice (HTTP {twice.status})"


@pytest.mark.criterion("OPS-CAPTURE")
def test_an_authorization_is_captured_up_to_the_authorized_amount(checkout: Checkout) -> None:
    checkout.client.require("capture")
    amount = checkout.client.below_cap(AMOUNT, STEP)  # the probe above it stays within a live cap
    held = checkout.card_operation("authorize", amount=amount)
    assert checkout.status(held) is PaymentState.AUTHORIZED, f"the preauthorization is {held.vendor_status!r}"

    too_much = checkout.client.follow_up("capture", held, amount + STEP)
    assert refused(too_much), f"a capture above the authorized amount was accepted (HTTP {too_much.status})"
    captured = checkout.client.follow_up("capture", held, amount)
    assert captured.ok, f"capturing the authorized amount was refused (HTTP {captured.status})"
    assert checkout.status(held) is PaymentState.COMPLETED, f"after the capture: {held.vendor_status!r}"


@pytest.mark.criterion("OPS-VOID")
def test_an_authorization_can_be_voided_in_full(checkout: Checkout) -> None:
    checkout.client.require("void")
    held = checkout.card_operation("authorize", amount=AMOUNT)
    assert checkout.status(held) is PaymentState.AUTHORIZED, f"the preauthorization is {held.vendor_status!r}"

    voided = checkout.client.follow_up("void", held)
    assert voided.ok, f"voiding the authorization was refused (HTTP {voided.status})"
    assert checkout.status(held) is PaymentState.VOIDED, (
        f"after the void the status API says {held.vendor_status!r}"
    )
    late = checkout.client.follow_up("capture", held, AMOUNT) if checkout.client.offers("capture") else None
    assert late is None or refused(late), "a voided authorization could still be captured"


@pytest.mark.criterion("OPS-RECURRING")
def test_repeated_payments_are_charged_by_the_initial_payments_id(checkout: Checkout) -> None:
    checkout.client.require("recurring_repeat")
    initial = checkout.card_operation("recurring_initial", amount=AMOUNT)
    assert checkout.status(initial) is PaymentState.COMPLETED, (
        f"the initial payment is {initial.vendor_status!r}"
    )

    repeated = checkout.client.follow_up("recurring_repeat", initial, "5.00")
    assert repeated.ok, f"a repeated payment on the initial one was refused (HTTP {repeated.status})"
    assert repeated.get("payment_id") not in (None, initial.id), "the repeated payment has no id of its own"
    assert checkout.state_in(repeated) is PaymentState.COMPLETED, (
        f"the repeated payment is {repeated.get('status')!r}"
    )
    orphan = checkout.client.follow_up(
        "recurring_repeat", initial, "5.00", parent_id="paycert-no-such-payment"
    )
    assert refused(orphan) or orphan.status == 404, (
        f"a repeated payment without a parent was accepted ({orphan.status})"
    )


@pytest.mark.criterion("OPS-TOKEN")
def test_a_tokenized_card_is_charged_by_its_token(checkout: Checkout) -> None:
    checkout.client.require("pay_with_token")
    tokenized = checkout.operation_with("tokenize")
    assert tokenized.ok, f"tokenizing the card was refused (HTTP {tokenized.status})"
    token = tokenized.get("token")
    assert token, "the tokenization answer carries no token"

    charged = checkout.operation_with("pay_with_token", token=token)
    assert charged.ok, f"paying with the token was refused (HTTP {charged.status})"
    assert checkout.state_in(charged) is PaymentState.COMPLETED, (
        f"the token payment is {charged.get('status')!r}"
    )
    forged = checkout.operation_with("pay_with_token", token="paycert-no-such-token")
    assert refused(forged) or forged.status == 404, (
        f"a payment with an unknown token was accepted ({forged.status})"
    )


@pytest.mark.criterion("OPS-PAYOUT")
def test_a_payout_to_a_card_succeeds(checkout: Checkout) -> None:
    paid_out = checkout.operation_with("payout", amount="15.00")

    assert paid_out.ok, f"the payout was refused (HTTP {paid_out.status})"
    assert checkout.state_in(paid_out) is PaymentState.COMPLETED, f"the payout is {paid_out.get('status')!r}"
