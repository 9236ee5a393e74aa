"""txservices payments: sync debit, checksum, amounts, form vs JSON, XML answers, declines, idempotency."""

from __future__ import annotations

import json
from collections.abc import Iterator
from xml.etree import ElementTree

import pytest

from paycert.sandbox import SandboxServer
from paycert.webhooks.signatures import get_scheme
from paycert.webhooks.sink import WebhookSink
from tests.conftest import StartSandbox
from tests.sandbox.test_txservices_support import AMEX, DECLINED, KEY, VISA, Tx, callback_checksum, md5


@pytest.fixture
def tx(sandbox: SandboxServer) -> Iterator[Tx]:
    client = Tx(sandbox.base_url)
    yield client
    client.close()


def test_a_sync_debit_succeeds_and_the_callback_carries_a_valid_checksum(tx: Tx) -> None:
    with WebhookSink() as sink:
        payment = tx.pay(VISA, "25.50", notificationUrl=f"{sink.url}/notify")

        assert payment["transactionStatus"] == "Y"
        assert payment["status"] == "capturesuccess"
        assert payment["result"] == {"code": "00001", "description": "Transaction succeeded"}
        assert payment["card"] == {"bin": "411111", "last4Digits": "1111"}
        assert payment["amount"] == "25.50"
        assert "redirect" not in payment
        [delivery] = sink.wait_for(1, timeout=5)

    assert delivery.path == "/notify"
    body = delivery.json()
    assert body["paymentId"] == payment["paymentId"]
    assert body["transactionStatus"] == "Y"
    assert body["status"] == "capturesuccess"
    assert body["checksum"] == callback_checksum(body)
    assert get_scheme("md5-callback-checksum").verify(KEY, delivery.body, delivery.headers).ok
    assert "4111111111111111" not in delivery.body.decode()


def test_a_preauthorization_is_only_authorized(tx: Tx) -> None:
    payment = tx.pay(AMEX, "7.00", payment_type="PA")

    assert (payment["transactionStatus"], payment["status"]) == ("Y", "authsuccessful")
    assert payment["capturedAmount"] == "0.00"


def test_a_wrong_checksum_is_rejected(tx: Tx) -> None:
    body = tx.payment_body(amount="10.00")
    body["authentication.checksum"] = md5(
        body["authentication.memberId"], KEY, body["merchantTransactionId"], "99.00"
    )

    response = tx.create(body)

    assert response.status_code == 400
    assert response.json()["result"]["code"] == "10103"
    assert response.json()["result"]["description"].startswith("Checksum mismatch")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0.00", "greater than 0.00"),
        ("-5.00", "greater than 0.00"),
        ("10.5", "exactly two decimals"),
        ("10", "exactly two decimals"),
        ("ten", "exactly two decimals"),
    ],
)
def test_a_bad_amount_is_rejected(tx: Tx, amount: str, message: str) -> None:
    response = tx.create(tx.payment_body(amount=amount))

    assert response.status_code == 400
    result = response.json()["result"]
    assert result["code"] == "10104"
    assert message in result["description"]


def test_fault_accept_bad_amount_takes_a_zero_amount(start_sandbox: StartSandbox) -> None:
    tx = Tx(start_sandbox("accept-bad-amount").base_url)
    try:
        response = tx.create(tx.payment_body(amount="0.00"))
        assert response.status_code == 200
        assert response.json()["transactionStatus"] == "Y"
        assert tx.create(tx.payment_body(amount="1.5")).status_code == 400  # the format is still checked
    finally:
        tx.close()


def test_form_and_json_requests_give_the_same_answer(tx: Tx) -> None:
    as_form = tx.create(tx.payment_body(VISA, merchantTransactionId="same-1"))
    as_json = tx.create(tx.payment_body(VISA, merchantTransactionId="same-2"), as_json=True)

    assert as_form.status_code == as_json.status_code == 200
    form_body, json_body = as_form.json(), as_json.json()
    volatile = {"paymentId", "merchantTransactionId", "timestamp"}
    assert {k: v for k, v in form_body.items() if k not in volatile} == {
        k: v for k, v in json_body.items() if k not in volatile
    }


def test_an_unsupported_content_type_is_refused(tx: Tx) -> None:
    body = json.dumps(tx.payment_body())
    headers = {**tx.headers(), "Content-Type": "text/plain"}

    response = tx.http.post(f"{tx.api}/payments", content=body, headers=headers)

    assert response.status_code == 415
    assert response.json()["result"]["code"] == "10105"


def test_accept_xml_gives_the_same_fields_in_xml(tx: Tx) -> None:
    response = tx.create(tx.payment_body(VISA), accept="application/xml")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "response"
    assert root.findtext("transactionStatus") == "Y"
    assert root.findtext("result/code") == "00001"
    assert root.findtext("card/last4Digits") == "1111"
    assert root.findtext("paymentId", "").isdigit()


def test_errors_follow_accept_xml_too(tx: Tx) -> None:
    response = tx.create(tx.payment_body(amount="0.00"), accept="application/xml")

    assert response.status_code == 400
    assert ElementTree.fromstring(response.content).findtext("result/code") == "10104"


@pytest.mark.parametrize(
    ("card", "expiry_year", "reason"), [(DECLINED, "2030", "Do not honour"), (VISA, "2020", "Card expired")]
)
def test_a_declined_card_fails_with_10001(tx: Tx, card: str, expiry_year: str, reason: str) -> None:
    payment = tx.pay(card, **{"card.expiryYear": expiry_year})

    assert (payment["transactionStatus"], payment["status"]) == ("N", "authfailed")
    assert payment["result"] == {"code": "10001", "description": f"Transaction failed: {reason}"}


def test_an_invalid_card_number_is_a_parameter_error(tx: Tx) -> None:
    response = tx.create(tx.payment_body("4111111111111112"))

    assert response.status_code == 400
    assert (
        response.json()["result"]["description"]
        == "Invalid parameter: card.number is not a valid card number"
    )


def test_a_missing_parameter_is_named(tx: Tx) -> None:
    body = tx.payment_body()
    del body["currency"]

    response = tx.create(body)

    assert response.status_code == 400
    assert response.json()["result"] == {
        "code": "10105",
        "description": "Invalid parameter: missing currency",
    }


def test_the_same_idempotency_key_gives_the_same_payment_once(tx: Tx) -> None:
    body = tx.payment_body()

    first = tx.create(body, key="idem-1")
    second = tx.create(body, key="idem-1")
    other = tx.create(tx.payment_body(), key="idem-1")

    assert first.status_code == second.status_code == 200
    assert first.json()["paymentId"] == second.json()["paymentId"]
    assert second.headers.get("idempotent-replayed") == "true"
    assert other.status_code == 422


def test_fault_schema_drift_renames_the_payment_id(start_sandbox: StartSandbox) -> None:
    tx = Tx(start_sandbox("schema-drift").base_url)
    try:
        created = tx.pay(VISA)
        assert "paymentId" not in created
        status = tx.status(created["id"]).json()
        assert "paymentId" not in status
        assert status["id"] == created["id"]
    finally:
        tx.close()
