"""The txservices faults that break one promise each: every test shows the misbehaviour on a real sandbox
started with the fault, and that the neighbouring correct behaviour is unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from paycert.webhooks.signatures import get_scheme
from paycert.webhooks.sink import WebhookSink
from tests.sandbox.conftest import TxWith
from tests.sandbox.test_txservices_support import (
    ACS_PASSWORD,
    DECLINED,
    KEY,
    MASTERCARD_3DS,
    MEMBER,
    VISA,
    Tx,
    callback_checksum,
    md5,
    order_id,
    return_query,
    submit_page,
)

WEBHOOK_SCHEMA = Path(__file__).resolve().parents[2] / "specs" / "txservices" / "schemas" / "webhook.json"


def _challenged(tx: Tx, **extra: str) -> dict[str, Any]:
    payment = tx.pay(MASTERCARD_3DS, "30.00", **extra)
    assert payment["transactionStatus"] == "3D"
    return payment


def _wallet(tx: Tx) -> dict[str, Any]:
    body = tx.payment_body(paymentMode="EW")
    for name in ("card.number", "card.expiryMonth", "card.expiryYear", "card.cvv", "paymentBrand"):
        del body[name]
    response = tx.create(body)
    assert response.status_code == 200, response.text
    payment: dict[str, Any] = response.json()
    assert payment["transactionStatus"] == "P"
    return payment


def _short_status(tx: Tx, payment_id: str) -> tuple[str, str]:
    document = tx.status(payment_id).json()
    return document["transactionStatus"], document["status"]


def _callback_statuses(tx: Tx) -> list[str]:
    """The long status of every callback queued so far (queued within the request that caused it)."""
    return [delivery["payload"]["status"] for delivery in tx.outbox()]


def test_any_3ds_password_completes_a_challenge_with_a_wrong_password(tx_with: TxWith) -> None:
    tx = tx_with("any-3ds-password")
    wrong = _challenged(tx)
    right = _challenged(tx)

    # submit_page asserts the challenge page is still shown, with its password input.
    answer = submit_page(tx, wrong["redirect"]["url"], "pay", password="not-the-password")

    assert return_query(answer)["status"] == "Y"
    assert _short_status(tx, wrong["paymentId"]) == ("Y", "capturesuccess")
    right_answer = submit_page(tx, right["redirect"]["url"], "pay", password=ACS_PASSWORD)
    assert return_query(right_answer)["status"] == "Y"
    assert _short_status(tx, right["paymentId"]) == ("Y", "capturesuccess")


def test_wrong_return_status_sends_a_completed_challenge_back_as_failed(tx_with: TxWith) -> None:
    tx = tx_with("wrong-return-status")
    with WebhookSink() as sink:
        passed = _challenged(tx, notificationUrl=sink.url)

        answer = submit_page(tx, passed["redirect"]["url"], "pay", password=ACS_PASSWORD)

        assert return_query(answer) == {"order": "1", "paymentId": passed["paymentId"], "status": "N"}
        assert _short_status(tx, passed["paymentId"]) == ("Y", "capturesuccess")
        [delivery] = sink.wait_for(1, timeout=5)
        assert delivery.json()["transactionStatus"] == "Y"
        assert delivery.json()["checksum"] == callback_checksum(delivery.json())
    failed = _challenged(tx)
    cancelled = _challenged(tx)
    failed_answer = submit_page(tx, failed["redirect"]["url"], "pay", password="not-the-password")
    cancelled_answer = submit_page(tx, cancelled["redirect"]["url"], "cancel")
    assert return_query(failed_answer)["status"] == "N"
    assert return_query(cancelled_answer)["status"] == "C"
    wallet = _wallet(tx)  # the e-wallet confirmation page returns the same lie
    assert return_query(submit_page(tx, wallet["redirect"]["url"], "pay"))["status"] == "N"
    assert _short_status(tx, wallet["paymentId"]) == ("Y", "capturesuccess")


def test_cancel_ignored_returns_as_cancelled_but_leaves_the_payment_open(tx_with: TxWith) -> None:
    tx = tx_with("cancel-ignored")
    with WebhookSink() as sink:
        payment = _challenged(tx, notificationUrl=sink.url)

        answer = submit_page(tx, payment["redirect"]["url"], "cancel")

        assert return_query(answer) == {"order": "1", "paymentId": payment["paymentId"], "status": "C"}
        assert _short_status(tx, payment["paymentId"]) == ("3D", "authstarted_3D")
        assert _callback_statuses(tx) == []  # no callback announces a cancel
        # The payment is still open: the same page still takes the right password, and the one callback
        # that follows is the success.
        paid = submit_page(tx, payment["redirect"]["url"], "pay", password=ACS_PASSWORD)
        assert return_query(paid)["status"] == "Y"
        [delivery] = sink.wait_for(1, timeout=5)
        assert delivery.json()["status"] == "capturesuccess"
    assert _callback_statuses(tx) == ["capturesuccess"]
    wallet = _wallet(tx)  # the e-wallet confirmation page's cancel is ignored the same way
    assert return_query(submit_page(tx, wallet["redirect"]["url"], "cancel"))["status"] == "C"
    assert _short_status(tx, wallet["paymentId"]) == ("P", "authstarted")


def test_webhook_drift_drops_the_timestamp_but_the_checksum_still_verifies(tx_with: TxWith) -> None:
    tx = tx_with("webhook-drift")
    schema = json.loads(WEBHOOK_SCHEMA.read_text(encoding="utf-8"))
    assert "timestamp" in schema["required"]
    with WebhookSink() as sink:
        payment = tx.pay(VISA, notificationUrl=sink.url)
        [delivery] = sink.wait_for(1, timeout=5)

    body = delivery.json()
    assert "timestamp" not in body
    assert set(schema["required"]) - set(body) == {"timestamp"}
    assert (body["paymentId"], body["transactionStatus"]) == (payment["paymentId"], "Y")
    assert get_scheme("md5-callback-checksum").verify(KEY, delivery.body, delivery.headers).ok
    with pytest.raises(jsonschema.ValidationError, match="timestamp"):
        jsonschema.Draft202012Validator(schema).validate(body)
    assert "timestamp" in payment  # the API answers keep theirs


def test_void_ignored_answers_reversed_but_the_authorization_stays_open(tx_with: TxWith) -> None:
    tx = tx_with("void-ignored")
    with WebhookSink() as sink:
        payment_id = tx.pay(VISA, "40.00", payment_type="PA", notificationUrl=sink.url)["paymentId"]

        reversed_ = tx.operate(payment_id, "RV")

        assert reversed_.status_code == 200
        assert reversed_.json()["result"] == {
            "code": "00006",
            "description": "Cancelled: the authorization was reversed",
        }
        assert (reversed_.json()["transactionStatus"], reversed_.json()["status"]) == ("C", "reversed")
        assert _short_status(tx, payment_id) == ("Y", "authsuccessful")
        assert tx.operate(payment_id, "CP", "40.00").status_code == 200  # still capturable
        sink.wait_for(2, timeout=5)
    assert sorted(_callback_statuses(tx)) == ["authsuccessful", "capturesuccess"]  # no reversal callback
    captured = tx.pay(VISA, "40.00")["paymentId"]
    assert tx.operate(captured, "RV").status_code == 409  # what may not be reversed is still refused


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


def test_orphan_recurring_charges_a_repeated_payment_without_a_valid_parent(tx_with: TxWith) -> None:
    tx = tx_with("orphan-recurring")
    plain = tx.pay(VISA)["paymentId"]
    declined_initial = tx.pay(DECLINED, recurringType="INITIAL")["paymentId"]

    for parent_id in ("999999999999", plain, declined_initial):
        status, child = _repeat(tx, parent_id)
        assert status == 200, child
        assert (child["transactionStatus"], child["status"]) == ("Y", "capturesuccess")
        assert (child["recurringType"], child["parentPaymentId"]) == ("REPEATED", parent_id)
        assert child["paymentId"] != parent_id
        assert _short_status(tx, child["paymentId"]) == ("Y", "capturesuccess")

    initial = tx.pay(VISA, "9.99", recurringType="INITIAL")
    status, child = _repeat(tx, initial["paymentId"])
    assert status == 200, child
    assert child["transactionStatus"] == "Y"
    assert child["card"] == initial["card"]


def _pay_with_token(tx: Tx, registration_id: str) -> tuple[int, dict[str, Any]]:
    reference = order_id()
    body = {
        "authentication.memberId": MEMBER,
        "authentication.terminalId": "5501",
        "authentication.checksum": md5(MEMBER, KEY, reference, "15.00"),
        "merchantTransactionId": reference,
        "amount": "15.00",
        "currency": "EUR",
        "paymentType": "DB",
        "merchantRedirectUrl": "http://127.0.0.1:9/return",
    }
    response = tx.http.post(f"{tx.api}/paywithtoken/{registration_id}", data=body, headers=tx.headers())
    return response.status_code, response.json()


def test_token_not_checked_charges_an_unknown_token(tx_with: TxWith) -> None:
    tx = tx_with("token-not-checked")

    status, unknown = _pay_with_token(tx, "reg_nope")

    assert status == 200, unknown
    assert (unknown["transactionStatus"], unknown["status"]) == ("Y", "capturesuccess")
    assert unknown["registrationId"] == "reg_nope"
    assert _short_status(tx, unknown["paymentId"]) == ("Y", "capturesuccess")
    registration_id = tx.pay(VISA, createRegistration="true")["registrationId"]
    status, known = _pay_with_token(tx, registration_id)
    assert status == 200, known
    assert known["paymentId"] != unknown["paymentId"]
    assert (known["transactionStatus"], known["card"]["last4Digits"]) == ("Y", "1111")


def _payout(tx: Tx, card: str) -> tuple[int, dict[str, Any]]:
    reference = order_id()
    body = {
        "authentication.memberId": MEMBER,
        "authentication.terminalId": "5501",
        "authentication.checksum": md5(MEMBER, reference, "20.00", KEY),
        "merchantTransactionId": reference,
        "amount": "20.00",
        "currency": "EUR",
        "paymentType": "PO",
        "paymentBrand": "VISA",
        "card.number": card,
        "card.expiryMonth": "12",
        "card.expiryYear": "2030",
    }
    response = tx.http.post(f"{tx.api}/payout", data=body, headers=tx.headers())
    return response.status_code, response.json()


def test_payout_declined_declines_a_payout_to_a_good_card(tx_with: TxWith) -> None:
    tx = tx_with("payout-declined")

    status, payout = _payout(tx, VISA)

    assert status == 200
    assert (payout["transactionStatus"], payout["status"], payout["result"]["code"]) == (
        "N",
        "payoutfailed",
        "10001",
    )
    assert _short_status(tx, payout["paymentId"]) == ("N", "payoutfailed")
    assert tx.pay(VISA)["transactionStatus"] == "Y"  # card payments are untouched
