"""`paycert sandbox`, the installed command, serves all three gateways: each one's success flow walked end to end
with plain httpx, hosted page included, and its webhook caught by a local receiver (signature verified where the
gateway signs)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from paycert.webhooks.signatures import get_scheme
from paycert.webhooks.sink import WebhookSink
from tests.sandbox.test_gustaffo import VISA as GUSTAFFO_VISA
from tests.sandbox.test_gustaffo import Gustaffo, returned
from tests.sandbox.test_paylican_support import Paylican
from tests.sandbox.test_txservices_support import KEY, VISA, Tx

STARTUP_LINE = re.compile(r"paycert sandbox on (http://127\.0\.0\.1:\d+)")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m paycert sandbox --port 0` as a user starts it; yields the base URL it announces."""
    data = tmp_path_factory.mktemp("sandbox-command")
    process = subprocess.Popen(
        [sys.executable, "-m", "paycert", "sandbox", "--port", "0", "--data-dir", str(data)],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # printed once the socket is bound, before serving
        found = STARTUP_LINE.search(first)
        assert found, f"unexpected first line: {first!r}"
        base = found[1]
        deadline = time.monotonic() + 15
        while not _healthy(base):  # the socket is bound before uvicorn serves it
            assert process.poll() is None, f"paycert sandbox exited {process.returncode}"
            assert time.monotonic() < deadline, "paycert sandbox did not answer within 15 s"
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/_sandbox/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_it_announces_every_gateway_and_its_public_credentials(served: str) -> None:
    credentials = httpx.get(f"{served}/_sandbox/credentials", timeout=5).json()
    assert set(credentials) >= {"gustaffo", "txservices", "paylican"}


def test_gustaffo_pays_on_its_hosted_page_and_signs_its_webhook(served: str) -> None:
    gustaffo = Gustaffo(served)
    try:
        with WebhookSink() as sink:
            registration = gustaffo.register(f"{sink.url}/hooks")
            payment = gustaffo.created(12.5, returnUrl=f"{sink.url}/return?cart=7")
            answer = gustaffo.pay(payment, GUSTAFFO_VISA)
            assert returned(answer, merchant=f"{sink.url}/return")["status"] == "COMPLETED"
            assert gustaffo.status(payment["paymentId"]).json()["status"] == "COMPLETED"
            (hook,) = sink.wait_for(1, predicate=lambda d: d.method == "POST")
    finally:
        gustaffo.http.close()
    assert hook.json()["data"]["paymentId"] == payment["paymentId"]
    assert get_scheme("sha256-secret-body").verify(registration["secret"], hook.body, hook.headers).ok


def test_txservices_debits_a_card_and_checksums_its_callback(served: str) -> None:
    tx = Tx(served)
    try:
        with WebhookSink() as sink:
            payment = tx.pay(VISA, "9.99", notificationUrl=f"{sink.url}/notify")
            (callback,) = sink.wait_for(1, timeout=5)
    finally:
        tx.close()
    assert payment["transactionStatus"] == "Y"
    assert callback.json()["paymentId"] == payment["paymentId"]
    assert get_scheme("md5-callback-checksum").verify(KEY, callback.body, callback.headers).ok


def test_paylican_pays_on_its_pay_page_and_announces_the_execution(served: str) -> None:
    paylican = Paylican(served)
    try:
        with WebhookSink() as sink:
            paylican.configure_webhook(f"{sink.url}/hooks")
            payment = paylican.create()
            paylican.pays(payment)
            executed = sink.wait_for(
                1, timeout=5, predicate=lambda d: "invoice.payment_executed" in d.body.decode()
            )
    finally:
        paylican.close()
    body = executed[0].json()
    assert str(payment["invoiceId"]) in executed[0].body.decode()
    # The seed describes no signature: none is sent (profile `signature: none`), so none can be verified.
    assert not any(h.lower().startswith("x-signature") for h in executed[0].headers)
    assert body["pendingWebhooks"] >= 0
