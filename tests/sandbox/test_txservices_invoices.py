"""txservices invoices and their payment links (paycert's decisions in specs/txservices/openapi.yaml), the XML
answers' shape, and the faults invoice-link-unpaid and xml-drift."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from paycert.sandbox import SandboxServer
from paycert.webhooks.signatures import get_scheme
from paycert.webhooks.sink import WebhookSink
from tests.conftest import StartSandbox
from tests.sandbox.test_txservices_spec import component, errors_of
from tests.sandbox.test_txservices_support import (
    ACS_PASSWORD,
    DECLINED,
    KEY,
    MASTERCARD_3DS,
    MEMBER,
    RETURN_URL,
    VISA,
    Tx,
    md5,
    order_id,
    read_form,
    return_query,
    submit_page,
)

CARD = {"expiryMonth": "12", "expiryYear": "2030", "cvv": "123"}


@pytest.fixture
def tx(sandbox: SandboxServer) -> Iterator[Tx]:
    client = Tx(sandbox.base_url)
    yield client
    client.close()


def invoice_body(amount: str = "25.00", **extra: str) -> dict[str, str]:
    reference = order_id()
    return {
        "authentication.memberId": MEMBER,
        "authentication.terminalId": "5501",
        "authentication.checksum": md5(MEMBER, KEY, reference, amount),
        "merchantTransactionId": reference,
        "amount": amount,
        "currency": "EUR",
        "customer.email": "ada@example.com",
        "orderDescriptor": "paycert test invoice",
        **extra,
    }


def create_invoice(tx: Tx, **extra: str) -> dict[str, Any]:
    response = tx.http.post(f"{tx.api}/invoices", data=invoice_body(**extra), headers=tx.headers())
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def read_invoice(tx: Tx, invoice_id: str, **header_args: str) -> httpx.Response:
    query = {"authentication.memberId": MEMBER, "authentication.checksum": md5(MEMBER, KEY, invoice_id)}
    return tx.http.get(f"{tx.api}/invoices/{invoice_id}", params=query, headers=tx.headers(**header_args))


def pay_link(tx: Tx, link: str, card: str) -> httpx.Response:
    return submit_page(tx, link, "pay", cardNumber=card, **CARD)


# -- the invoice and its link ---------------------------------------------------------------------------------


def test_an_invoice_is_generated_with_a_payment_link_and_reads_back_unpaid(tx: Tx) -> None:
    invoice = create_invoice(tx, merchantRedirectUrl=RETURN_URL)

    assert errors_of(component("Invoice"), invoice) == []
    assert invoice["status"] == "generated"
    assert invoice["result"]["code"] == "00001"
    assert invoice["paymentLink"] == f"{tx.base}/invoice/{invoice['invoiceId']}"
    assert "paymentId" not in invoice
    read = read_invoice(tx, invoice["invoiceId"])
    assert read.status_code == 200
    assert errors_of(component("Invoice"), read.json()) == []
    assert read.json()["status"] == "generated"
    assert read.json()["result"]["code"] == "00026"
    form = read_form(tx.http.get(invoice["paymentLink"]).text)
    assert form["attrs"]["id"] == "invoice-pay-form"


def test_paying_the_link_pays_the_invoice_and_calls_the_merchant_back(tx: Tx) -> None:
    with WebhookSink() as sink:
        invoice = create_invoice(tx, merchantRedirectUrl=RETURN_URL, notificationUrl=sink.url)

        answer = pay_link(tx, invoice["paymentLink"], VISA)

        back = return_query(answer)
        assert back["status"] == "Y"
        read = read_invoice(tx, invoice["invoiceId"]).json()
        assert (read["status"], read["paymentId"]) == ("paid", back["paymentId"])
        payment = tx.status(back["paymentId"]).json()
        assert errors_of(component("Payment"), payment) == []
        assert (payment["transactionStatus"], payment["paymentType"]) == ("Y", "DB")
        assert (payment["amount"], payment["invoiceId"]) == ("25.00", invoice["invoiceId"])
        assert payment["merchantTransactionId"] == invoice["merchantTransactionId"]
        [delivery] = sink.wait_for(1, timeout=5)
    callback = delivery.json()
    assert (callback["paymentId"], callback["transactionStatus"]) == (back["paymentId"], "Y")
    assert get_scheme("md5-callback-checksum").verify(KEY, delivery.body, delivery.headers).ok
    # Paid once: the link now says so, and a second payment is refused.
    assert "is paid" in tx.http.get(invoice["paymentLink"]).text
    again = tx.http.post(invoice["paymentLink"], data={"cardNumber": VISA, **CARD, "action": "pay"})
    assert again.status_code == 409


def test_without_a_merchant_page_the_shopper_stays_on_the_link_which_says_paid(tx: Tx) -> None:
    invoice = create_invoice(tx)

    answer = pay_link(tx, invoice["paymentLink"], VISA)

    assert answer.status_code == 303
    assert answer.headers["location"].startswith(invoice["paymentLink"] + "?")
    assert "is paid" in tx.http.get(answer.headers["location"]).text


def test_a_declined_card_leaves_the_invoice_payable(tx: Tx) -> None:
    invoice = create_invoice(tx, merchantRedirectUrl=RETURN_URL)

    declined = pay_link(tx, invoice["paymentLink"], DECLINED)

    assert declined.status_code == 200
    assert "Do not honour" in declined.text
    assert read_invoice(tx, invoice["invoiceId"]).json()["status"] == "generated"
    assert return_query(pay_link(tx, invoice["paymentLink"], VISA))["status"] == "Y"
    assert read_invoice(tx, invoice["invoiceId"]).json()["status"] == "paid"


def test_a_challenged_card_pays_the_invoice_once_3ds_passes(tx: Tx) -> None:
    invoice = create_invoice(tx, merchantRedirectUrl=RETURN_URL)

    to_acs = pay_link(tx, invoice["paymentLink"], MASTERCARD_3DS)

    assert to_acs.status_code == 303
    assert "/acs/" in to_acs.headers["location"]
    assert read_invoice(tx, invoice["invoiceId"]).json()["status"] == "generated"
    # While 3-D Secure is open, the link takes no second payment (it could pay the invoice twice).
    assert tx.http.post(invoice["paymentLink"], data={"cardNumber": VISA, **CARD}).status_code == 409
    back = return_query(submit_page(tx, to_acs.headers["location"], "pay", password=ACS_PASSWORD))
    assert back["status"] == "Y"
    assert read_invoice(tx, invoice["invoiceId"]).json()["paymentId"] == back["paymentId"]


def test_the_invoice_api_refuses_what_it_must(tx: Tx) -> None:
    body = invoice_body()
    wrong_sum = tx.http.post(
        f"{tx.api}/invoices", data={**body, "authentication.checksum": "0" * 32}, headers=tx.headers()
    )
    no_email = tx.http.post(
        f"{tx.api}/invoices", data={**invoice_body(), "customer.email": "nobody"}, headers=tx.headers()
    )
    no_token = tx.http.post(f"{tx.api}/invoices", data=invoice_body())
    unknown = read_invoice(tx, "inv_000000000000000000000000")
    bad_card = tx.http.post(create_invoice(tx)["paymentLink"], data={"cardNumber": "1234", **CARD})

    assert (wrong_sum.status_code, wrong_sum.json()["result"]["code"]) == (400, "10103")
    assert (no_email.status_code, no_email.json()["result"]["code"]) == (400, "10105")
    assert no_token.status_code == 401
    assert (unknown.status_code, unknown.json()["result"]["code"]) == (404, "10106")
    assert bad_card.status_code == 400
    assert "card.number" in bad_card.text
    assert tx.http.get(f"{tx.base}/invoice/inv_0").status_code == 404


def test_fault_invoice_link_unpaid_charges_the_card_but_the_invoice_never_knows(
    start_sandbox: StartSandbox,
) -> None:
    tx = Tx(start_sandbox("invoice-link-unpaid").base_url)
    try:
        with WebhookSink() as sink:
            invoice = create_invoice(tx, merchantRedirectUrl=RETURN_URL, notificationUrl=sink.url)

            back = return_query(pay_link(tx, invoice["paymentLink"], VISA))

            assert back["status"] == "Y"
            assert tx.status(back["paymentId"]).json()["transactionStatus"] == "Y"
            read = read_invoice(tx, invoice["invoiceId"]).json()
            assert read["status"] == "generated"
            assert "paymentId" not in read
            assert tx.outbox() == []  # no callback went out at all
            assert sink.deliveries == []
    finally:
        tx.close()


# -- XML answers ----------------------------------------------------------------------------------------------


def test_xml_answers_carry_the_json_fields_under_a_response_root(tx: Tx) -> None:
    paid = tx.pay(VISA)
    in_json = tx.status(paid["paymentId"]).json()

    answer = tx.http.get(
        f"{tx.api}/payments/{paid['paymentId']}",
        params={
            "authentication.memberId": MEMBER,
            "authentication.checksum": md5(MEMBER, KEY, paid["paymentId"]),
        },
        headers=tx.headers(accept="application/xml"),
    )

    root = ElementTree.fromstring(answer.text)
    assert root.tag == "response"
    assert [child.tag for child in root] == list(in_json)
    assert root.findtext("merchantTransactionId") == in_json["merchantTransactionId"]
    assert root.findtext("card/last4Digits") == "1111"


def test_fault_xml_drift_renames_a_field_of_xml_answers_only(start_sandbox: StartSandbox) -> None:
    tx = Tx(start_sandbox("xml-drift").base_url)
    try:
        body = tx.payment_body(VISA)
        in_xml = tx.create(body, accept="application/xml")
        in_json = tx.pay(VISA)
    finally:
        tx.close()

    root = ElementTree.fromstring(in_xml.text)
    assert root.find("merchantTransactionId") is None
    assert root.findtext("merchantTransactionID") == body["merchantTransactionId"]
    assert "merchantTransactionId" in in_json  # JSON answers are untouched
