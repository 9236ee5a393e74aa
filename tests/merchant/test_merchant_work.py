"""The merchant's control endpoint (`GET /_paycert/work`, specs/merchant/openapi.yaml getWork): the reference
merchant says it is at work while anything it took in can still change an order, and the harness reads an
order as soon as it says it is idle; a merchant without the endpoint is given real time instead."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from paycert.plugin.merchant import WORK_PATH, MerchantWork
from paycert.targets.home import specs_dir
from paycert.targets.spec import ApiSpec
from tests.contract.loopback import serve
from tests.merchant.support import create_order, event, order, sender

SPEC = specs_dir() / "merchant" / "openapi.yaml"

# Only a bound for a broken endpoint: these loops end as soon as the merchant answers as expected.
PATIENCE_SECONDS = 30.0


def _work(base: str) -> dict[str, Any]:
    answer = httpx.get(f"{base}/merchant{WORK_PATH}", timeout=10)
    assert answer.status_code == 200, answer.text
    assert (
        ApiSpec.from_location(SPEC).validate_response("getWork", 200, "application/json", answer.json()) == []
    )
    work: dict[str, Any] = answer.json()
    return work


def test_a_merchant_with_nothing_to_do_says_it_is_idle(sandbox: object) -> None:
    base = sandbox.base_url  # type: ignore[attr-defined]
    create_order(base, "gustaffo")  # a pending order that is neither due for polling nor expired

    assert _work(base) == {"idle": True, "inFlight": 0, "due": 0}


def test_a_webhook_being_handled_keeps_the_merchant_at_work_until_it_is_answered(
    start_sandbox: object,
) -> None:
    # merchant-slow-ack: the receiver works for seconds before answering a completion it fulfilled.
    base = start_sandbox("merchant-slow-ack").base_url  # type: ignore[operator]
    created = create_order(base, "gustaffo")
    delivery = threading.Thread(target=lambda: sender(base, "gustaffo").send(event("gustaffo", created)))
    delivery.start()
    seen_at_work = []
    while delivery.is_alive():
        work = _work(base)
        if not work["idle"]:
            seen_at_work.append(work)
        time.sleep(0.05)
    delivery.join()

    assert seen_at_work, "the merchant said it was idle while it was still handling a webhook"
    assert all(w["inFlight"] >= 1 for w in seen_at_work), seen_at_work
    assert _work(base)["idle"] is True
    assert order(base, created["orderId"])["status"] == "PAID"


def test_once_idle_after_a_clock_move_the_jobs_that_came_due_have_run(start_sandbox: object) -> None:
    """Idle is the event the harness waits for: when the merchant says it, expiry has been applied. With
    slow-api the expiry's status read takes its time, so an idle said too early would be seen."""
    base = start_sandbox("slow-api").base_url  # type: ignore[operator]
    created = create_order(base, "gustaffo")
    moved = httpx.post(f"{base}/_sandbox/clock/advance", json={"seconds": 31 * 60}, timeout=10)
    assert moved.status_code == 200
    work = MerchantWork(f"{base}/merchant{WORK_PATH}", None, 10.0)
    try:
        idle = work.until_idle(time.monotonic() + PATIENCE_SECONDS)
    finally:
        work.close()

    assert idle is True
    assert order(base, created["orderId"])["status"] == "CANCELLED"


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"not found"})


async def _says_nothing(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": b'{"idle": "maybe"}'})


@pytest.mark.parametrize("app", [_not_found, _says_nothing], ids=["404", "no boolean idle"])
def test_a_merchant_that_cannot_say_is_not_offered_and_asked_no_more(app: Any) -> None:
    with serve(app) as url:
        work = MerchantWork(f"{url}{WORK_PATH}", None, 10.0)
        try:
            first = work.until_idle(time.monotonic() + PATIENCE_SECONDS)
            offered = work.offered
        finally:
            work.close()

    assert first is None
    assert offered is False
