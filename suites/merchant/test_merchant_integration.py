"""The merchant's side (seed 004): paycert plays the gateway against the merchant's webhook receiver and
return URL, and reads the merchant's order-status endpoint to see what it believed and how often it
fulfilled. A receiver that trusts what nobody signed, fulfils twice on a retry, believes a status typed into a
URL, or expires a paid order does not go live.

Completions paycert signs are about payments really paid at the gateway, so a merchant that reads the status
back (seed 000 §5) sees COMPLETED; attacks are about unpaid ones. Every check of an order reads it until the
target's settle window has passed (`merchant.settle_seconds`), so a merchant that processes later is judged
on what it finally did."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from paycert.core import NotApplicable, PaymentState
from paycert.plugin.merchant import MerchantHarness
from paycert.webhooks.sender import BAD_MODES, Mode, Sent, unsigned_changes

PAID = "PAID"
PENDING = "PENDING"
CANCELLED = "CANCELLED"
FINAL = {"PAID", "FAILED", "CANCELLED"}
# Seed 004 §2: a payment still pending after 15 minutes is checked once a minute.
POLL_AFTER_SECONDS = 15 * 60 + 61
# Seed 004, Additional Considerations: unpaid orders are cancelled after 30 minutes.
EXPIRY_SECONDS = 30 * 60
# An amount whose cents matter: 10.00 for it is a payment in whole units, 1099 the cents read as major units.
ODD_AMOUNT = Decimal("10.99")
WRONG_AMOUNTS = {
    "one minor unit less": Decimal("10.98"),
    "one minor unit more": Decimal("11.00"),
    "whole units only": Decimal("10.00"),
    "minor units read as major": Decimal("1099"),
    "a tenth": Decimal("1.09"),
}


def untouched(order: dict[str, Any]) -> bool:
    return bool(order["status"] == PENDING and order["fulfilments"] == 0)


def paid_once(order: dict[str, Any]) -> bool:
    return bool(order["status"] == PAID and order["fulfilments"] == 1)


def not_fulfilled(order: dict[str, Any]) -> bool:
    return bool(order["status"] != PAID and order["fulfilments"] == 0)


def taken_or_refused(sent: Sent) -> None:
    """A signed delivery about a known payment is answered, and not with a server error."""
    assert sent.status is not None, f"the webhook was not answered: {sent.error}"
    assert sent.status < 500, f"the signed webhook was answered HTTP {sent.status}"


def story(order: dict[str, Any]) -> str:
    """The order's history, for a failure message: which delivery moved it, as the merchant recorded it."""
    return "; ".join(f"{h.get('source')}: {h.get('note')}" for h in order.get("history") or [])[-600:]


def really_paid(merchant: MerchantHarness) -> dict[str, Any]:
    """An order whose payment the gateway itself reports paid."""
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

    # The first delivery the merchant trusts is the finding: one is reported, not a group of them.
    @settings(
        max_examples=10,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        report_multiple_bugs=False,
    )
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
    after = merchant.settled(order["orderId"])
    assert untouched(after), f"a webhook without a valid signature moved the order: {story(after)}"
    # The same event correctly signed, about a payment really paid, is taken: the receiver verifies, it does
    # not refuse everything.
    assert merchant.send(merchant.paid(order)).ok, "the merchant refused a correctly signed webhook"
    assert paid_once(merchant.wait_for_order(order["orderId"], paid_once)), (
        "a correctly signed completion of a paid payment was not applied"
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
    after = merchant.settled(order["orderId"])
    assert untouched(after), f"a forged webhook moved the order: {story(after)}"


@pytest.mark.criterion("MER-SIGNATURE")
def test_a_query_added_to_the_webhook_url_is_not_believed(merchant: MerchantHarness) -> None:
    """A genuinely signed failure, posted to the receiver with `?status=COMPLETED`: the URL is nobody's word."""
    merchant.require_signed()
    order = merchant.open_order()
    try:
        failed = merchant.event(order, "FAILED")
    except LookupError:
        raise NotApplicable(f"{merchant.client.id} has no webhook that says FAILED") from None
    # The words a receiver might look for: the return URL's status parameter, and the webhook's status field.
    query: dict[str, str] = {}
    status_param = merchant.profile.return_url.get("status")
    if status_param:
        query[str(status_param)] = _completed(merchant)
    status_field = str(merchant.profile.webhooks["status"]).rsplit("/", 1)[-1]
    query[status_field] = merchant.shape.vendor_status("COMPLETED")
    sent = merchant.send(failed, query=query)
    taken_or_refused(sent)
    after = merchant.settled(order["orderId"])
    assert not_fulfilled(after), (
        f"a signed failure posted with ?{urlencode(query)} made the order {after['status']}: {story(after)}"
    )


@pytest.mark.criterion("MER-SIGNATURE")
def test_fields_the_signature_does_not_cover_are_not_believed(merchant: MerchantHarness) -> None:
    """A validly signed failure whose unsigned fields (what the scheme does not cover) are changed to those
    of a completion: its signature still verifies, and it still says failed where it is signed."""
    merchant.require_signed()
    order = merchant.open_order()
    try:
        failed = merchant.event(order, "FAILED")
    except LookupError:
        raise NotApplicable(f"{merchant.client.id} has no webhook that says FAILED") from None
    changes = unsigned_changes(merchant.sender.scheme, merchant.event(order), failed)
    if not changes:
        raise NotApplicable(
            f"{merchant.client.id}'s scheme {merchant.scheme} signs the whole body: no field can be changed "
            "without breaking the signature"
        )
    body, headers = merchant.sender.render(failed)
    raw = json.dumps({**json.loads(body), **changes}, separators=(",", ":")).encode()
    assert merchant.sender.scheme.verify(merchant.sender.secret or "", raw, headers).ok  # still valid
    sent = merchant.sender.deliver(raw, headers, f"paycert as {merchant.client.id}: unsigned fields changed")
    taken_or_refused(sent)
    after = merchant.settled(order["orderId"])
    assert not_fulfilled(after), (
        f"a signed failure with its unsigned {', '.join(sorted(changes))} changed to a completion's made the "
        f"order {after['status']}: {story(after)}"
    )


@pytest.mark.criterion("MER-REPLAY")
def test_a_signed_webhook_replayed_with_an_old_timestamp_is_refused(merchant: MerchantHarness) -> None:
    merchant.require_signed()
    if not merchant.sender.scheme.timestamped:
        raise NotApplicable(
            f"{merchant.client.id}'s scheme {merchant.scheme} signs no timestamp: a replay cannot be told from a "
            "retry (MER-IDEMPOTENT certifies that a repeat fulfils once)"
        )
    order = merchant.open_order()
    sent = merchant.send(merchant.paid(order), "replayed")
    assert not sent.ok, (
        f"a webhook signed long ago was answered HTTP {sent.status}: the merchant took a replay"
    )
    after = merchant.settled(order["orderId"])
    assert untouched(after), f"a replayed webhook moved the order: {story(after)}"


@pytest.mark.criterion("MER-IDEMPOTENT")
@pytest.mark.parametrize("delivery", ["twice", "again after a refused attempt", "concurrently"])
def test_the_same_webhook_delivered_again_fulfils_exactly_once(
    merchant: MerchantHarness, delivery: str
) -> None:
    order = merchant.open_order()
    body = merchant.paid(order)
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
    after = merchant.settled(order["orderId"])
    assert after["status"] == PAID, f"the completion was not applied ({after['status']})"
    assert after["fulfilments"] == 1, f"the order was fulfilled {after['fulfilments']} times"


@pytest.mark.criterion("MER-ORDER")
@pytest.mark.parametrize("late", ["FAILED", "CANCELLED"])
def test_a_late_event_does_not_undo_a_final_state(merchant: MerchantHarness, late: str) -> None:
    order = merchant.open_order()
    assert merchant.send(merchant.paid(order)).ok
    assert merchant.wait_for_order(order["orderId"], lambda o: o["status"] == PAID)["status"] == PAID
    try:
        late_body = merchant.event(order, late)  # every status field says `late`, the signed ones too
    except LookupError:
        raise NotApplicable(f"{merchant.client.id} has no webhook that says {late}") from None
    sent = merchant.send(late_body)
    assert sent.status is not None, f"the late {late} event was not answered: {sent.error}"
    assert sent.status < 500, f"the late {late} event was answered {sent.status}"
    after = merchant.settled(order["orderId"])
    # How often it was fulfilled is MER-IDEMPOTENT's question; this one is whether the state held.
    assert after["status"] == PAID, (
        f"a {late} event after the completion moved the order to {after['status']}: {story(after)}"
    )


@pytest.mark.criterion("MER-AMOUNT")
@pytest.mark.parametrize("mismatch", [*WRONG_AMOUNTS, "another currency"])
def test_a_payment_of_another_amount_or_currency_is_not_fulfilled(
    merchant: MerchantHarness, mismatch: str
) -> None:
    merchant.require_signed()
    order = merchant.open_order(ODD_AMOUNT)
    if mismatch in WRONG_AMOUNTS:
        body = merchant.event(order, amount=WRONG_AMOUNTS[mismatch])
    else:
        body = merchant.event(order, currency="JPY" if order["currency"] != "JPY" else "EUR")
        if body == merchant.event(order):
            raise NotApplicable(f"{merchant.client.id}'s webhooks carry no currency")
    merchant.send(body)
    after = merchant.settled(order["orderId"])
    assert not_fulfilled(after), (
        f"a payment of {mismatch} for an order of {order['amount']} {order['currency']} made it "
        f"{after['status']}: {story(after)}"
    )


@pytest.mark.criterion("MER-UNKNOWN-PAYMENT")
def test_a_completion_for_a_payment_nobody_created_makes_no_order(merchant: MerchantHarness) -> None:
    order = merchant.open_order()  # only for the shape of a real payment id of this gateway
    stranger = merchant.unknown_payment_id(str(order["paymentId"]))
    sent = merchant.send(merchant.event({**order, "paymentId": stranger}))
    assert sent.status is not None, f"the webhook was not answered: {sent.error}"
    merchant.settled(order["orderId"])
    adopted = merchant.orders_for_payment(stranger)
    assert not adopted, (
        f"a completion for payment {stranger}, which the merchant never created, made "
        f"{len(adopted)} order(s): {[(o['orderId'], o['status'], o['fulfilments']) for o in adopted]}"
    )


@pytest.mark.criterion("MER-CONFIRM")
def test_an_unsigned_webhook_is_confirmed_by_reading_the_status_back(merchant: MerchantHarness) -> None:
    if merchant.signs:
        raise NotApplicable(
            f"{merchant.client.id} signs its webhooks ({merchant.scheme}): MER-SIGNATURE certifies the receiver"
        )
    order = merchant.open_order()
    forged = merchant.send(merchant.event(order))
    assert forged.status is not None, f"the webhook was not answered: {forged.error}"
    after = merchant.settled(order["orderId"])
    assert untouched(after), (
        f"an unsigned completion for an unpaid payment moved the order to {after['status']}: {story(after)}"
    )
    assert merchant.send(merchant.paid(order)).ok
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
    _return(merchant, order, forged, "shopper: a forged return URL")
    after = merchant.settled(order["orderId"])
    assert untouched(after), (
        f"a return URL saying {forged[status_param]} moved the order to {after['status']}: {story(after)}"
    )


@pytest.mark.criterion("MER-RETURN-URL")
def test_a_return_url_carrying_another_orders_payment_does_not_fulfil(merchant: MerchantHarness) -> None:
    """The shopper paid order A, then opens unpaid order B's return URL with A's payment id in it."""
    payment_param = merchant.profile.return_url.get("payment_id")
    if not payment_param:
        raise NotApplicable(f"{merchant.client.id} appends no payment id to the return URL")
    paid_elsewhere = really_paid(merchant)
    order = merchant.open_order()
    query = {str(payment_param): str(paid_elsewhere["paymentId"])}
    if merchant.profile.return_url.get("status"):
        query[str(merchant.profile.return_url["status"])] = _completed(merchant)
    _return(merchant, order, query, "shopper: a return URL with another order's payment")
    after = merchant.settled(order["orderId"])
    assert untouched(after), (
        f"order {order['orderId']}'s return URL with the paid payment of order {paid_elsewhere['orderId']} "
        f"made it {after['status']}: {story(after)}"
    )


def _return(merchant: MerchantHarness, order: dict[str, Any], query: dict[str, str], label: str) -> None:
    base = str(order.get("returnUrl") or merchant.endpoints.return_url)
    merchant.api.send("GET", f"{base}{'&' if '?' in base else '?'}{urlencode(query)}", label=label)


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
    merchant.require_lost_webhook()
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
    merchant.pass_time(EXPIRY_SECONDS - 2 * merchant.target.settle_seconds)
    early = merchant.settled(order["orderId"], move_clock=False)
    assert early["status"] == PENDING, f"the order was {early['status']} before 30 minutes"
    merchant.pass_time(2 * merchant.target.settle_seconds + 60)
    after = merchant.wait_for_order(order["orderId"], lambda o: o["status"] != PENDING)
    assert after["status"] == CANCELLED, f"an unpaid order is {after['status']} after 30 minutes"
    assert after["fulfilments"] == 0


@pytest.mark.criterion("MER-EXPIRY-READBACK")
def test_a_paid_order_whose_webhook_was_lost_is_not_expired(merchant: MerchantHarness) -> None:
    merchant.require_lost_webhook()
    order = really_paid(merchant)
    merchant.pass_time(EXPIRY_SECONDS + 60)  # at once: expiry and the polling job come due together
    after = merchant.wait_for_order(order["orderId"], lambda o: o["status"] in FINAL)
    assert after["status"] == PAID, (
        f"31 minutes after a payment that was taken but whose webhook was lost the order is {after['status']}: "
        f"{story(after)}"
    )
    assert after["fulfilments"] == 1


@pytest.mark.criterion("MER-ACK")
def test_the_receiver_answers_2xx_within_the_gateways_timeout(merchant: MerchantHarness) -> None:
    order = merchant.open_order()
    # The answer's speed is the question, not what the merchant makes of the payment: no need to pay it.
    sent = merchant.send(merchant.event(order))
    assert sent.ok, f"a valid webhook was answered HTTP {sent.status}: the gateway will retry it"
    limit = merchant.timeout_seconds
    assert sent.elapsed_s < limit, (
        f"the receiver took {sent.elapsed_s:.1f} s, past {merchant.client.id}'s {limit:.0f} s"
    )


@pytest.mark.criterion("MER-PUSH")
def test_the_paid_status_reaches_the_shoppers_websocket(merchant: MerchantHarness) -> None:
    order = merchant.open_order()
    with merchant.watch(order) as socket:
        assert socket.until(PENDING, merchant.target.push_seconds) == [PENDING], (
            f"the WebSocket did not start with the order PENDING: {socket.seen}"
        )
        body = merchant.paid(order)
        assert merchant.send(body).ok
        seen = socket.until(PAID, merchant.target.push_seconds)
    assert PAID in seen, (
        f"within {merchant.target.push_seconds:.0f} s of the completion webhook the WebSocket was pushed "
        f"{seen}, not PAID"
    )
