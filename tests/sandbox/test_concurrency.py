"""The sandbox under concurrent requests: one payment per Idempotency-Key, whatever the number of concurrent
creates; refunds and captures that never go past what was captured.

All three gateways take `Idempotency-Key` on their creates (specs/*/openapi.yaml). The requests of a round
wait at a barrier, on threads of their own sharing one connection pool, and leave together. Payments are
counted in the sandbox's own SQLite file as well as in the answers: a race that made a second payment and
answered with the first would still be caught.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from paycert.sandbox import SandboxServer
from tests.sandbox.test_gustaffo import VISA as GUSTAFFO_VISA
from tests.sandbox.test_gustaffo import Gustaffo, returned
from tests.sandbox.test_paylican_support import Paylican
from tests.sandbox.test_txservices_support import VISA as TX_VISA
from tests.sandbox.test_txservices_support import Tx

ROUNDS = 20
CONCURRENT = 50

Create = Callable[[str, str], httpx.Response]  # (Idempotency-Key, merchant reference) -> the answer


def together(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run every call on its own thread, all released at once by a barrier; the answers in call order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def pool(base_url: str = "") -> httpx.Client:
    # Room for every request of a round on its own connection, so they really are concurrent.
    return httpx.Client(base_url=base_url, timeout=30.0, limits=httpx.Limits(max_connections=CONCURRENT + 10))


def stored(sandbox: SandboxServer, kind: str, field: str, value: str) -> int:
    """How many documents of `kind` the sandbox has stored with `field` == `value` (read-only, its own file)."""
    db = sqlite3.connect(f"file:{Path(sandbox.config.data_dir) / 'sandbox.sqlite3'}?mode=ro", uri=True)
    try:
        row = db.execute(
            "SELECT count(*) FROM documents WHERE kind = ? AND json_extract(body, ?) = ?",
            (kind, f"$.{field}", value),
        ).fetchone()
    finally:
        db.close()
    return int(row[0])


@dataclass
class Gateway:
    """What the test needs of one gateway: a create with a key, where its answer names the payment, and how
    the sandbox stores it. `helper` is the gateway's test client, whose connection pool is renewed per round."""

    helper: Any
    base_url: str
    create: Create
    status: int
    id_field: str
    kind: str
    reference_field: str

    def fresh_connections(self) -> None:
        """A new pool: a connection left idle by an earlier round could be closed by the server as the client
        picks it up again, a reset that has nothing to do with idempotency."""
        self.helper.http.close()
        self.helper.http = pool(self.base_url)


def gustaffo_gateway(sandbox: SandboxServer) -> Gateway:
    client = Gustaffo(sandbox.base_url)
    assert client.auth  # the token first, not 50 times at the barrier

    def create(key: str, reference: str) -> httpx.Response:
        return client.create(10.0, key=key, orderId=reference)

    base = f"{sandbox.base_url}/gustaffo"
    return Gateway(client, base, create, 201, "paymentId", "gustaffo.payment", "order_id")


def txservices_gateway(sandbox: SandboxServer) -> Gateway:
    client = Tx(sandbox.base_url)
    client.token()

    def create(key: str, reference: str) -> httpx.Response:
        return client.create(client.payment_body(TX_VISA, "10.00", merchantTransactionId=reference), key=key)

    return Gateway(client, "", create, 200, "paymentId", "txservices.payment", "merchantTransactionId")


def paylican_gateway(sandbox: SandboxServer) -> Gateway:
    client = Paylican(sandbox.base_url)
    client.token()

    def create(key: str, reference: str) -> httpx.Response:
        return client.create_response(client.payment_body(merchantReference=reference), key=key)

    return Gateway(client, "", create, 200, "invoiceId", "paylican.invoice", "merchantReference")


@pytest.fixture(params=[gustaffo_gateway, txservices_gateway, paylican_gateway], ids=lambda f: f.__name__)
def gateway(request: pytest.FixtureRequest, sandbox: SandboxServer) -> Iterator[Gateway]:
    made: Gateway = request.param(sandbox)
    yield made
    made.helper.http.close()


def test_concurrent_creates_with_one_key_make_exactly_one_payment(
    sandbox: SandboxServer, gateway: Gateway
) -> None:
    for round_number in range(ROUNDS):
        key = f"race-{round_number}-{uuid.uuid4().hex}"
        reference = f"order-{key}"
        gateway.fresh_connections()

        answers = together([partial(gateway.create, key, reference)] * CONCURRENT)

        assert [a.status_code for a in answers] == [gateway.status] * CONCURRENT, [a.text for a in answers]
        ids = {a.json()[gateway.id_field] for a in answers}
        assert len(ids) == 1, f"round {round_number}: {len(ids)} payments answered for one key"
        assert stored(sandbox, gateway.kind, gateway.reference_field, reference) == 1, f"round {round_number}"
        replayed = [a for a in answers if a.headers.get("idempotent-replayed") == "true"]
        assert len(replayed) == CONCURRENT - 1  # one made it, every other got its answer again
        assert {a.content for a in answers} == {answers[0].content}


def test_concurrent_creates_with_one_key_and_two_bodies_make_one_payment(
    sandbox: SandboxServer, gateway: Gateway
) -> None:
    key = f"race-{uuid.uuid4().hex}"
    references = [f"order-a-{key}", f"order-b-{key}"]
    gateway.fresh_connections()

    answers = together([partial(gateway.create, key, r) for r in references for _ in range(CONCURRENT // 2)])

    # The body that claimed the key first is answered, every time with its one payment; the other is refused.
    made = [a for a in answers if a.status_code == gateway.status]
    assert len(made) == CONCURRENT // 2
    assert len({a.json()[gateway.id_field] for a in made}) == 1
    assert sorted(a.status_code for a in answers if a not in made) == [422] * (CONCURRENT // 2)
    counts = [stored(sandbox, gateway.kind, gateway.reference_field, r) for r in references]
    assert sorted(counts) == [0, 1]


# ------------------------------------------------------------------------------ refunds and captures


@pytest.fixture
def gustaffo(sandbox: SandboxServer) -> Iterator[Gustaffo]:
    client = Gustaffo(sandbox.base_url)
    client.http = pool(f"{sandbox.base_url}/gustaffo")
    yield client
    client.http.close()


@pytest.fixture
def tx(sandbox: SandboxServer) -> Iterator[Tx]:
    client = Tx(sandbox.base_url)
    client.http = pool()
    yield client
    client.close()


def test_concurrent_gustaffo_refunds_never_exceed_the_captured_amount(gustaffo: Gustaffo) -> None:
    payment = gustaffo.created(10)
    returned(gustaffo.pay(payment, GUSTAFFO_VISA))
    payment_id = payment["paymentId"]

    # 20 refunds of 1.50 (30.00 in all) against 10.00 captured: six fit, the seventh would pass 10.00.
    answers = together([lambda: gustaffo.refund(payment_id, 1.5)] * 20)

    accepted = [a for a in answers if a.status_code == 201]
    assert len(accepted) == 6
    assert {a.json()["error"] for a in answers if a.status_code != 201} == {"refund_exceeds_remaining"}
    assert len({a.json()["refundId"] for a in accepted}) == 6
    status = gustaffo.status(payment_id).json()
    assert (status["status"], status["refundedAmount"]) == ("PARTIALLY_REFUNDED", 9.0)
    assert max(a.json()["refundedAmount"] for a in accepted) == 9.0


def test_concurrent_gustaffo_full_refunds_refund_once(gustaffo: Gustaffo) -> None:
    payment = gustaffo.created(10)
    returned(gustaffo.pay(payment, GUSTAFFO_VISA))

    answers = together([lambda: gustaffo.refund(payment["paymentId"])] * 20)  # each: what remains

    assert sorted(a.status_code for a in answers) == [201] + [409] * 19
    assert gustaffo.status(payment["paymentId"]).json()["refundedAmount"] == 10


def _amount(answer: httpx.Response, name: str) -> Decimal:
    return Decimal(answer.json()[name])


def test_concurrent_txservices_captures_capture_once(tx: Tx) -> None:
    payment_id = tx.pay(TX_VISA, "50.00", payment_type="PA")["paymentId"]

    answers = together([lambda: tx.operate(payment_id, "CP", "50.00")] * 20)

    assert sorted(a.status_code for a in answers) == [200] + [409] * 19
    status = tx.status(payment_id)
    assert status.json()["status"] == "capturesuccess"
    assert _amount(status, "capturedAmount") == Decimal("50.00")


def test_concurrent_txservices_refunds_never_exceed_the_captured_amount(tx: Tx) -> None:
    payment_id = tx.pay(TX_VISA, "50.00", payment_type="PA")["paymentId"]
    assert tx.operate(payment_id, "CP", "30.00").status_code == 200

    # txservices refunds a payment once; amounts that add up past the 30.00 captured, sent together.
    amounts = ["30.00", "20.00", "15.00", "10.00"] * 5
    answers = together([partial(tx.operate, payment_id, "RF", a) for a in amounts])

    accepted = [a for a in answers if a.status_code == 200]
    assert len(accepted) == 1
    assert all(a.status_code == 409 for a in answers if a not in accepted)
    refunded = _amount(tx.status(payment_id), "refundedAmount")
    assert refunded == _amount(accepted[0], "refundedAmount") <= 30
