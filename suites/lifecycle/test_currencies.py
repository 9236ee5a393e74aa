"""Every currency the gateway lists, charged in its own minor unit: 1 JPY stays 1 JPY, 1.001 KWD keeps its third
decimal, 0.01 EUR its cent, in the create answer, the status API and the webhook; and an amount with more
decimals than its currency has is refused, or rounded to it where the gateway's documentation says so."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from paycert.core import PaymentState
from paycert.gateways.amounts import DECIMAL_STRING, rounded, written_decimals
from paycert.plugin.checkout import Checkout
from paycert.targets.profile import Currency
from paycert.webhooks.fields import read_field

COMPLETED = PaymentState.COMPLETED
WEBHOOK_WAIT_SECONDS = 30


def telling_amount(checkout: Checkout, currency: Currency) -> Decimal:
    """An amount only the currency's own exponent writes right: one minor unit (1 JPY, 0.01 EUR), where two
    decimals too many or too few make it 100 JPY or 0.00 EUR. A three-decimal currency gets a major unit more
    (1.001 KWD): its third decimal is still the one at stake, and the amount stays above minimums written in
    cents (0.01), unless a live cap is lower; then the minor unit alone."""
    minor = Decimal(1).scaleb(-currency.exponent)
    if currency.exponent < 3:
        return minor
    larger = 1 + minor
    return larger if checkout.client.below_cap(larger, Decimal(0)) == larger else minor


def misread(
    checkout: Checkout, where: str, written: Any, written_currency: Any, amount: Decimal, currency: Currency
) -> list[str]:
    """What is wrong with an amount and currency as `where` wrote them back, for a payment of `amount`."""
    client = checkout.client
    code = currency.code
    problems: list[str] = []
    read = client.parse_amount(written, code)
    if read is None:
        problems.append(f"{where} has no readable amount ({written!r}) for {amount} {code}")
    elif read != amount:
        problems.append(f"{where} says {written!r} for {amount} {code}{as_if(read, amount, currency)}")
    elif client.amount_format == DECIMAL_STRING and written_decimals(written) != currency.exponent:
        problems.append(
            f"{where} writes {amount} {code} as {written!r}, not with {code}'s {currency.exponent} decimals"
        )
    if written_currency is not None and str(written_currency) != code:
        problems.append(f"{where} says the currency of a {code} payment is {written_currency!r}")
    return problems


def as_if(read: Decimal, amount: Decimal, currency: Currency) -> str:
    """Say so when the amount came back scaled by a power of ten: the currency read with the wrong exponent."""
    if not read or not amount:
        return ""
    shift = (read / amount).normalize()
    if shift.as_tuple().digits != (1,):
        return ""
    return f": {shift:f} times the amount, {currency.code}'s exponent ({currency.exponent}) off by {shift.adjusted():+d}"


def paid_in(checkout: Checkout, currency: Currency) -> list[str]:
    """Pay the telling amount in `currency`; what the create answer, the status API and the webhook got wrong."""
    client = checkout.client
    amount = telling_amount(checkout, currency)
    code = currency.code
    payment = checkout.pay("COMPLETED", amount=amount, currency=code).payment
    problems: list[str] = []
    if client.reads("create_payment", "amount"):
        created = payment.created
        problems += misread(
            checkout, "the create answer", created.get("amount"), created.get("currency"), amount, currency
        )

    status = client.refresh(payment)
    assert status.ok, f"the status of a payment of {amount} {code} answered HTTP {status.status}"
    if payment.state is not COMPLETED:
        problems.append(f"a payment of {amount} {code} is {payment.vendor_status!r}, not completed")
    if client.reads("get_payment", "amount"):
        problems += misread(
            checkout, "the status API", status.get("amount"), status.get("currency"), amount, currency
        )

    hooks = checkout.profile.webhooks
    webhook = checkout.webhooks(payment).wait_for_state(COMPLETED, timeout=WEBHOOK_WAIT_SECONDS)
    if webhook is None:
        problems.append(
            f"no webhook announced the payment of {amount} {code} as completed within {WEBHOOK_WAIT_SECONDS} s"
        )
    elif hooks.get("amount"):

        def field(name: str) -> Any:
            return read_field(hooks, name, webhook.body, webhook.delivery.headers, webhook.event_type)

        problems += misread(checkout, "the webhook", field("amount"), field("currency"), amount, currency)
    return problems


def too_many_decimals(checkout: Checkout, currency: Currency) -> list[str]:
    """Offer the telling amount and half a minor unit (1.5 JPY, 0.015 EUR, 1.0015 KWD): refused, or rounded
    half-up to the currency's decimals where the profile says the gateway rounds (`amounts.extra_decimals`)."""
    client = checkout.client
    code = currency.code
    amount = telling_amount(checkout, currency) + Decimal(5).scaleb(-currency.exponent - 1)
    written = client.format_unrounded(amount)
    if written is None or client.below_cap(amount, Decimal(0)) != amount:
        why = "its amounts are integers of minor units" if written is None else "the live cap is below it"
        client.recorder.note(f"{amount} {code} was not offered: {why}", "more decimals than the currency has")
        return []
    _, card = checkout.card_for("COMPLETED")
    attempt = checkout.attempt_create(written, card, currency=code, verbatim=True)
    offered = f"{written!r} {code} ({currency.exponent + 1} decimals, {code} has {currency.exponent})"
    if checkout.profile.amounts.get("extra_decimals", "refused") == "refused":
        if 400 <= attempt.status < 500:
            return []
        return [f"{offered} was accepted (HTTP {attempt.status}), not refused"]
    if not attempt.ok:
        return [f"{offered} was refused (HTTP {attempt.status}); the profile says the gateway rounds it"]
    expected = rounded(amount, currency.exponent)
    if attempt.get("amount") is not None:
        return misread(
            checkout,
            f"the answer to {offered}",
            attempt.get("amount"),
            attempt.get("currency"),
            expected,
            currency,
        )
    client.require(
        "get_payment", f"{client.id} answers a create without its amount and offers no status read"
    )
    read = client.call("get_payment", {"payment_id": str(attempt.get("payment_id"))})
    assert read.ok, f"the status of the payment of {offered} answered HTTP {read.status}"
    return misread(
        checkout, f"the status API of {offered}", read.get("amount"), read.get("currency"), expected, currency
    )


@pytest.mark.criterion("PAY-CURRENCY")
def test_every_listed_currency_is_charged_in_its_own_minor_unit(checkout: Checkout) -> None:
    problems: list[str] = []
    for currency in checkout.profile.currencies:
        problems += paid_in(checkout, currency)
        problems += too_many_decimals(checkout, currency)

    assert not problems, "; ".join(problems)
