"""Captures and refunds in part, refunds read back on their own, and 3-D Secure on a preauthorization, on the
txservices and gustaffo sandboxes, with the faults that break each (issue 16).

Plain httpx against a real sandbox on loopback; concurrent requests come from threads, as merchants' workers
would send them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from paycert.sandbox import SandboxServer
from tests.sandbox.conftest import TxWith
from tests.sandbox.test_gustaffo import Gustaffo, paid_payment
from tests.sandbox.test_txservices_support import (
    ACS_PASSWORD,
    MASTERCARD_3DS,
    VISA,
    Tx,
    return_query,
    submit_page,
)

CONCURRENT = 8


@pytest.fixture
def tx(sandbox: SandboxServer) -> Iterator[Tx]:
    client = Tx(sandbox.base_url)
    yield client
    client.close()


@pytest.fixture
def gustaffo(sandbox: SandboxServer) -> Iterator[Gustaffo]:
    client = Gustaffo(sandbox.base_url)
    yield client
    client.http.close()


def at_once(count: int, call: Callable[[], httpx.Response]) -> list[httpx.Response]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: call(), range(count)))


def get_refund(gustaffo: Gustaffo, refund_id: str, **headers: str) -> httpx.Response:
    return gustaffo.http.get(f"/api/v1/refunds/{refund_id}", headers={**gustaffo.auth, **headers})


# ---------------------------------------------------------------------------------------- txservices


def test_txservices_partial_capture_takes_the_part_and_releases_the_rest(tx: Tx) -> None:
    payment_id = tx.pay(VISA, "30.00", payment_type="PA")["paymentId"]

    captured = tx.operate(payment_id, "CP", "20.00")
    rest = tx.operate(payment_id, "CP", "10.00")

    assert captured.status_code == 200, captured.text
    assert (captured.json()["status"], captured.json()["capturedAmount"]) == ("capturesuccess", "20.00")
    assert rest.status_code == 409
    assert rest.json()["result"]["code"] == "10107"
    status = tx.status(payment_id).json()
    assert (status["amount"], status["capturedAmount"]) == ("30.00", "20.00")


def test_txservices_partial_capture_ignored_fault_takes_the_whole_authorization(
    tx_with: TxWith,
) -> None:
    tx = tx_with("partial-capture-ignored")
    payment_id = tx.pay(VISA, "30.00", payment_type="PA")["paymentId"]

    captured = tx.operate(payment_id, "CP", "20.00")

    assert captured.status_code == 200, captured.text
    assert captured.json()["capturedAmount"] == "30.00"
    assert tx.operate(payment_id, "CP", "30.01").status_code == 409  # the over-capture check still holds


def test_txservices_concurrent_captures_capture_once(tx: Tx) -> None:
    payment_id = tx.pay(VISA, "30.00", payment_type="PA")["paymentId"]

    answers = at_once(CONCURRENT, lambda: tx.operate(payment_id, "CP", "20.00"))

    assert sorted(a.status_code for a in answers) == [200] + [409] * (CONCURRENT - 1)
    assert tx.status(payment_id).json()["capturedAmount"] == "20.00"


def test_txservices_a_partial_refund_is_a_transaction_of_its_own_read_by_get_payment(tx: Tx) -> None:
    payment_id = tx.pay(VISA, "30.00")["paymentId"]

    refunded = tx.operate(payment_id, "RF", "10.00")
    refund_id = refunded.json()["refundId"]
    refund = tx.status(refund_id)

    assert refunded.status_code == 200, refunded.text
    assert (refunded.json()["status"], refunded.json()["refundedAmount"]) == ("partiallyrefunded", "10.00")
    assert refund.status_code == 200, refund.text
    body = refund.json()
    assert body["paymentId"] == refund_id != payment_id
    assert (body["paymentType"], body["status"], body["transactionStatus"]) == ("RF", "refunded", "Y")
    assert (body["amount"], body["currency"], body["parentPaymentId"]) == ("10.00", "EUR", payment_id)
    assert "refundedAmount" not in body  # the refund is not a payment that could itself be refunded
    assert tx.status(payment_id).json()["refundId"] == refund_id


def test_txservices_refunds_once_even_within_what_is_left_and_a_refund_cannot_be_refunded(tx: Tx) -> None:
    payment_id = tx.pay(VISA, "30.00")["paymentId"]
    refund_id = tx.operate(payment_id, "RF", "10.00").json()["refundId"]

    again = tx.operate(payment_id, "RF", "5.00")
    of_the_refund = tx.operate(refund_id, "RF", "5.00")

    assert again.status_code == 409
    assert "only once" in again.json()["result"]["description"]
    assert of_the_refund.status_code == 409
    assert tx.status(payment_id).json()["refundedAmount"] == "10.00"


def test_txservices_concurrent_refunds_refund_once(tx: Tx) -> None:
    payment_id = tx.pay(VISA, "30.00")["paymentId"]

    answers = at_once(CONCURRENT, lambda: tx.operate(payment_id, "RF", "10.00"))

    assert sorted(a.status_code for a in answers) == [200] + [409] * (CONCURRENT - 1)
    status = tx.status(payment_id).json()
    assert (status["status"], status["refundedAmount"]) == ("partiallyrefunded", "10.00")


def test_txservices_refund_status_stale_fault_reads_the_refund_as_pending(
    tx_with: TxWith,
) -> None:
    tx = tx_with("refund-status-stale")
    payment_id = tx.pay(VISA, "30.00")["paymentId"]
    refund_id = tx.operate(payment_id, "RF", "10.00").json()["refundId"]

    refund = tx.status(refund_id).json()

    assert (refund["status"], refund["transactionStatus"]) == ("authstarted", "P")
    assert tx.status(payment_id).json()["status"] == "partiallyrefunded"  # only the refund's read is stale


def _challenged_preauthorization(tx: Tx) -> dict[str, Any]:
    payment = tx.pay(MASTERCARD_3DS, "30.00", payment_type="PA")
    assert (payment["transactionStatus"], payment["status"]) == ("3D", "authstarted_3D")
    answer = submit_page(tx, payment["redirect"]["url"], "pay", password=ACS_PASSWORD)
    assert return_query(answer)["status"] == "Y"
    return payment


def test_txservices_a_challenged_preauthorization_is_held_after_3ds_then_captured(tx: Tx) -> None:
    payment_id = str(_challenged_preauthorization(tx)["paymentId"])

    held = tx.status(payment_id).json()
    captured = tx.operate(payment_id, "CP", "30.00")

    assert (held["status"], held["capturedAmount"]) == ("authsuccessful", "0.00")
    assert captured.status_code == 200, captured.text
    assert (captured.json()["status"], captured.json()["capturedAmount"]) == ("capturesuccess", "30.00")


def test_txservices_3ds_manual_autocapture_fault_captures_at_once(tx_with: TxWith) -> None:
    tx = tx_with("3ds-manual-autocapture")
    payment_id = str(_challenged_preauthorization(tx)["paymentId"])

    status = tx.status(payment_id).json()

    assert (status["status"], status["capturedAmount"]) == ("capturesuccess", "30.00")
    assert tx.operate(payment_id, "CP", "30.00").status_code == 409
    # A frictionless preauthorization is still only held: the fault is about the challenged one.
    frictionless = tx.pay(VISA, "30.00", payment_type="PA")
    assert frictionless["status"] == "authsuccessful"


# ------------------------------------------------------------------------------------------ gustaffo


def test_gustaffo_partial_refunds_add_up_and_the_last_over_the_remainder_is_refused(
    gustaffo: Gustaffo,
) -> None:
    payment_id = paid_payment(gustaffo, 30)

    first, second = gustaffo.refund(payment_id, 10), gustaffo.refund(payment_id, 10)
    over = gustaffo.refund(payment_id, 10.01)
    after_over = gustaffo.status(payment_id).json()
    last = gustaffo.refund(payment_id, 10)

    assert [first.status_code, second.status_code] == [201, 201]
    assert [first.json()["status"], second.json()["status"]] == ["PARTIALLY_REFUNDED"] * 2
    assert second.json()["refundedAmount"] == 20
    assert over.status_code == 400
    assert over.json()["error"] == "refund_exceeds_remaining"
    assert (after_over["status"], after_over["refundedAmount"]) == ("PARTIALLY_REFUNDED", 20)
    assert last.status_code == 201, last.text
    status = gustaffo.status(payment_id).json()
    assert (status["status"], status["refundedAmount"]) == ("REFUNDED", 30)


def test_gustaffo_concurrent_refunds_never_pass_the_payment_amount(gustaffo: Gustaffo) -> None:
    payment_id = paid_payment(gustaffo, 30)

    answers = at_once(CONCURRENT, lambda: gustaffo.refund(payment_id, 10))

    assert sorted(a.status_code for a in answers).count(201) == 3
    status = gustaffo.status(payment_id).json()
    assert (status["status"], status["refundedAmount"]) == ("REFUNDED", 30)


def test_gustaffo_a_refund_is_read_back_by_its_id(gustaffo: Gustaffo) -> None:
    payment_id = paid_payment(gustaffo, 30)
    answered = gustaffo.refund(payment_id, 10).json()
    gustaffo.refund(payment_id, 5)  # a later refund does not change how the first one reads

    read = get_refund(gustaffo, answered["refundId"])

    assert read.status_code == 200, read.text
    assert read.json() == answered
    assert (read.json()["paymentId"], read.json()["amount"], read.json()["status"]) == (
        payment_id,
        10,
        "PARTIALLY_REFUNDED",
    )


def test_gustaffo_an_unknown_refund_is_404_and_a_refund_needs_the_token(gustaffo: Gustaffo) -> None:
    payment_id = paid_payment(gustaffo, 30)
    refund_id = gustaffo.refund(payment_id, 10).json()["refundId"]

    unknown = get_refund(gustaffo, "rf_no_such_refund")
    anonymous = gustaffo.http.get(f"/api/v1/refunds/{refund_id}")

    assert (unknown.status_code, unknown.json()) == (
        404,
        {"error": "not_found", "message": "Refund not found"},
    )
    assert anonymous.status_code == 401


def test_gustaffo_refund_over_remainder_fault_accepts_a_refund_beyond_what_is_left(
    faulty_gustaffo: Callable[..., Gustaffo],
) -> None:
    gustaffo = faulty_gustaffo("refund-over-remainder")
    payment_id = paid_payment(gustaffo, 30)
    assert gustaffo.refund(payment_id, 20).status_code == 201

    over = gustaffo.refund(payment_id, 20)

    assert over.status_code == 201, over.text
    assert gustaffo.status(payment_id).json()["refundedAmount"] == 40
    assert gustaffo.refund(payment_id, 30.01).status_code == 409  # refunded: nothing more is taken


def test_gustaffo_refund_status_stale_fault_reads_a_refund_as_one_of_the_whole_payment(
    faulty_gustaffo: Callable[..., Gustaffo],
) -> None:
    gustaffo = faulty_gustaffo("refund-status-stale")
    payment_id = paid_payment(gustaffo, 30)
    answered = gustaffo.refund(payment_id, 10).json()

    read = get_refund(gustaffo, answered["refundId"]).json()

    assert answered["amount"] == 10
    assert read["amount"] == 30
