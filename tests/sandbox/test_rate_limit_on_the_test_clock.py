"""The sandbox's rate limit goes by its test clock, and paycert's client honours a 429's Retry-After on a
sandbox by moving that clock on (issue 15: retries driven by the test clock), not by sleeping; a gateway
without a control API is still really waited for (tests/unit/test_retry_after.py)."""

from __future__ import annotations

from pathlib import Path

import httpx

from paycert.gateways.client import GatewayClient, retry_wait
from paycert.gateways.http import Recorder, real_wait
from paycert.redaction import Redactor
from paycert.sandbox import SandboxServer
from paycert.sandbox.gateways.gustaffo import CREDENTIALS
from paycert.targets.target import GatewayTarget, target_from_data

READ = "/gustaffo/api/v1/payments/pay_none"
LIMIT = 100  # specs/gustaffo/profile.yaml limits.rate: 100 in 10 s


def _target(base_url: str, *, control: bool) -> GatewayTarget:
    environ = {f"CLOCK_TEST_{name}".upper(): value for name, value in CREDENTIALS.items()}
    entry: dict[str, object] = {
        "base_url": f"{base_url}/gustaffo",
        "environment": "sandbox",
        "credentials": {name: f"CLOCK_TEST_{name}".upper() for name in CREDENTIALS},
    }
    if control:
        entry["control_url"] = f"{base_url}/_sandbox"
    raw = {"name": "rate limit on the test clock", "gateways": {"gustaffo": entry}}
    return target_from_data(raw, base_dir=Path.cwd(), environ=environ).gateways["gustaffo"]


def _token(base: str) -> str:
    answer = httpx.post(
        f"{base}/gustaffo/oauth/token", data={"grant_type": "client_credentials", **CREDENTIALS}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _offset(base: str) -> float:
    return float(httpx.get(f"{base}/_sandbox/clock", timeout=10).json()["offset"])


def test_moving_the_test_clock_by_retry_after_ends_the_limit(sandbox: SandboxServer) -> None:
    base = sandbox.base_url
    headers = {"Authorization": f"Bearer {_token(base)}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        assert {client.get(READ).status_code for _ in range(LIMIT)} == {404}
        limited = client.get(READ)
        assert limited.status_code == 429
        still = client.get(READ)  # no clock move: the window has not passed
        assert still.status_code == 429
        moved = httpx.post(
            f"{base}/_sandbox/clock/advance",
            json={"seconds": int(limited.headers["retry-after"])},
            timeout=10,
        )
        assert moved.status_code == 200
        after = client.get(READ)

    assert after.status_code == 404, "moving the test clock by Retry-After did not end the limit"


def test_the_client_of_a_sandbox_honours_retry_after_by_moving_its_clock(sandbox: SandboxServer) -> None:
    base = sandbox.base_url
    recorder = Recorder(Redactor())
    client = GatewayClient(_target(base, control=True), recorder)
    token = client.token()
    try:
        with httpx.Client(timeout=10) as burst:
            for _ in range(LIMIT):
                burst.get(f"{base}{READ}", headers=client.auth_headers(token))
        before = _offset(base)
        answer = client.call("get_payment", {"payment_id": "pay_none"}, label="after the burst")
    finally:
        client.close()

    assert answer.status == 404, f"still HTTP {answer.status} after Retry-After"
    assert _offset(base) - before >= 1, "the sandbox clock was not moved on by the Retry-After"
    notes = [e["text"] for e in recorder.log.to_list() if e["kind"] == "note"]
    assert any("moved the sandbox's test clock" in n for n in notes), notes


def test_only_a_target_with_a_control_api_has_its_clock_moved(sandbox: SandboxServer) -> None:
    without = GatewayClient(_target(sandbox.base_url, control=False), Recorder(Redactor()))
    with_clock = GatewayClient(_target(sandbox.base_url, control=True), Recorder(Redactor()))
    without.close()
    with_clock.close()

    assert retry_wait(None) is real_wait
    assert without.http.wait is real_wait
    assert with_clock.http.wait is not real_wait
