"""The sandbox's gateways keep each amount in its currency's ISO 4217 minor unit (issue 16, PAY-CURRENCY):
1 JPY, 1.001 KWD and 0.01 EUR come back as sent from create, status and refunds; more decimals than the currency
has are rounded (gustaffo, paylican) or refused (txservices) as each spec says; the `jpy-scaled` fault keeps
1 JPY as 100.

Plain httpx against a real sandbox on loopback, with the helpers of the gateways' own sandbox tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from paycert.sandbox import SandboxConfig, SandboxServer
from tests.conftest import StartSandbox
from tests.sandbox.test_gustaffo import VISA as GUSTAFFO_VISA
from tests.sandbox.test_gustaffo import Gustaffo, returned
from tests.sandbox.test_paylican_support import Paylican
from tests.sandbox.test_txservices_support import Tx


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    server = SandboxServer(SandboxConfig(tmp_path_factory.mktemp("currencies"))).start()
    yield server
    server.stop()


@pytest.fixture
def gustaffo(shared: SandboxServer) -> Iterator[Gustaffo]:
    client = Gustaffo(shared.base_url)
    yield client
    client.http.close()


@pytest.fixture
def tx(shared: SandboxServer) -> Iterator[Tx]:
    client = Tx(shared.base_url)
    yield client
    client.close()


@pytest.fixture
def paylican(shared: SandboxServer) -> Iterator[Paylican]:
    client = Paylican(shared.base_url)
    yield client
    client.close()


# --------------------------------------------------------------------------------------------- gustaffo


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [(1, "JPY", 1), (1.001, "KWD", 1.001), (0.01, "EUR", 0.01), (10.5, "EUR", 10.5)],
)
def test_gustaffo_answers_each_amount_in_its_currency(
    gustaffo: Gustaffo, amount: float, currency: str, expected: float
) -> None:
    created = gustaffo.created(amount, currency=currency)
    status = gustaffo.status(created["paymentId"]).json()

    assert (created["amount"], created["currency"]) == (expected, currency)
    assert (status["amount"], status["currency"]) == (expected, currency)


def test_gustaffo_writes_a_yen_amount_as_an_integer(gustaffo: Gustaffo) -> None:
    created = gustaffo.create(1, currency="JPY")

    assert '"amount":1,' in created.text.replace(" ", "")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [(1.5, "JPY", 2), (1.0005, "KWD", 1.001), (0.015, "EUR", 0.02)],
)
def test_gustaffo_rounds_extra_decimals_half_up_to_the_currency(
    gustaffo: Gustaffo, amount: float, currency: str, expected: float
) -> None:
    assert gustaffo.created(amount, currency=currency)["amount"] == expected


def test_gustaffo_refuses_an_amount_that_rounds_to_nothing(gustaffo: Gustaffo) -> None:
    answer = gustaffo.create(0.4, currency="JPY")

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_amount"


def test_gustaffo_refunds_in_the_payments_currency(gustaffo: Gustaffo) -> None:
    payment = gustaffo.created(1.002, currency="KWD")
    returned(gustaffo.pay(payment, GUSTAFFO_VISA))

    refund = gustaffo.refund(payment["paymentId"], 1.001)

    assert refund.status_code == 201, refund.text
    assert (refund.json()["amount"], refund.json()["refundedAmount"]) == (1.001, 1.001)
    assert refund.json()["status"] == "PARTIALLY_REFUNDED"


# ------------------------------------------------------------------------------------------- txservices


@pytest.mark.parametrize(("amount", "currency"), [("1", "JPY"), ("1.001", "KWD"), ("0.01", "EUR")])
def test_txservices_keeps_each_amount_with_its_currencys_decimals(tx: Tx, amount: str, currency: str) -> None:
    payment = tx.pay(amount=amount, currency=currency)
    status = tx.status(payment["paymentId"]).json()

    zero = {"JPY": "0", "KWD": "0.000", "EUR": "0.00"}[currency]
    assert (payment["amount"], payment["currency"]) == (amount, currency)
    assert (status["amount"], status["capturedAmount"], status["refundedAmount"]) == (amount, amount, zero)


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("1.00", "JPY", "JPY amounts have no decimals"),
        ("1.5", "JPY", "JPY amounts have no decimals"),
        ("1.00", "KWD", "exactly three decimals"),
        ("1.0015", "KWD", "exactly three decimals"),
        ("0.015", "EUR", "exactly two decimals"),
    ],
)
def test_txservices_refuses_other_decimals_than_the_currencys(
    tx: Tx, amount: str, currency: str, message: str
) -> None:
    answer = tx.create(tx.payment_body(amount=amount, currency=currency))

    assert answer.status_code == 400
    assert answer.json()["result"]["code"] == "10104"
    assert message in answer.json()["result"]["description"]


def test_txservices_refunds_in_the_payments_currency(tx: Tx) -> None:
    payment = tx.pay(amount="3", currency="JPY")

    wrong = tx.operate(payment["paymentId"], "RF", "1.00")
    refund = tx.operate(payment["paymentId"], "RF", "1")

    assert wrong.status_code == 400, wrong.text
    assert refund.status_code == 200, refund.text
    assert (refund.json()["refundedAmount"], refund.json()["status"]) == ("1", "partiallyrefunded")


# --------------------------------------------------------------------------------------------- paylican


def test_paylican_rounds_a_third_decimal_to_the_cent(paylican: Paylican) -> None:
    invoice = paylican.create(amount=0.015)

    assert paylican.status(invoice["invoiceId"])["totalAmount"] == 0.02


def test_paylican_refuses_less_than_a_cent(paylican: Paylican) -> None:
    answer = paylican.create_response(paylican.payment_body(amount=0.001))

    assert answer.status_code == 400
    assert "amount must be at least 0.01" in answer.text


def test_paylican_keeps_a_float_as_its_cents(paylican: Paylican) -> None:
    invoice = paylican.create(amount=19.990000000000002)

    assert paylican.status(invoice["invoiceId"])["totalAmount"] == 19.99


# ------------------------------------------------------------------------------------------ the fault


def test_jpy_scaled_fault_answers_one_yen_as_a_hundred(start_sandbox: StartSandbox) -> None:
    server = start_sandbox("jpy-scaled")
    gustaffo, tx = Gustaffo(server.base_url), Tx(server.base_url)
    try:
        created = gustaffo.created(1, currency="JPY")
        paid = tx.pay(amount="1", currency="JPY")
        euros = tx.pay(amount="0.01", currency="EUR")

        assert created["amount"] == 100
        assert gustaffo.status(created["paymentId"]).json()["amount"] == 100
        assert paid["amount"] == "100"
        assert tx.status(paid["paymentId"]).json()["amount"] == "100"
        assert euros["amount"] == "0.01"  # the other currencies are untouched
    finally:
        gustaffo.http.close()
        tx.close()
