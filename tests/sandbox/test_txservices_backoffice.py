"""txservices back office: capture, refund, reversal and the status inquiry, with their faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from paycert.sandbox import SandboxServer
from paycert.webhooks.sink import WebhookSink
from tests.conftest import StartSandbox
from tests.sandbox.test_txservices_support import (
    DECLINED,
    KEY,
    MASTERCARD_3DS,
    MEMBER,
    VISA,
    Tx,
    md5,
    submit_page,
)


@pytest.fixture
def tx(sandbox: SandboxServer) -> Iterator[Tx]:
    client = Tx(sandbox.base_url)
    yield client
    client.close()


def test_preauth_capture_and_refund_within_their_limits(tx: Tx) -> None:
    with WebhookSink() as sink:
        payment_id = tx.pay(VISA, "100.00", payment_type="PA", notificationUrl=sink.url)["paymentId"]

        over = tx.operate(payment_id, "CP", "100.01")
        assert over.status_code == 409
        assert over.json()["result"]["code"] == "10107"
        assert "exceeds the authorized amount" in over.json()["result"]["description"]

        captured = tx.operate(payment_id, "CP", "80.00")
        assert captured.status_code == 200, captured.text
        assert captured.json()["result"] == {"code": "00004", "description": "Captured"}
        assert (captured.json()["status"], captured.json()["capturedAmount"]) == ("capturesuccess", "80.00")

        assert tx.operate(payment_id, "CP", "10.00").status_code == 409  # captured once only

        too_much = tx.operate(payment_id, "RF", "80.01")
        assert too_much.status_code == 409
        assert "exceeds the captured amount" in too_much.json()["result"]["description"]

        refunded = tx.operate(payment_id, "RF", "30.00")
        assert refunded.status_code == 200
        assert refunded.json()["result"]["code"] == "00005"
        assert (refunded.json()["status"], refunded.json()["refundedAmount"]) == (
            "partiallyrefunded",
            "30.00",
        )

        again = tx.operate(payment_id, "RF", "10.00")
        assert again.status_code == 409
        assert "only once" in again.json()["result"]["description"]

        events = [d.json()["status"] for d in sink.wait_for(3, timeout=5)]
    # Callbacks are sent concurrently, so they may arrive in any order (as with real gateways).
    assert sorted(events) == ["authsuccessful", "capturesuccess", "partiallyrefunded"]


def test_a_full_refund_of_a_debit_marks_it_refunded(tx: Tx) -> None:
    payment_id = tx.pay(VISA, "12.00")["paymentId"]

    response = tx.operate(payment_id, "RF", "12.00")

    assert response.json()["status"] == "refunded"
    assert tx.status(payment_id).json()["status"] == "refunded"


def test_a_refund_with_the_capture_checksum_of_another_amount_is_rejected(tx: Tx) -> None:
    payment_id = tx.pay(VISA, "12.00")["paymentId"]
    body = {
        "authentication.memberId": MEMBER,
        "paymentType": "RF",
        "amount": "5.00",
        "authentication.checksum": md5(MEMBER, KEY, payment_id, "6.00"),
    }

    response = tx.http.post(f"{tx.api}/payments/{payment_id}", data=body, headers=tx.headers())

    assert response.status_code == 400
    assert response.json()["result"]["code"] == "10103"


def test_a_reversal_cancels_an_authorized_preauth(tx: Tx) -> None:
    payment_id = tx.pay(VISA, "40.00", payment_type="PA")["paymentId"]

    body = {
        "authentication.memberId": MEMBER,
        "paymentType": "RV",
        "amount": "10.00",
        "authentication.checksum": md5(MEMBER, KEY, payment_id),
    }
    partial = tx.http.post(f"{tx.api}/payments/{payment_id}", data=body, headers=tx.headers())
    reversed_ = tx.operate(payment_id, "RV")

    assert partial.status_code == 400  # full only
    assert reversed_.status_code == 200
    assert reversed_.json()["result"]["code"] == "00006"
    assert (reversed_.json()["transactionStatus"], reversed_.json()["status"]) == ("C", "reversed")
    assert tx.operate(payment_id, "CP", "40.00").status_code == 409


def test_a_captured_payment_cannot_be_reversed(tx: Tx) -> None:
    payment_id = tx.pay(VISA, "40.00")["paymentId"]

    response = tx.operate(payment_id, "RV")

    assert response.status_code == 409
    assert "not captured preauthorization" in response.json()["result"]["description"]


def test_an_unknown_payment_is_404(tx: Tx) -> None:
    response = tx.status("999")

    assert response.status_code == 404
    assert response.json()["result"]["code"] == "10106"


def test_the_inquiry_checks_its_checksum(tx: Tx) -> None:
    payment_id = tx.pay(VISA)["paymentId"]

    good = tx.status(payment_id)
    bad = tx.status(payment_id, checksum=md5(MEMBER, "wrong", payment_id))

    assert good.status_code == 200
    assert good.json()["result"] == {"code": "00026", "description": "Record found"}
    assert bad.status_code == 400


def test_fault_capture_over_auth_accepts_more_than_authorized(start_sandbox: StartSandbox) -> None:
    tx = Tx(start_sandbox("capture-over-auth").base_url)
    try:
        payment_id = tx.pay(VISA, "10.00", payment_type="PA")["paymentId"]
        response = tx.operate(payment_id, "CP", "50.00")
        assert response.status_code == 200
        assert response.json()["capturedAmount"] == "50.00"
    finally:
        tx.close()


def test_fault_double_refund_accepts_refunding_twice_and_over(start_sandbox: StartSandbox) -> None:
    tx = Tx(start_sandbox("double-refund").base_url)
    try:
        payment_id = tx.pay(VISA, "10.00")["paymentId"]
        assert tx.operate(payment_id, "RF", "10.00").status_code == 200
        second = tx.operate(payment_id, "RF", "10.00")
        assert second.status_code == 200
        assert second.json()["refundedAmount"] == "20.00"
    finally:
        tx.close()


def test_fault_wrong_status_reports_a_declined_payment_as_success(start_sandbox: StartSandbox) -> None:
    tx = Tx(start_sandbox("wrong-status").base_url)
    try:
        payment = tx.pay(DECLINED)
        assert payment["transactionStatus"] == "N"
        status = tx.status(payment["paymentId"]).json()
        assert (status["transactionStatus"], status["status"]) == ("Y", "capturesuccess")

        # Only the card the issuer refused is misreported: a failed 3-D Secure and a cancel read true.
        failed_3ds = tx.pay(MASTERCARD_3DS)
        submit_page(tx, failed_3ds["redirect"]["url"], "pay", password="not-the-password")
        cancelled = tx.pay(MASTERCARD_3DS)
        submit_page(tx, cancelled["redirect"]["url"], "cancel")
        failed_status = tx.status(failed_3ds["paymentId"]).json()
        cancelled_status = tx.status(cancelled["paymentId"]).json()
        assert (failed_status["transactionStatus"], failed_status["status"]) == ("N", "authfailed")
        assert (cancelled_status["transactionStatus"], cancelled_status["status"]) == ("C", "cancelled")
    finally:
        tx.close()
