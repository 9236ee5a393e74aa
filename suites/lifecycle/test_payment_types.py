"""The documents' payment types beyond a card payment: an invoice paid through its payment link, answers in XML,
and a wallet on the hosted page — where the gateway offers them (n/a with the profile's reason elsewhere)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from paycert.core import PaymentState
from paycert.gateways.client import ApiResult, Payment
from paycert.gateways.xml_answers import XmlAnswers
from paycert.plugin.checkout import Checkout, CheckoutResult, Invoice
from paycert.plugin.clock import GatewayTime

# -- invoices and payment links (PAY-LINK), answers in XML (CON-XML) ----------------------------------------

INVOICE_AMOUNT = Decimal("12.34")
LINK_WEBHOOK_SECONDS = 30
XML_AMOUNT = Decimal("10.00")


def paid_invoice(checkout: Checkout, invoice: Invoice) -> Payment:
    """The invoice reads back paid, with the amount it was for; the payment that paid it."""
    read = checkout.read_invoice(invoice)
    assert read.ok, f"reading {invoice} back answered HTTP {read.status}"
    if read.get("invoice_id") is not None:
        assert str(read.get("invoice_id")) == invoice.id, (
            f"reading {invoice} back gave {read.get('invoice_id')}"
        )
    assert checkout.state_in(read) is PaymentState.COMPLETED, (
        f"after it was paid through its link, {invoice} reads back {read.get('status')!r}, not paid"
    )
    if read.get("amount") is not None:
        amount = checkout.client.parse_amount(read.get("amount"), invoice.currency)
        assert amount == invoice.amount, f"{invoice} of {invoice.amount} reads back with amount {amount}"
    payment = checkout.invoice_payment(invoice, read)
    assert payment is not None, f"the paid {invoice} names no payment (get_invoice's payment_id)"
    return payment


@pytest.mark.criterion("PAY-LINK")
def test_an_invoice_is_paid_through_its_link(checkout: Checkout, gateway_time: GatewayTime) -> None:
    invoice = checkout.create_invoice(INVOICE_AMOUNT)
    unpaid = checkout.read_invoice(invoice)
    assert unpaid.ok, f"reading {invoice} back answered HTTP {unpaid.status}"
    assert checkout.state_in(unpaid) is not PaymentState.COMPLETED, (
        f"{invoice} reads back {unpaid.get('status')!r} before anyone paid it"
    )

    checkout.pay_link(invoice)

    payment = paid_invoice(checkout, invoice)
    assert checkout.status(payment) is PaymentState.COMPLETED, (
        f"{invoice} was paid by {payment}, which the status API says is {payment.vendor_status!r}"
    )
    inbox = checkout.webhooks(payment)
    if gateway_time.controllable:
        # The sandbox's outbox says when all it has to send is sent: a missing webhook costs no real wait.
        gateway_time.settle(checkout.client.id)
        told = inbox.events(lambda event: event.state is PaymentState.COMPLETED)
    else:
        told = inbox.wait(lambda event: event.state is PaymentState.COMPLETED, timeout=LINK_WEBHOOK_SECONDS)
    assert told, f"no webhook said {payment} of {invoice} was paid"


def in_both(
    checkout: Checkout, xml: XmlAnswers, payments: tuple[Payment, Payment]
) -> tuple[ApiResult, ApiResult]:
    """The status API's answer on the JSON payment, and in XML on its twin."""
    in_json, in_xml = payments
    client = checkout.client
    return (
        client.call("get_payment", in_json.context, label="get_payment"),
        client.call("get_payment", in_xml.context, headers=xml.headers, label="get_payment in XML"),
    )


@pytest.mark.criterion("CON-XML")
def test_answers_in_xml_match_the_json_ones(checkout: Checkout) -> None:
    xml = XmlAnswers.of(checkout.profile)
    client = checkout.client
    held = client.offers("authorize") and client.offers("capture")
    make = "authorize" if held else "create_payment"
    # The same payment twice, each call of one asked for in JSON and of the other in XML.
    in_json = checkout.card_operation(make, amount=XML_AMOUNT)
    in_xml = checkout.card_operation(make, amount=XML_AMOUNT, headers=xml.headers)
    twins = (in_json, in_xml)
    calls = [(in_json.created, in_xml.created), in_both(checkout, xml, twins)]
    back_office = [op for op in ("capture", "refund") if client.offers(op) and (held or op != "capture")]
    for operation in back_office:
        calls.append(
            (
                client.follow_up(operation, in_json, XML_AMOUNT),
                client.follow_up(operation, in_xml, XML_AMOUNT, headers=xml.headers),
            )
        )
        calls.append(in_both(checkout, xml, twins))

    # What the two payments made of their own (ids, references) is the one thing that differs.
    same = {in_json.id: in_xml.id, in_json.reference: in_xml.reference}
    problems = []
    for answers in calls:
        same.update(xml.own_ids(*answers))
        problems += xml.differences(*answers, same=same)

    assert not problems, f"{len(problems)} difference(s) of XML from JSON: " + "; ".join(problems)


# -- a wallet on the hosted page (PAY-WALLET) -----------------------------------------------------------------

WALLET_WEBHOOK_SECONDS = 30


def assert_back_at_the_merchant(result: CheckoutResult, what: str) -> None:
    shopper = result.shopper
    assert shopper is not None, f"{what}: the shopper never reached the hosted page"
    assert shopper.landed, (
        f"{what}: the shopper never came back to the merchant (ended on {shopper.final_url})"
    )


@pytest.mark.criterion("PAY-WALLET")
def test_a_wallet_on_the_hosted_page_pays_or_is_cancelled_on_its_own_path(checkout: Checkout) -> None:
    reads_return_status = bool(checkout.profile.return_url.get("status"))
    for name, wallet in checkout.wallets().items():
        approved = checkout.pay_with(name)

        assert_back_at_the_merchant(approved, f"{name} approved")
        if reads_return_status:
            assert approved.returned_state is PaymentState.COMPLETED, (
                f"{name} approved: the return URL says {approved.returned_status!r}, not completed"
            )
        method = checkout.method_of(approved.payment)  # reads the status API, and so the payment's state
        assert approved.payment.state is PaymentState.COMPLETED, (
            f"{name} approved: the status API says {approved.payment.vendor_status!r}, not completed"
        )
        assert method == wallet.method, f"{name} approved: the status API says it was paid by {method!r}"
        paid = checkout.webhooks(approved.payment).wait_for_state(
            PaymentState.COMPLETED, timeout=WALLET_WEBHOOK_SECONDS
        )
        assert paid is not None, (
            f"{name} approved: no webhook said {approved.payment} completed in {WALLET_WEBHOOK_SECONDS} s"
        )
        assert checkout.method_in(paid) == wallet.method, (
            f"{name} approved: the webhook says it was paid by {checkout.method_in(paid)!r}"
        )

        cancelled = checkout.pay_with(name, approve=False)

        assert_back_at_the_merchant(cancelled, f"{name} cancelled")
        if reads_return_status:
            assert cancelled.returned_state is PaymentState.CANCELLED, (
                f"{name} cancelled: the return URL says {cancelled.returned_status!r}, not cancelled"
            )
        assert checkout.status(cancelled.payment) is PaymentState.CANCELLED, (
            f"{name} cancelled: the status API says {cancelled.payment.vendor_status!r}"
        )
        gone = checkout.webhooks(cancelled.payment).wait_for_state(
            PaymentState.CANCELLED, timeout=WALLET_WEBHOOK_SECONDS
        )
        assert gone is not None, (
            f"{name} cancelled: no webhook said {cancelled.payment} cancelled in {WALLET_WEBHOOK_SECONDS} s"
        )
