"""The sandbox's pages a shopper reads: laid out for a phone and saying why a payment failed, unless a fault
(`desktop-only-page`, `silent-decline`) takes that away. The suites judge them in Chromium (tests/shopper,
tests/certification/test_experience_faults.py); these tests show the sandbox side of each fault."""

from __future__ import annotations

import httpx

from paycert.sandbox.faults import Faults
from paycert.sandbox.pages import render
from tests.conftest import StartSandbox
from tests.merchant.support import create_order, event, sender

CARD_PAGE = "gustaffo_pay.html"


def page(faults: Faults) -> str:
    context = {"payment": {"paymentId": "p1", "amount": "10.00", "currency": "EUR"}, "error": ""}
    return bytes(render(CARD_PAGE, faults=faults, **context).body).decode("utf-8")


def test_the_hosted_page_is_fluid_and_only_desktop_only_page_fixes_it_at_960_px() -> None:
    correct = page(Faults())
    desktop = page(Faults.from_names(["desktop-only-page"]))

    assert "min-height: 44px" in correct
    assert "width: 960px" not in correct
    assert "width: 960px" in desktop
    assert "min-height: 44px" not in desktop


def test_a_declined_order_tells_the_shopper_why_unless_silent_decline(start_sandbox: StartSandbox) -> None:
    for faults, says_why in (((), True), (("silent-decline",), False)):
        base = start_sandbox(*faults).base_url
        created = create_order(base, "gustaffo")
        assert sender(base, "gustaffo").send(event("gustaffo", created, "FAILED")).ok

        shown = httpx.get(
            f"{base}/merchant/return/gustaffo", params={"orderId": created["orderId"]}, timeout=10
        ).text

        assert "FAILED" in shown
        assert ("your card was declined" in shown) is says_why, faults
