"""Captures and refunds in part: an authorization captured for less than it holds, a payment refunded in parts,
a refund read back on its own, and a challenged card held through 3-D Secure, then captured."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest

from paycert.core import PaymentState
from paycert.core.errors import NotApplicable
from paycert.gateways.client import ApiResult, Payment
from paycert.plugin.checkout import Checkout

AMOUNT = Decimal("30.00")
STEP = Decimal("0.01")  # how far a probe over what is left exceeds it
REFUNDED_STATES = (PaymentState.REFUNDED, PaymentState.PARTIALLY_REFUNDED)


def refused(result: ApiResult) -> bool:
    return 400 <= result.status < 500


def a_third_of(amount: Decimal) -> Decimal:
    # Whole cents, rounded down: the parts never add up to more than was taken.
    return (amount / 3).quantize(STEP, rounding=ROUND_DOWN)


def paid(checkout: Checkout) -> tuple[Payment, Decimal]:
    """A completed payment and its amount; on a live target the amount (and a probe above it) stays in the cap."""
    amount = checkout.client.below_cap(AMOUNT, STEP)
    payment = checkout.pay("COMPLETED", amount=amount).payment
    assert checkout.status(payment) is PaymentState.COMPLETED, (
        f"the payment to refund is {payment.vendor_status!r}, not completed"
    )
    return payment, amount


def captured_amount(checkout: Checkout, payment: Payment, answer: ApiResult) -> Decimal | None:
    """What the status API says was captured, else what the capture answer said (the profile's pointers)."""
    client = checkout.client
    read = client.refresh(payment)
    for result in (read, answer):
        if result.get("captured_amount") is not None:
            return client.parse_amount(result.get("captured_amount"))
    raise AssertionError(
        f"{client.id}: neither get_payment nor capture has a captured_amount pointer: the captured part cannot be read"
    )


def refund_and_read(checkout: Checkout, payment: Payment, amount: Decimal) -> ApiResult:
    """Refund `amount`, then read the payment back (its state and refunded amount)."""
    refund = checkout.client.follow_up("refund", payment, amount)
    assert refund.ok, f"a refund of {amount} on {payment} was refused (HTTP {refund.status})"
    checkout.status(payment)
    return refund


def assert_refunded(checkout: Checkout, payment: Payment, total: Decimal, amount: Decimal) -> None:
    """The status says partially refunded or refunded as `total` of `amount` was refunded; the amount agrees."""
    expected = PaymentState.REFUNDED if total >= amount else PaymentState.PARTIALLY_REFUNDED
    assert payment.state is expected, (
        f"after refunds of {total} of {amount} the status API says {payment.vendor_status!r} ({payment.state})"
    )
    if checkout.client.reads("get_payment", "refunded_amount"):
        assert payment.refunded == total, (
            f"after refunds of {total} the status API says {payment.refunded} was refunded"
        )


@pytest.mark.criterion("OPS-PARTIAL-CAPTURE")
def test_a_partial_capture_takes_only_that_part_and_the_rest_goes_as_the_profile_says(
    checkout: Checkout,
) -> None:
    client = checkout.client
    client.require("capture")
    remainder = client.require_lifecycle("partial_capture")["remainder"]
    amount = client.below_cap(AMOUNT, STEP)
    part = amount - a_third_of(amount)
    held = checkout.card_operation("authorize", amount=amount)
    assert checkout.status(held) is PaymentState.AUTHORIZED, f"the preauthorization is {held.vendor_status!r}"

    captured = client.follow_up("capture", held, part)
    assert captured.ok, f"capturing {part} of {amount} was refused (HTTP {captured.status})"
    taken = captured_amount(checkout, held, captured)
    assert taken == part, f"a capture of {part} of an authorization of {amount} captured {taken}"
    assert held.state is PaymentState.COMPLETED, f"after the partial capture: {held.vendor_status!r}"

    rest = client.follow_up("capture", held, amount - part)
    if remainder == "released":
        assert refused(rest), (
            f"the rest ({amount - part}) was captured after a partial capture, which the profile says releases "
            f"it (HTTP {rest.status})"
        )
        assert captured_amount(checkout, held, captured) == part, (
            "a refused second capture changed the amount"
        )
    else:
        assert rest.ok, f"capturing the rest ({amount - part}) was refused (HTTP {rest.status})"
        assert captured_amount(checkout, held, rest) == amount, (
            "the two captures do not add up to the authorization"
        )


@pytest.mark.criterion("OPS-PARTIAL-REFUND")
def test_partial_refunds_add_up_and_nothing_beyond_what_is_left_is_refunded(checkout: Checkout) -> None:
    client = checkout.client
    client.require("refund")
    refunds = client.require_lifecycle("refunds")
    if not refunds.get("partial"):
        raise NotApplicable(
            client.profile.unsupported.get("partial_refund") or f"{client.id} refunds only in full"
        )
    payment, amount = paid(checkout)
    part = a_third_of(amount)

    refund_and_read(checkout, payment, part)
    assert_refunded(checkout, payment, part, amount)

    if not refunds.get("multiple"):
        # One refund per payment (txservices, 001): a second one is refused even within what is left.
        again = client.follow_up("refund", payment, part)
        assert refused(again), f"a second refund of one payment was accepted (HTTP {again.status})"
        checkout.status(payment)
        assert_refunded(checkout, payment, part, amount)
        return

    refund_and_read(checkout, payment, part)
    assert_refunded(checkout, payment, 2 * part, amount)
    left = amount - 2 * part
    over = client.follow_up("refund", payment, left + STEP)
    assert refused(over), (
        f"a refund of {left + STEP} was accepted with only {left} left to refund (HTTP {over.status})"
    )
    checkout.status(payment)
    assert_refunded(checkout, payment, 2 * part, amount)
    refund_and_read(checkout, payment, left)
    assert_refunded(checkout, payment, amount, amount)


@pytest.mark.criterion("OPS-REFUND-STATUS")
def test_a_refund_is_read_back_on_its_own_with_its_amount_and_status(checkout: Checkout) -> None:
    client = checkout.client
    client.require("refund")
    refunds = client.require_lifecycle("refunds")
    payment, amount = paid(checkout)
    part = a_third_of(amount) if refunds.get("partial") else amount

    refund = client.follow_up("refund", payment, part)
    assert refund.ok, f"a refund of {part} was refused (HTTP {refund.status})"
    refund_id = refund.get("refund_id")
    assert refund_id not in (None, ""), (
        "the refund answer names no refund id (the profile's refund_id pointer)"
    )

    read = client.read_refund(payment, str(refund_id))
    assert read.ok, f"reading refund {refund_id} back answered HTTP {read.status}"
    state = checkout.state_in(read)
    assert state in REFUNDED_STATES, (
        f"refund {refund_id} reads back as {read.get('status')!r} ({state}), not as a refund that was made"
    )
    assert client.parse_amount(read.get("amount")) == part, (
        f"refund {refund_id} of {part} reads back with amount {read.get('amount')!r}"
    )
    if read.get("parent_id") is not None:
        assert str(read.get("parent_id")) == payment.id, (
            f"refund {refund_id} reads back as a refund of {read.get('parent_id')}, not of {payment.id}"
        )


@pytest.mark.criterion("PAY-3DS-MANUAL")
def test_a_challenged_card_is_held_after_3ds_then_captured(checkout: Checkout) -> None:
    client = checkout.client
    hold = str(client.require_lifecycle("three_ds_manual"))
    client.require(hold)
    client.require("capture")
    client.require_challenge()
    amount = client.below_cap(AMOUNT, STEP)

    challenged = checkout.pay("CHALLENGE", amount=amount, operation=hold)
    assert challenged.challenged, "the challenge card was never asked for its 3-D Secure password"
    assert checkout.status(challenged.payment) is PaymentState.AUTHORIZED, (
        f"after the challenge the {hold} is {challenged.payment.vendor_status!r}, not held for a capture"
    )

    captured = client.follow_up("capture", challenged.payment, amount)
    assert captured.ok, f"capturing the challenged authorization was refused (HTTP {captured.status})"
    assert checkout.status(challenged.payment) is PaymentState.COMPLETED, (
        f"after the capture: {challenged.payment.vendor_status!r}"
    )
