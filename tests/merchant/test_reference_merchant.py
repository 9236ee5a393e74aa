"""The reference merchant of the sandbox (seed 004) against the sandbox's own gateways, over real HTTP."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from websockets.sync.client import connect

from tests.merchant.support import create_order, event, order, sender

SIGNED = ["gustaffo", "txservices"]


@pytest.mark.parametrize("gateway", ["gustaffo", "txservices", "paylican"])
def test_checkout_opens_a_pending_order_with_a_payment_to_redirect_to(sandbox: object, gateway: str) -> None:
    base = sandbox.base_url  # type: ignore[attr-defined]
    created = create_order(base, gateway)
    assert created["status"] == "PENDING"
    assert created["paymentId"]
    assert created["paymentUrl"].startswith(base)
    assert order(base, created["orderId"])["fulfilments"] == 0


@pytest.mark.parametrize("gateway", SIGNED)
def test_a_signed_completion_fulfils_once_even_when_delivered_again(sandbox: object, gateway: str) -> None:
    base = sandbox.base_url  # type: ignore[attr-defined]
    created = create_order(base, gateway)
    send = sender(base, gateway)
    body = event(gateway, created)
    assert send.send(body).ok
    assert send.send(body).ok
    found = order(base, created["orderId"])
    assert (found["status"], found["fulfilments"]) == ("PAID", 1)


@pytest.mark.parametrize("gateway", SIGNED)
@pytest.mark.parametrize("mode", ["unsigned", "tampered", "wrong-secret", "garbage-signature"])
def test_a_webhook_without_a_valid_signature_is_rejected(sandbox: object, gateway: str, mode: str) -> None:
    base = sandbox.base_url  # type: ignore[attr-defined]
    created = create_order(base, gateway)
    sent = sender(base, gateway).send(event(gateway, created), mode)  # type: ignore[arg-type]
    assert sent.status == 400, sent.text
    assert order(base, created["orderId"])["status"] == "PENDING"


@pytest.mark.parametrize("gateway", SIGNED)
def test_a_late_failure_does_not_undo_a_payment(sandbox: object, gateway: str) -> None:
    base = sandbox.base_url  # type: ignore[attr-defined]
    created = create_order(base, gateway)
    send = sender(base, gateway)
    assert send.send(event(gateway, created)).ok
    assert send.send(event(gateway, created, "FAILED")).ok
    assert order(base, created["orderId"])["status"] == "PAID"


@pytest.mark.parametrize("gateway", SIGNED)
def test_a_different_amount_or_currency_is_not_fulfilled(sandbox: object, gateway: str) -> None:
    base = sandbox.base_url  # type: ignore[attr-defined]
    for over in ({"amount": "1.00"}, {"currency": "USD"}):
        created = create_order(base, gateway)
        assert sender(base, gateway).send(event(gateway, created, **over)).ok
        assert order(base, created["orderId"])["fulfilments"] == 0, over


def test_an_unsigned_gateway_is_read_back_before_fulfilling(sandbox: object) -> None:
    base = sandbox.base_url  # type: ignore[attr-defined]
    created = create_order(base, "paylican")
    assert sender(base, "paylican").send(event("paylican", created)).ok
    found = order(base, created["orderId"])
    assert (found["status"], found["fulfilments"]) == ("PENDING", 0)


@pytest.mark.parametrize(("gateway", "query"), [("gustaffo", "status=COMPLETED"), ("txservices", "status=Y")])
def test_a_forged_return_url_does_not_fulfil(sandbox: object, gateway: str, query: str) -> None:
    base = sandbox.base_url  # type: ignore[attr-defined]
    created = create_order(base, gateway)
    url = f"{base}/merchant/return/{gateway}?orderId={created['orderId']}&paymentId={created['paymentId']}&{query}"
    assert httpx.get(url, timeout=10).status_code == 200
    assert order(base, created["orderId"])["status"] == "PENDING"


def test_the_forged_return_url_fulfils_with_the_fault(start_sandbox: object) -> None:
    base = start_sandbox("merchant-trusts-return-url").base_url  # type: ignore[operator]
    created = create_order(base, "gustaffo")
    httpx.get(f"{base}/merchant/return/gustaffo?orderId={created['orderId']}&status=COMPLETED", timeout=10)
    assert order(base, created["orderId"])["status"] == "PAID"


def test_an_unpaid_order_is_cancelled_after_thirty_minutes(sandbox: object) -> None:
    base = sandbox.base_url  # type: ignore[attr-defined]
    created = create_order(base, "gustaffo")
    httpx.post(f"{base}/_sandbox/clock/advance", json={"seconds": 29 * 60}, timeout=10)
    assert order(base, created["orderId"])["status"] == "PENDING"
    httpx.post(f"{base}/_sandbox/clock/advance", json={"seconds": 2 * 60}, timeout=10)
    deadline = time.monotonic() + 5
    while order(base, created["orderId"])["status"] == "PENDING" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert order(base, created["orderId"])["status"] == "CANCELLED"


def test_the_browser_is_pushed_each_status_change_over_a_websocket(sandbox: object) -> None:
    base = sandbox.base_url  # type: ignore[attr-defined]
    created = create_order(base, "gustaffo")
    ws_url = base.replace("http://", "ws://") + f"/merchant/ws/orders/{created['orderId']}"

    # websockets' threaded client: no event loop of this test's own, so it runs in a worker whose thread
    # already has one (Playwright's sync API keeps a loop running for the session-wide browser).
    seen: list[str] = []
    with connect(ws_url, open_timeout=5) as socket:
        seen.append(json.loads(socket.recv(timeout=5))["status"])
        sender(base, "gustaffo").send(event("gustaffo", created))
        seen.append(json.loads(socket.recv(timeout=5))["status"])
    assert seen == ["PENDING", "PAID"]


def test_fault_merchant_no_verify_takes_an_unsigned_webhook(start_sandbox: object) -> None:
    base = start_sandbox("merchant-no-verify").base_url  # type: ignore[operator]
    created = create_order(base, "gustaffo")
    assert sender(base, "gustaffo").send(event("gustaffo", created), "unsigned").ok
    assert order(base, created["orderId"])["status"] == "PAID"


def test_fault_merchant_double_fulfil_fulfils_each_copy(start_sandbox: object) -> None:
    base = start_sandbox("merchant-double-fulfil").base_url  # type: ignore[operator]
    created = create_order(base, "gustaffo")
    send, body = sender(base, "gustaffo"), event("gustaffo", created)
    send.send(body)
    send.send(body)
    assert order(base, created["orderId"])["fulfilments"] == 2


def test_fault_merchant_regresses_state_lets_a_late_failure_win(start_sandbox: object) -> None:
    base = start_sandbox("merchant-regresses-state").base_url  # type: ignore[operator]
    created = create_order(base, "txservices")
    send = sender(base, "txservices")
    send.send(event("txservices", created))
    send.send(event("txservices", created, "FAILED"))
    assert order(base, created["orderId"])["status"] == "FAILED"


def test_fault_merchant_ignores_amount_fulfils_a_smaller_payment(start_sandbox: object) -> None:
    base = start_sandbox("merchant-ignores-amount").base_url  # type: ignore[operator]
    created = create_order(base, "gustaffo")
    sender(base, "gustaffo").send(event("gustaffo", created, amount="0.01"))
    assert order(base, created["orderId"])["fulfilments"] == 1


@pytest.mark.parametrize(("faults", "polled"), [((), True), (("merchant-no-poll",), False)])
def test_a_payment_pending_fifteen_minutes_is_polled_unless_merchant_no_poll(
    start_sandbox: object, faults: tuple[str, ...], polled: bool
) -> None:
    base = start_sandbox(*faults).base_url  # type: ignore[operator]
    created = create_order(base, "paylican")
    httpx.post(f"{base}/_sandbox/clock/advance", json={"seconds": 16 * 60}, timeout=10)
    deadline = time.monotonic() + 3
    while order(base, created["orderId"])["polledAt"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (order(base, created["orderId"])["polledAt"] is not None) is polled


def test_orders_survive_a_restart_and_are_still_expired(start_sandbox: object) -> None:
    first = start_sandbox()  # type: ignore[operator]
    created = create_order(first.base_url, "gustaffo")
    first.stop()
    again = start_sandbox(data_dir=first.config.data_dir)  # type: ignore[operator]
    assert order(again.base_url, created["orderId"])["status"] == "PENDING"
    httpx.post(f"{again.base_url}/_sandbox/clock/advance", json={"seconds": 31 * 60}, timeout=10)
    deadline = time.monotonic() + 5
    while order(again.base_url, created["orderId"])["status"] == "PENDING" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert order(again.base_url, created["orderId"])["status"] == "CANCELLED"
