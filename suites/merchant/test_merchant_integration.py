"""The merchant's side (seed 004): paycert plays the gateway against the merchant's webhook receiver and
return URL, and reads the merchant's order-status endpoint to see what it believed and how often it
fulfilled. A receiver that trusts unsigned requests, fulfils twice on a retry, or believes a status typed
into a return URL does not go live."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from paycert.core import NotApplicable, PaymentState
from paycert.plugin.merchant import MerchantHarness
from paycert.webhooks.sender import Mode

PAID = "PAID"
PENDING = "PENDING"
CANCELLED = "CANCELLED"
FINAL = {"PAID", "FAILED", "CANCELLED"}
# Seed 004 §2: a payment still pending after 15 minutes is checked once a minute.
POLL_AFTER_SECONDS = 15 * 60 + 61
# Seed 004, Additional Considerations: unpaid orders are cancelled after 30 minutes.
EXPIRY_SECONDS = 30 * 60
BAD_MODES: tuple[Mode, ...] = ("unsigned", "tampered", "wrong-secret", "garbage-signature")


def untouched(order: dict[str, Any]) -> bool:
    return bool(order["status"] == PENDING and order["fulfilments"] == 0)


def paid_once(order: dict[str, Any]) -> bool:
    return bool(order["status"] == PAID and order["fulfilments"] == 1)


def really_paid(merchant: MerchantHarness) -> dict[str, Any]:
    """An order whose payment the gateway itself reports paid (for gateways whose webhooks are read back)."""
    order = merchant.open_order()
    merchant.pay(order)
    return order


@pytest.mark.criterion("MER-SIGNATURE")
def test_webhooks_without_a_valid_signature_are_rejected_and_change_nothing(
    merchant: MerchantHarness,
) -> None:
    merchant.require_signed()
    order = merchant.open_order()
    body = merchant.event(order)

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        mode=st.sampled_from(BAD_MODES),
        state=st.sampled_from(["COMPLETED", "FAILED", "CANCELLED"]),
        cents=st.integers(min_value=1, max_value=10**7),
    )
    def rejected(mode: Mode, state: str, cents: int) -> None:
        try:
            forged = merchant.event(order, state, amount=Decimal(cents) / 100)
        except LookupError:
            forged = body  # the gateway has no webhook saying `state`
        sent = merchant.send(forged, mode)
        assert not sent.ok, f"a webhook {mode} was answered HTTP {sent.status}: the merchant trusted it"
        after = merchant.order(order["orderId"])
        assert untouched(after), f"a webhook {mode} moved the order to {after['status']}"

    for mode in BAD_MODES:  # every way of being unsigned at least once, then hypothesis's mix
        rejected = example(mode=mode, state="COMPLETED", cents=int(Decimal(str(order["amount"])) * 100))(
            rejected
        )
    rejected()
    # The same event correctly signed is taken: the receiver verifies, it does not refuse everything.
    assert merchant.send(body).ok, "the merchant refused a correctly signed webhook"
    assert paid_once(merchant.wait_for_order(order["orderId"], paid_once)), (
        "a correctly signed completion was not applied"
    )


@pytest.mark.criterion("MER-SIGNATURE")
def test_forged_webhooks_of_every_shape_the_gateway_sends_change_nothing(merchant: MerchantHarness) -> None:
    """Not just the documented example: any body the gateway's webhook schema allows, about this order, saying
    it is paid, and not validly signed, is refused and leaves the order as it was."""
    merchant.require_signed()
    order = merchant.open_order()

    # No shrinking: the first forged body the merchant trusts is the evidence; shrinking it only resends.
    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],
        report_multiple_bugs=False,
    )
    @given(template=merchant.webhook_documents(), mode=st.sampled_from(BAD_MODES))
    def refused(template: dict[str, Any], mode: Mode) -> None:
        forged = merchant.event(order, template=template)
        sent = merchant.send(forged, mode)
        assert not sent.ok, f"a webhook {mode} was answered HTTP {sent.status}: the merchant trusted it"
        after = merchant.order(order["orderId"])
        assert untouched(after), f"a webhook {mode} moved the order to {after['status']}"

    refused()


@pytest.mark.criterion("MER-IDEMPOTENT")
@pytest.mark.parametrize("delivery", ["twice", "again after a refused attempt", "concurrently"])
def test_the_same_webhook_delivered_again_fulfils_exactly_once(
    merchant: MerchantHarness, delivery: str
) -> None:
    order = merchant.open_order() if merchant.signs else really_paid(merchant)
    body = merchant.event(order)
    msg_id = "msg_paycert_" + str(order["orderId"])[-12:]
    if delivery == "twice":
        sent = [merchant.send(body, msg_id=msg_id), merchant.send(body, msg_id=msg_id)]
    elif delivery == "again after a refused attempt":
        # The gateway's first attempt got no 2xx (a 500, a timeout), so it renders and signs it afresh.
        sent = [merchant.send(body, msg_id=msg_id)]
        sent += [merchant.send(body, msg_id=msg_id) for _ in range(2)]
    else:
        sent = merchant.sender.send_concurrently(
            body, 8, label=f"paycert as {merchant.client.id}: concurrent copy"
        )
    assert all(s.ok for s in sent), f"copies were answered {[s.status for s in sent]}"
    after = merchant.wait_for_order(order["orderId"], lambda o: o["status"] == PAID)
    assert after["status"] == PAID, f"the completion was not applied ({after['status']})"
    assert after["fulfilments"] == 1, f"the order was fulfilled {after['fulfilments']} times"


@pytest.mark.criterion("MER-ORDER")
@pytest.mark.parametrize("late", ["FAILED", "CANCELLED"])
def test_a_late_event_does_not_undo_a_final_state(merchant: MerchantHarness, late: str) -> None:
    order = merchant.open_order() if merchant.signs else really_paid(merchant)
    assert merchant.send(merchant.event(order)).ok
    assert merchant.wait_for_order(order["orderId"], lambda o: o["status"] == PAID)["status"] == PAID
    try:
        late_body = merchant.event(order, late)
    except LookupError:
        raise NotApplicable(f"{merchant.client.id} has no webhook that says {late}") from None
    sent = merchant.send(late_body)
    assert sent.status is not None, f"the late {late} event was not answered: {sent.error}"
    assert sent.status < 500, f"the late {late} event was answered {sent.status}"
    after = merchant.order(order["orderId"])
    # How often it was fulfilled is MER-IDEMPOTENT's question; this one is whether the state held.
    assert after["status"] == PAID, (
        f"a {late} event after the completion moved the order to {after['status']}"
    )


@pytest.mark.criterion("MER-AMOUNT")
@pytest.mark.parametrize("mismatch", ["amount", "currency"])
def test_a_payment_of_another_amount_or_currency_is_not_fulfilled(
    merchant: MerchantHarness, mismatch: str
) -> None:
    merchant.require_signed()
    order = merchant.open_order()
    if mismatch == "amount":
        body = merchant.event(order, amount=Decimal(str(order["amount"])) / 10)
    else:
        body = merchant.event(order, currency="JPY" if order["currency"] != "JPY" else "EUR")
        if body == merchant.event(order):
            raise NotApplicable(f"{merchant.client.id}'s webhooks carry no currency")
    merchant.send(body)
    after = merchant.order(order["orderId"])
    assert after["fulfilments"] == 0, f"a payment of another {mismatch} fulfilled the order"
    assert after["status"] != PAID, f"a payment of another {mismatch} made the order PAID"


@pytest.mark.criterion("MER-CONFIRM")
def test_an_unsigned_webhook_is_confirmed_by_reading_the_status_back(merchant: MerchantHarness) -> None:
    if merchant.signs:
        raise NotApplicable(
            f"{merchant.client.id} signs its webhooks ({merchant.scheme}): MER-SIGNATURE certifies the receiver"
        )
    order = merchant.open_order()
    forged = merchant.send(merchant.event(order))
    assert forged.status is not None, f"the webhook was not answered: {forged.error}"
    after = merchant.order(order["orderId"])
    assert untouched(after), (
        f"an unsigned completion for an unpaid payment moved the order to {after['status']}"
    )
    merchant.pay(order)
    assert merchant.send(merchant.event(order)).ok
    assert paid_once(merchant.wait_for_order(order["orderId"], paid_once)), (
        "a really paid payment was not fulfilled"
    )


@pytest.mark.criterion("MER-RETURN-URL")
def test_a_forged_return_url_does_not_fulfil(merchant: MerchantHarness) -> None:
    params = merchant.profile.return_url
    status_param = params.get("status")
    if not status_param:
        raise NotApplicable(
            f"{merchant.client.id} appends no status to the return URL: there is nothing to forge"
        )
    order = merchant.open_order()
    forged = {status_param: _completed(merchant)}
    if params.get("payment_id"):
        forged[str(params["payment_id"])] = str(order["paymentId"])
    base = str(order.get("returnUrl") or merchant.endpoints.return_url)
    url = f"{base}{'&' if '?' in base else '?'}{urlencode(forged)}"
    merchant.api.send("GET", url, label="shopper: a forged return URL")
    after = merchant.order(order["orderId"])
    assert untouched(after), (
        f"a return URL saying {forged[status_param]} moved the order to {after['status']}"
    )


def _completed(merchant: MerchantHarness) -> str:
    """The return-URL status value that means COMPLETED: the return query's schema lists them."""
    schema = merchant.profile.json_schema("return_query") or {}
    status_param = str(merchant.profile.return_url["status"])
    values = (schema.get("properties", {}).get(status_param) or {}).get("enum") or list(
        merchant.profile.raw.get("statuses", {})
    )
    for value in values:
        if merchant.profile.state_of(value) is PaymentState.COMPLETED:
            return str(value)
    return "COMPLETED"


@pytest.mark.criterion("MER-POLLING")
def test_a_payment_whose_webhook_never_comes_is_found_by_polling(merchant: MerchantHarness) -> None:
    if merchant.profile.webhooks.get("delivery") == "per-payment":
        raise NotApplicable(
            f"{merchant.client.id} sends each payment's webhook to the URL the merchant gives with it, so paycert "
            "cannot stage a webhook that never arrives"
        )
    order = really_paid(merchant)
    before = merchant.order(order["orderId"])
    assert before["status"] == PENDING, "the merchant heard of the payment before any polling"
    merchant.pass_time(POLL_AFTER_SECONDS)
    after = merchant.wait_for_order(order["orderId"], lambda o: o["status"] in FINAL)
    assert after["status"] == PAID, (
        f"{POLL_AFTER_SECONDS // 60} minutes after a payment whose webhook never came the order is {after['status']}"
    )
    assert after["fulfilments"] == 1


@pytest.mark.criterion("MER-EXPIRY")
def test_an_unpaid_order_is_cancelled_after_thirty_minutes(merchant: MerchantHarness) -> None:
    order = merchant.open_order()
    merchant.pass_time(EXPIRY_SECONDS - 60)
    early = merchant.order(order["orderId"])
    assert early["status"] == PENDING, f"the order was {early['status']} before 30 minutes"
    merchant.pass_time(120)
    after = merchant.wait_for_order(order["orderId"], lambda o: o["status"] != PENDING)
    assert after["status"] == CANCELLED, f"an unpaid order is {after['status']} after 30 minutes"
    assert after["fulfilments"] == 0


@pytest.mark.criterion("MER-ACK")
def test_the_receiver_answers_2xx_within_the_gateways_timeout(merchant: MerchantHarness) -> None:
    order = merchant.open_order()
    sent = merchant.send(merchant.event(order))
    assert sent.ok, f"a valid webhook was answered HTTP {sent.status}: the gateway will retry it"
    limit = merchant.timeout_seconds
    assert sent.elapsed_s < limit, (
        f"the receiver took {sent.elapsed_s:.1f} s, past {merchant.client.id}'s {limit:.0f} s"
    )
