"""txservices recurring payments, tokenization (registrations, pay with token) and payouts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from paycert.sandbox import SandboxServer
from tests.sandbox.test_txservices_support import (
    ACS_PASSWORD,
    DECLINED,
    KEY,
    MASTERCARD_3DS,
    MEMBER,
    VISA,
    Tx,
    md5,
    order_id,
    submit_page,
)


@pytest.fixture
def tx(sandbox: SandboxServer) -> Iterator[Tx]:
    client = Tx(sandbox.base_url)
    yield client
    client.close()


def _repeat(tx: Tx, parent_id: str, amount: str = "9.99") -> tuple[int, dict[str, Any]]:
    body = {
        "authentication.memberId": MEMBER,
        "authentication.checksum": md5(MEMBER, KEY, parent_id, amount),
        "recurringType": "REPEATED",
        "merchantTransactionId": order_id(),
        "amount": amount,
        "currency": "EUR",
        "paymentType": "DB",
    }
    response = tx.http.post(f"{tx.api}/payments/{parent_id}", data=body, headers=tx.headers())
    return response.status_code, response.json()


def test_a_repeated_payment_charges_the_initial_payments_card(tx: Tx) -> None:
    parent = tx.pay(VISA, "9.99", recurringType="INITIAL")
    assert (parent["transactionStatus"], parent["recurringType"]) == ("Y", "INITIAL")

    status, child = _repeat(tx, parent["paymentId"])

    assert status == 200, child
    assert child["transactionStatus"] == "Y"
    assert child["recurringType"] == "REPEATED"
    assert child["parentPaymentId"] == parent["paymentId"]
    assert child["paymentId"] != parent["paymentId"]
    assert child["card"] == parent["card"]


def test_a_repeated_payment_of_a_3ds_card_is_not_challenged(tx: Tx) -> None:
    parent = tx.pay(MASTERCARD_3DS, "5.00", recurringType="INITIAL")
    assert parent["transactionStatus"] == "3D"
    assert _repeat(tx, parent["paymentId"])[0] == 409  # the INITIAL is not successful yet
    submit_page(tx, parent["redirect"]["url"], "pay", password=ACS_PASSWORD)

    status, child = _repeat(tx, parent["paymentId"])

    assert status == 200, child
    assert child["transactionStatus"] == "Y"  # merchant-initiated: no 3-D Secure
    assert "redirect" not in child


def test_repeated_without_an_initial_parent_is_rejected(tx: Tx) -> None:
    plain = tx.pay(VISA)
    declined = tx.pay(DECLINED, recurringType="INITIAL")

    for parent_id in (plain["paymentId"], declined["paymentId"]):
        status, body = _repeat(tx, parent_id)
        assert status == 409
        assert body["result"] == {
            "code": "10107",
            "description": "Operation not allowed: recurringType REPEATED needs a successful INITIAL payment as parent",
        }


def test_repeated_sent_to_the_create_endpoint_is_refused(tx: Tx) -> None:
    response = tx.create(tx.payment_body(recurringType="REPEATED"))

    assert response.status_code == 400


def test_create_registration_then_pay_with_the_token(tx: Tx) -> None:
    payment = tx.pay(VISA, createRegistration="true")
    registration_id = payment["registrationId"]
    reference = order_id()
    body = {
        "authentication.memberId": MEMBER,
        "authentication.terminalId": tx.payment_body()["authentication.terminalId"],
        "authentication.checksum": md5(MEMBER, KEY, reference, "15.00"),
        "merchantTransactionId": reference,
        "amount": "15.00",
        "currency": "EUR",
        "paymentType": "DB",
        "merchantRedirectUrl": "http://127.0.0.1:9/return",
    }

    response = tx.http.post(f"{tx.api}/paywithtoken/{registration_id}", data=body, headers=tx.headers())

    assert response.status_code == 200, response.text
    assert response.json()["transactionStatus"] == "Y"
    assert response.json()["card"]["last4Digits"] == "1111"
    assert response.json()["registrationId"] == registration_id


def test_a_standalone_registration_charges_nothing(tx: Tx) -> None:
    reference = order_id()
    body = {
        "authentication.memberId": MEMBER,
        "authentication.terminalId": tx.payment_body()["authentication.terminalId"],
        "authentication.checksum": md5(MEMBER, KEY, reference),
        "merchantTransactionId": reference,
        "paymentBrand": "VISA",
        "card.number": VISA,
        "card.expiryMonth": "12",
        "card.expiryYear": "2030",
        "card.cvv": "123",
    }

    response = tx.http.post(f"{tx.api}/registrations", json=body, headers=tx.headers())

    assert response.status_code == 200, response.text
    document = response.json()
    assert document["registrationId"].startswith("reg_")
    assert document["result"] == {"code": "00001", "description": "Registration successful"}
    assert document["card"] == {"bin": "411111", "last4Digits": "1111"}
    assert VISA not in response.text


def test_pay_with_an_unknown_token_is_404(tx: Tx) -> None:
    reference = order_id()
    body = {
        "authentication.memberId": MEMBER,
        "authentication.terminalId": "5501",
        "authentication.checksum": md5(MEMBER, KEY, reference, "1.00"),
        "merchantTransactionId": reference,
        "amount": "1.00",
        "currency": "EUR",
        "paymentType": "DB",
        "merchantRedirectUrl": "http://127.0.0.1:9/r",
    }

    response = tx.http.post(f"{tx.api}/paywithtoken/reg_nope", data=body, headers=tx.headers())

    assert response.status_code == 404


def _payout(tx: Tx, card: str, amount: str = "20.00", secret: str = KEY) -> tuple[int, dict[str, Any]]:
    reference = order_id()
    body = {
        "authentication.memberId": MEMBER,
        "authentication.terminalId": "5501",
        "authentication.checksum": md5(MEMBER, reference, amount, secret),
        "merchantTransactionId": reference,
        "amount": amount,
        "currency": "EUR",
        "paymentType": "PO",
        "paymentBrand": "VISA",
        "card.number": card,
        "card.expiryMonth": "12",
        "card.expiryYear": "2030",
    }
    response = tx.http.post(f"{tx.api}/payout", data=body, headers=tx.headers())
    return response.status_code, response.json()


def test_a_payout_to_a_card(tx: Tx) -> None:
    status, payout = _payout(tx, VISA)

    assert status == 200, payout
    assert (payout["transactionStatus"], payout["status"], payout["paymentType"]) == (
        "Y",
        "payoutsuccessful",
        "PO",
    )
    inquiry = tx.status(str(payout["paymentId"])).json()
    assert inquiry["status"] == "payoutsuccessful"


def test_a_payout_to_a_declined_card_fails(tx: Tx) -> None:
    status, payout = _payout(tx, DECLINED)

    assert status == 200
    assert (payout["transactionStatus"], payout["status"]) == ("N", "payoutfailed")


def test_a_payout_checksum_in_the_payment_order_is_rejected(tx: Tx) -> None:
    status, body = _payout(tx, VISA, secret="not-the-key")

    assert status == 400
    assert body["result"]["code"] == "10103"
