"""txservices mandates (single-use and multi-use INITIAL payments) and zero-amount card verification (a card PA
of 0.00): paycert's decisions in specs/txservices/openapi.yaml, and the faults mandate-reuse and verify-charges.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from paycert.sandbox import SandboxServer
from tests.sandbox.conftest import TxWith
from tests.sandbox.test_concurrency import together
from tests.sandbox.test_txservices_support import DECLINED, KEY, MEMBER, VISA, Tx, md5, order_id

NOT_ALLOWED = "10107"


@pytest.fixture
def tx(sandbox: SandboxServer) -> Iterator[Tx]:
    client = Tx(sandbox.base_url)
    yield client
    client.close()


def repeat(tx: Tx, parent_id: str, amount: str = "5.00") -> httpx.Response:
    body = {
        "authentication.memberId": MEMBER,
        "authentication.checksum": md5(MEMBER, KEY, parent_id, amount),
        "recurringType": "REPEATED",
        "merchantTransactionId": order_id(),
        "amount": amount,
        "currency": "EUR",
        "paymentType": "DB",
    }
    return tx.http.post(f"{tx.api}/payments/{parent_id}", data=body, headers=tx.headers())


def single_use(tx: Tx, card: str = VISA) -> dict[str, Any]:
    parent = tx.pay(card, "20.00", recurringType="INITIAL", mandateType="SINGLE_USE")
    assert parent["mandateType"] == "SINGLE_USE"
    return parent


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


# ------------------------------------------------------------------------------------------------ mandates


def test_an_initial_payment_sets_up_a_multi_use_mandate_charged_again_and_again(tx: Tx) -> None:
    parent = tx.pay(VISA, "20.00", recurringType="INITIAL")
    assert parent["mandateType"] == "MULTI_USE"  # the seed's recurring series, the default

    children = [created(repeat(tx, parent["paymentId"])) for _ in range(3)]

    assert [c["transactionStatus"] for c in children] == ["Y"] * 3
    assert len({c["paymentId"] for c in children} | {parent["paymentId"]}) == 4


def test_a_single_use_mandate_is_charged_once_and_then_refused(tx: Tx) -> None:
    parent = single_use(tx)

    first = created(repeat(tx, parent["paymentId"]))
    second = repeat(tx, parent["paymentId"])

    assert (first["transactionStatus"], first["parentPaymentId"]) == ("Y", parent["paymentId"])
    assert second.status_code == 409, second.text
    assert second.json()["result"]["code"] == NOT_ALLOWED
    assert "single-use mandate" in second.json()["result"]["description"]
    assert tx.status(parent["paymentId"]).json()["mandateType"] == "SINGLE_USE"


def test_a_single_use_mandate_charged_by_many_at_once_is_charged_once(tx: Tx) -> None:
    parent = single_use(tx)
    tx.http.close()
    tx.http = httpx.Client(timeout=30.0, limits=httpx.Limits(max_connections=30))

    answers = together([lambda: repeat(tx, parent["paymentId"])] * 20)

    assert sorted(a.status_code for a in answers) == [200] + [409] * 19


def test_a_declined_charge_does_not_use_a_single_use_mandate(tx: Tx) -> None:
    parent = single_use(tx)
    # The card stored for the series expires (12/2030): its next charge is declined by the issuer.
    expiry = datetime(2031, 1, 2, tzinfo=UTC).timestamp()
    tx.advance(expiry - time.time() + 3600)
    tx._token = None  # the old authtoken expired with the clock

    declined = created(repeat(tx, parent["paymentId"]))
    again = repeat(tx, parent["paymentId"])

    assert declined["transactionStatus"] == "N"
    assert again.status_code == 200, "a declined charge used up the single-use mandate"
    assert again.json()["transactionStatus"] == "N"


def test_a_declined_initial_sets_up_no_mandate(tx: Tx) -> None:
    parent = tx.pay(DECLINED, "20.00", recurringType="INITIAL", mandateType="SINGLE_USE")

    answer = repeat(tx, parent["paymentId"])

    assert parent["transactionStatus"] == "N"
    assert answer.status_code == 409


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"mandateType": "SINGLE_USE"}, "mandateType is sent with recurringType INITIAL only"),
        ({"recurringType": "INITIAL", "mandateType": "TWICE"}, "mandateType must be MULTI_USE or SINGLE_USE"),
    ],
)
def test_a_mandate_type_out_of_place_is_refused(tx: Tx, extra: dict[str, str], why: str) -> None:
    response = tx.create(tx.payment_body(VISA, "20.00", **extra))

    assert response.status_code == 400
    assert why in response.json()["result"]["description"]


def test_mandate_reuse_charges_a_single_use_mandate_again(tx_with: TxWith) -> None:
    tx = tx_with("mandate-reuse")
    parent = single_use(tx)

    answers = [created(repeat(tx, parent["paymentId"])) for _ in range(2)]

    assert [a["transactionStatus"] for a in answers] == ["Y", "Y"]


# ------------------------------------------------------------------------------------------- verification


def test_a_zero_amount_preauthorization_verifies_a_card_without_holding_money(tx: Tx) -> None:
    verified = tx.pay(VISA, "0.00", payment_type="PA")

    assert (verified["transactionStatus"], verified["status"], verified["paymentType"]) == (
        "Y",
        "authsuccessful",
        "PA",
    )
    read = tx.status(verified["paymentId"]).json()
    assert (read["amount"], read["capturedAmount"]) == ("0.00", "0.00")
    for amount, status in (("0.01", 409), ("0.00", 400)):  # nothing held: nothing to capture
        assert tx.operate(verified["paymentId"], "CP", amount).status_code == status
    assert tx.status(verified["paymentId"]).json()["status"] == "authsuccessful"


def test_a_zero_amount_verification_declines_the_declined_card(tx: Tx) -> None:
    verified = tx.pay(DECLINED, "0.00", payment_type="PA")

    assert (verified["transactionStatus"], verified["status"]) == ("N", "authfailed")


def test_only_a_card_preauthorization_may_be_zero(tx: Tx) -> None:
    debit = tx.create(tx.payment_body(VISA, "0.00", "DB"))
    wallet = tx.payment_body(VISA, "0.00", "PA", paymentMode="EW")
    for name in ("card.number", "card.expiryMonth", "card.expiryYear", "card.cvv", "paymentBrand"):
        del wallet[name]

    for refused in (debit, tx.create(wallet)):
        assert refused.status_code == 400, refused.text
        assert refused.json()["result"]["code"] == "10104"
    assert tx.create(tx.payment_body(VISA, "-0.00", "PA")).status_code == 400


def test_verify_charges_debits_a_verification(tx_with: TxWith) -> None:
    tx = tx_with("verify-charges")

    verified = tx.pay(VISA, "0.00", payment_type="PA")

    assert (verified["status"], verified["paymentType"], verified["capturedAmount"]) == (
        "capturesuccess",
        "DB",
        "1.00",
    )
