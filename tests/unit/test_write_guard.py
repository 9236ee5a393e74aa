"""The live write guard: which writes leave, how amounts are capped, the room left for probes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from paycert.core.errors import LiveWriteRefused
from paycert.gateways.write_guard import WriteGuard
from paycert.targets.profile import load_profile
from paycert.targets.target import GatewayTarget


def guard(*, allow: bool, live: bool = True, cap: float = 0.5) -> WriteGuard:
    target = GatewayTarget(
        "gustaffo", load_profile("gustaffo"), "http://127.0.0.1:9", environment="live" if live else "sandbox"
    )
    return WriteGuard.for_target(target, allow_writes=allow, run_max_amount=cap)


def test_a_live_write_is_refused_but_the_token_request_and_reads_leave() -> None:
    g = guard(allow=False)
    g.check("GET", "/api/v1/webhooks", "listWebhooks")
    g.check("POST", "/oauth/token", "getToken")
    with pytest.raises(LiveWriteRefused, match="--allow-live-writes"):
        g.check("POST", "/api/v1/webhooks", "registerWebhook")  # not safe: it leaves a registration
    with pytest.raises(LiveWriteRefused):
        g.check("DELETE", "/api/v1/webhooks/wh_1", None)


def test_writes_leave_when_allowed_or_not_live() -> None:
    guard(allow=True).check("POST", "/api/v1/payments", "createPayment")
    guard(allow=False, live=False).check("DELETE", "/api/v1/webhooks/wh_1", "deleteWebhook")


def test_the_cap_is_the_lower_of_the_targets_and_the_profiles() -> None:
    assert guard(allow=True, cap=0.5).max_amount == Decimal("0.5")
    assert guard(allow=True, cap=50).max_amount == Decimal("1.0")  # gustaffo's profile says 1.0
    assert guard(allow=True, live=False).cap(Decimal("20")) == Decimal("20")


def test_every_amount_field_of_a_body_is_capped_in_its_own_type() -> None:
    body = {
        "amount": 1000000.0,
        "invoice": {"totalAmount": "1.8e308"},
        "items": [{"amount": 3}],
        "note": "999",
    }
    capped, changed = guard(allow=True).cap_body(body)
    assert capped == {
        "amount": 0.5,
        "invoice": {"totalAmount": "0.5"},
        "items": [{"amount": 0}],
        "note": "999",
    }
    assert sorted(changed) == ["/amount", "/invoice/totalAmount", "/items/0/amount"]
    small, unchanged = guard(allow=True).cap_body({"amount": "0.10", "amount_minor": 40})
    assert unchanged == []
    assert small == {"amount": "0.10", "amount_minor": 40}


def test_a_probe_above_the_amount_keeps_within_the_cap() -> None:
    g = guard(allow=True)
    base = g.below_cap(Decimal("20.00"), Decimal("0.01"))
    assert base == Decimal("0.49")
    assert base + Decimal("0.01") <= g.cap(Decimal("20.00"))
    assert guard(allow=True, live=False).below_cap(Decimal("20.00"), Decimal("0.01")) == Decimal("20.00")
