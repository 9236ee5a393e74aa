"""Mandates and zero-amount card verification: charging a card later without its holder, and checking a card
without taking money — where the gateway offers them (the profile's `lifecycle`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from paycert.core import PaymentState
from paycert.core.errors import NotApplicable
from paycert.gateways.client import ApiResult, Payment, PaymentRefused
from paycert.plugin.checkout import Checkout

SETUP = Decimal("20.00")  # the customer-present payment that sets a mandate up
CHARGE = Decimal("5.00")  # each merchant-initiated charge on it
CHARGES = 3  # a multi-use mandate is charged this often: "again and again", each with an id of its own
ZERO = Decimal("0")
STEP = Decimal("0.01")  # the smallest capture: a verification that held anything at all would allow it
# A mandate is set up by a payment the card holder made: taken at once or held for capture.
SET_UP = frozenset({PaymentState.COMPLETED, PaymentState.AUTHORIZED})


def refused(result: ApiResult) -> bool:
    return 400 <= result.status < 500


def mandate(checkout: Checkout, kind: str) -> dict[str, str]:
    """The profile's mandate of `kind` (single-use, multi-use): the operations that set it up and charge it."""
    mandates: dict[str, dict[str, str]] = checkout.client.require_lifecycle("mandates")
    if kind not in mandates:
        raise NotApplicable(
            f"{checkout.client.id} offers no {kind} mandate (its profile's lifecycle.mandates lists "
            f"{', '.join(sorted(mandates))})"
        )
    entry = mandates[kind]
    checkout.client.require(entry["setup"])
    checkout.client.require(entry["charge"])
    return entry


def charged_on_its_own(checkout: Checkout, setup: Payment, charge: ApiResult, number: int) -> str:
    """The charge's own payment id, after checking it completed, in the answer and on the status API."""
    assert charge.ok, f"merchant-initiated charge {number} on the mandate was refused (HTTP {charge.status})"
    charge_id = charge.get("payment_id")
    assert charge_id not in (None, "", setup.id), (
        f"merchant-initiated charge {number} has no payment id of its own ({charge_id!r})"
    )
    assert checkout.state_in(charge) is PaymentState.COMPLETED, (
        f"merchant-initiated charge {number} is {charge.get('status')!r}"
    )
    read = checkout.client.call(
        "get_payment", {**setup.context, "payment_id": str(charge_id)}, label=f"read charge {number} back"
    )
    assert read.ok, f"charge {number} ({charge_id}) could not be read back (HTTP {read.status})"
    assert checkout.state_in(read) is PaymentState.COMPLETED, (
        f"the status API says charge {number} ({charge_id}) is {read.get('status')!r}"
    )
    if checkout.client.reads("get_payment", "amount"):
        assert checkout.client.parse_amount(read.get("amount")) == CHARGE, (
            f"charge {number} of {CHARGE} reads back as {read.get('amount')!r}"
        )
    return str(charge_id)


@pytest.mark.criterion("OPS-MANDATE")
def test_a_multi_use_mandate_is_charged_again_and_again(checkout: Checkout) -> None:
    entry = mandate(checkout, "multi-use")
    setup = checkout.card_operation(entry["setup"], amount=SETUP)
    assert checkout.status(setup) in SET_UP, f"the payment setting the mandate up is {setup.vendor_status!r}"

    charges = [
        charged_on_its_own(checkout, setup, checkout.client.follow_up(entry["charge"], setup, CHARGE), n)
        for n in range(1, CHARGES + 1)
    ]

    assert len(set(charges)) == CHARGES, f"{CHARGES} charges on the mandate share payment ids: {charges}"


@pytest.mark.criterion("OPS-MANDATE")
def test_a_single_use_mandate_is_charged_once_and_its_second_use_refused(checkout: Checkout) -> None:
    entry = mandate(checkout, "single-use")
    setup = checkout.card_operation(entry["setup"], amount=SETUP)
    assert checkout.status(setup) in SET_UP, f"the payment setting the mandate up is {setup.vendor_status!r}"

    first = checkout.client.follow_up(entry["charge"], setup, CHARGE)
    charged_on_its_own(checkout, setup, first, 1)
    second = checkout.client.follow_up(entry["charge"], setup, CHARGE)

    assert refused(second), (
        f"a single-use mandate was charged a second time (HTTP {second.status}, "
        f"payment {second.get('payment_id')!r}, status {second.get('status')!r})"
    )


@pytest.mark.criterion("OPS-VERIFY")
def test_a_zero_amount_verification_approves_a_valid_card_without_taking_money(checkout: Checkout) -> None:
    operation: str = checkout.client.require_lifecycle("verify")
    verified = checkout.card_operation(operation, amount=ZERO)

    read = checkout.client.refresh(verified)
    assert read.ok, f"the verification could not be read back (HTTP {read.status})"
    # Approved means authorized for nothing: a captured (COMPLETED) verification took money.
    assert verified.state is PaymentState.AUTHORIZED, (
        f"the verification of a valid card is {verified.vendor_status!r} ({verified.state})"
    )
    for name in ("amount", "captured_amount"):
        if checkout.client.reads("get_payment", name):
            held = checkout.client.parse_amount(read.get(name))
            assert held == ZERO, (
                f"the verification's {name.replace('_', ' ')} reads {read.get(name)!r}, not 0"
            )
    if checkout.client.offers("capture"):
        captured = checkout.client.follow_up("capture", verified, STEP)
        assert refused(captured), (
            f"a capture of {STEP} on a zero-amount verification was accepted (HTTP {captured.status})"
        )


@pytest.mark.criterion("OPS-VERIFY")
def test_a_zero_amount_verification_declines_the_declined_card(checkout: Checkout) -> None:
    operation: str = checkout.client.require_lifecycle("verify")
    try:
        verified = checkout.card_operation(operation, outcome="FAILED", amount=ZERO)
    except PaymentRefused as declined:  # a gateway may refuse the verification outright: declined too
        refusal = declined.result
        assert refused(refusal), f"the verification of the declined card answered HTTP {refusal.status}"
        return

    assert checkout.status(verified) is PaymentState.FAILED, (
        f"the verification of the declined card is {verified.vendor_status!r} ({verified.state})"
    )
