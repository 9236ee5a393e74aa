"""txservices 3-D Secure (ACS page), the e-wallet confirmation page, and expiry of payments left open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from paycert.sandbox import SandboxServer
from paycert.webhooks.sink import WebhookSink
from tests.conftest import StartSandbox
from tests.sandbox.test_txservices_support import (
    ACS_PASSWORD,
    MASTERCARD_3DS,
    Tx,
    callback_checksum,
    return_query,
    submit_page,
)


@pytest.fixture
def tx(sandbox: SandboxServer) -> Iterator[Tx]:
    client = Tx(sandbox.base_url)
    yield client
    client.close()


def _challenged(tx: Tx, **extra: str) -> dict[str, Any]:
    payment = tx.pay(MASTERCARD_3DS, "30.00", **extra)
    assert payment["transactionStatus"] == "3D"
    assert payment["status"] == "authstarted_3D"
    assert payment["result"]["code"] == "00002"
    return payment


def test_3ds_with_the_right_password_succeeds_and_returns_to_the_merchant(tx: Tx) -> None:
    with WebhookSink() as sink:
        payment = _challenged(tx, notificationUrl=sink.url)
        redirect = payment["redirect"]
        assert redirect["method"] == "GET"
        assert redirect["url"].endswith(f"/txservices/acs/{payment['paymentId']}")
        assert sink.deliveries == []  # no callback while the challenge is open

        answer = submit_page(tx, redirect["url"], "pay", password=ACS_PASSWORD)

        assert return_query(answer) == {"order": "1", "paymentId": payment["paymentId"], "status": "Y"}
        status = tx.status(str(payment["paymentId"])).json()
        assert (status["transactionStatus"], status["status"]) == ("Y", "capturesuccess")
        assert "redirect" not in status
        [delivery] = sink.wait_for(1, timeout=5)
        assert delivery.json()["transactionStatus"] == "Y"
        assert delivery.json()["checksum"] == callback_checksum(delivery.json())


def test_3ds_with_a_wrong_password_fails(tx: Tx) -> None:
    payment = _challenged(tx)

    answer = submit_page(tx, payment["redirect"]["url"], "pay", password="wrong")

    assert return_query(answer)["status"] == "N"
    status = tx.status(str(payment["paymentId"])).json()
    assert (status["transactionStatus"], status["status"]) == ("N", "authfailed")


def test_3ds_cancelled_by_the_account_holder(tx: Tx) -> None:
    payment = _challenged(tx)

    answer = submit_page(tx, payment["redirect"]["url"], "cancel")

    assert return_query(answer)["status"] == "C"
    assert tx.status(str(payment["paymentId"])).json()["status"] == "cancelled"


def test_the_acs_page_cannot_be_used_twice(tx: Tx) -> None:
    payment = _challenged(tx)
    url = payment["redirect"]["url"]
    submit_page(tx, url, "pay", password=ACS_PASSWORD)

    again = tx.http.post(url, data={"password": ACS_PASSWORD, "action": "pay"})

    assert again.status_code == 409
    assert tx.http.get(url).status_code == 409


def test_fault_skip_3ds_completes_a_challenge_card_without_the_page(start_sandbox: StartSandbox) -> None:
    tx = Tx(start_sandbox("skip-3ds").base_url)
    try:
        payment = tx.pay(MASTERCARD_3DS)
        assert payment["transactionStatus"] == "Y"
        assert "redirect" not in payment
    finally:
        tx.close()


def test_an_open_challenge_expires_after_30_minutes(tx: Tx) -> None:
    with WebhookSink() as sink:
        payment = _challenged(tx, notificationUrl=sink.url)
        tx.advance(29 * 60)
        assert tx.status(str(payment["paymentId"])).json()["transactionStatus"] == "3D"

        tx.advance(61)

        status = tx.status(str(payment["paymentId"])).json()
        assert (status["transactionStatus"], status["status"]) == ("C", "expired")
        [delivery] = sink.wait_for(1, timeout=5)
        assert delivery.json()["status"] == "expired"
        assert tx.http.get(payment["redirect"]["url"]).status_code == 409


def _wallet(tx: Tx) -> dict[str, Any]:
    body = tx.payment_body(paymentMode="EW")
    for name in ("card.number", "card.expiryMonth", "card.expiryYear", "card.cvv", "paymentBrand"):
        del body[name]
    response = tx.create(body)
    assert response.status_code == 200, response.text
    payment: dict[str, Any] = response.json()
    assert payment["transactionStatus"] == "P"
    assert "card" not in payment
    return payment


def test_an_ewallet_payment_is_pending_until_the_account_holder_confirms(tx: Tx) -> None:
    payment = _wallet(tx)
    assert payment["redirect"]["url"].endswith(f"/confirm/{payment['paymentId']}")

    answer = submit_page(tx, payment["redirect"]["url"], "pay")

    assert return_query(answer)["status"] == "Y"
    assert tx.status(str(payment["paymentId"])).json()["transactionStatus"] == "Y"


def test_an_ewallet_payment_can_be_cancelled(tx: Tx) -> None:
    payment = _wallet(tx)

    answer = submit_page(tx, payment["redirect"]["url"], "cancel")

    assert return_query(answer)["status"] == "C"


def test_an_open_challenge_and_its_token_survive_a_restart(start_sandbox: StartSandbox) -> None:
    first = start_sandbox()
    tx = Tx(first.base_url)
    payment = _challenged(tx)
    token = tx.token()
    tx.close()
    first.stop()

    again = start_sandbox(data_dir=first.config.data_dir)
    tx = Tx(again.base_url)
    tx._token = token  # the token issued before the restart is still accepted
    try:
        url = f"{tx.base}/acs/{payment['paymentId']}"
        answer = submit_page(tx, url, "pay", password=ACS_PASSWORD)
        assert return_query(answer)["status"] == "Y"
        assert tx.status(str(payment["paymentId"])).json()["transactionStatus"] == "Y"
    finally:
        tx.close()
