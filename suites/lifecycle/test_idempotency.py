"""Idempotent requests: a request sent again with its key makes nothing new and gets the same answer, the key
with another body is refused, and many copies sent at once make exactly one payment — where the gateway
takes a key (the profile's `idempotency`)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from functools import partial

import pytest

from paycert.core import PaymentState
from paycert.core.errors import NotApplicable
from paycert.gateways.client import ApiResult, PaymentRefused
from paycert.gateways.idempotency import IdempotencyRules, all_at_once
from paycert.plugin.checkout import Checkout

AMOUNT = Decimal("12.00")
OTHER = Decimal("13.00")  # the "other body": the same request but for the amount
PART = Decimal("4.00")  # the refund sent twice, on a payment of AMOUNT
# Copies of one create sent together with one key. The client's connection pool holds 10 connections: the
# first 10 leave together, the others as soon as one is free (while the first are still being answered).
AT_ONCE = 20


def rules_of(checkout: Checkout, operation: str) -> IdempotencyRules:
    """The gateway's idempotency rules, when they cover `operation`; else not applicable with the reason."""
    rules = IdempotencyRules.of(checkout.profile)
    if rules is None:
        raise NotApplicable(
            checkout.profile.unsupported.get("idempotency")
            or f"{checkout.client.id} declares no idempotency key (its profile has no idempotency)"
        )
    if operation not in rules.operations:
        raise NotApplicable(
            f"{checkout.client.id} takes an idempotency key on {', '.join(rules.operations)} only, not on "
            f"{operation.replace('_', ' ')} (profile idempotency.operations)"
        )
    checkout.client.require(operation)
    return rules


def new_key() -> str:
    return f"paycert-{uuid.uuid4().hex}"


def create(checkout: Checkout, amount: Decimal, reference: str, key: str) -> ApiResult:
    """The create's answer, accepted or refused; the same arguments send the same request."""
    _, card = checkout.card_for("COMPLETED")  # in the request where the gateway takes cards directly
    try:
        return checkout.create(amount, card, reference=reference, idempotency_key=key).created
    except PaymentRefused as refused:
        return refused.result


def assert_replayed(rules: IdempotencyRules, first: ApiResult, again: ApiResult, what: str) -> None:
    assert again.ok, f"{what} sent again with its key was refused (HTTP {again.status})"
    assert (again.status, again.body) == (first.status, first.body), (
        f"{what} sent again with its key got another answer: HTTP {again.status} {again.answer.text[:300]!r}, "
        f"first HTTP {first.status} {first.answer.text[:300]!r}"
    )
    if rules.replayed_header is not None:
        assert not rules.replayed(first.answer), f"the first {what} is marked {rules.replayed_header}"
        assert rules.replayed(again.answer), f"{what} sent again lacks the {rules.replayed_header} header"


@pytest.mark.criterion("OPS-IDEMPOTENCY")
def test_a_create_sent_again_with_its_key_is_the_same_payment_and_another_body_is_refused(
    checkout: Checkout,
) -> None:
    rules = rules_of(checkout, "create_payment")
    key, reference = new_key(), checkout.new_reference()

    first = create(checkout, AMOUNT, reference, key)
    assert first.ok, f"the create was refused (HTTP {first.status})"
    again = create(checkout, AMOUNT, reference, key)
    other = create(checkout, OTHER, reference, key)

    assert_replayed(rules, first, again, "a create")
    assert again.get("payment_id") == first.get("payment_id")
    assert other.status in rules.conflict_status, (
        f"the key reused with another amount answered HTTP {other.status} (payment "
        f"{other.get('payment_id')!r}), not one of {sorted(rules.conflict_status)}"
    )
    read = checkout.client.call(
        "get_payment", {"payment_id": str(first.get("payment_id"))}, label="read back"
    )
    assert read.ok, f"the payment could not be read back (HTTP {read.status})"
    if checkout.client.reads("get_payment", "amount"):
        assert checkout.client.parse_amount(read.get("amount")) == AMOUNT, (
            f"the payment of {AMOUNT} reads back as {read.get('amount')!r} after the key was reused"
        )


@pytest.mark.criterion("OPS-IDEMPOTENCY")
def test_creates_sent_at_once_with_one_key_make_exactly_one_payment(checkout: Checkout) -> None:
    rules = rules_of(checkout, "create_payment")
    key, reference = new_key(), checkout.new_reference()
    checkout.client.token()  # fetched once, before the copies leave together

    answers = all_at_once([partial(create, checkout, AMOUNT, reference, key)] * AT_ONCE)

    made = [a for a in answers if a.ok]
    others = sorted(a.status for a in answers if not a.ok)
    # A copy may be told the key's first request is still running: refused, and nothing made.
    assert all(status in rules.conflict_status for status in others), (
        f"{AT_ONCE} creates with one key: {len(made)} made, the others answered HTTP {others}"
    )
    ids = sorted({str(a.get("payment_id")) for a in made})
    assert len(ids) == 1, f"{AT_ONCE} creates sent at once with one key made {len(ids)} payments: {ids}"
    if rules.replayed_header is not None:
        ran = [a for a in made if not rules.replayed(a.answer)]
        assert len(ran) == 1, (
            f"{len(ran)} of {len(made)} answers are not marked {rules.replayed_header}: the create ran "
            f"{len(ran)} times"
        )
    read = checkout.client.call("get_payment", {"payment_id": ids[0]}, label="read the one payment back")
    assert read.ok, f"the one payment {ids[0]} could not be read back (HTTP {read.status})"


@pytest.mark.criterion("OPS-IDEMPOTENCY")
def test_a_refund_sent_again_with_its_key_refunds_once(checkout: Checkout) -> None:
    rules = rules_of(checkout, "refund")
    paid = checkout.pay("COMPLETED", amount=AMOUNT).payment
    assert checkout.status(paid) is PaymentState.COMPLETED, f"the payment to refund is {paid.vendor_status!r}"
    key, reference = new_key(), checkout.new_reference()

    def refund(amount: Decimal) -> ApiResult:
        return checkout.client.follow_up("refund", paid, amount, idempotency_key=key, reference=reference)

    first = refund(PART)
    assert first.ok, f"a refund of {PART} was refused (HTTP {first.status})"
    again = refund(PART)
    other = refund(PART + PART)

    assert_replayed(rules, first, again, "a refund")
    assert other.status in rules.conflict_status, (
        f"the refund's key reused with another amount answered HTTP {other.status}, not one of "
        f"{sorted(rules.conflict_status)}"
    )
    assert checkout.status(paid) is PaymentState.PARTIALLY_REFUNDED, (
        f"after one refund of {PART} sent twice: {paid.vendor_status!r}"
    )
    if checkout.client.reads("get_payment", "refunded_amount"):
        assert paid.refunded == PART, f"one refund of {PART} sent twice: the status API says {paid.refunded}"
