"""The sandbox's rate limit, allow-list, second test client, cap and card-number faults (002 §2.2, §2.3, §3.1)."""

from __future__ import annotations

import httpx

from paycert.probes.source_address import SourceRequest, call_from
from paycert.sandbox.gateways.gustaffo import CREDENTIALS, OTHER_CREDENTIALS
from tests.conftest import StartSandbox
from tests.sandbox.test_txservices_support import VISA, Tx


def _gustaffo_token(base: str, credentials: dict[str, str]) -> str:
    answer = httpx.post(
        f"{base}/gustaffo/oauth/token", data={"grant_type": "client_credentials", **credentials}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _reads(base: str, token: str, count: int) -> list[httpx.Response]:
    with httpx.Client(timeout=10) as client:
        return [
            client.get(
                f"{base}/gustaffo/api/v1/payments/pay_none", headers={"Authorization": f"Bearer {token}"}
            )
            for _ in range(count)
        ]


def test_the_status_read_is_limited_per_token_with_retry_after(start_sandbox: StartSandbox) -> None:
    base = start_sandbox().base_url
    token = _gustaffo_token(base, CREDENTIALS)

    answers = _reads(base, token, 101)
    fresh = _reads(base, _gustaffo_token(base, CREDENTIALS), 1)

    assert [a.status_code for a in answers[:100]] == [404] * 100
    assert answers[100].status_code == 429
    assert 1 <= int(answers[100].headers["retry-after"]) <= 10
    assert answers[100].json()["error"] == "rate_limited"
    assert fresh[0].status_code == 404, "another token shares the limited token's window"


def test_fault_no_rate_limit_never_answers_429(start_sandbox: StartSandbox) -> None:
    base = start_sandbox("no-rate-limit").base_url

    answers = _reads(base, _gustaffo_token(base, CREDENTIALS), 120)

    assert {a.status_code for a in answers} == {404}


def test_calls_from_outside_the_allow_list_are_refused(start_sandbox: StartSandbox) -> None:
    base = start_sandbox().base_url
    request = SourceRequest("GET", f"{base}/gustaffo/api/v1/payments/pay_none")

    outsider = call_from("127.0.0.2", request)
    insider = call_from("127.0.0.1", request)

    assert outsider.status == 403
    assert insider.status == 401  # let in, and refused for its missing token


def test_fault_no_allowlist_answers_any_address(start_sandbox: StartSandbox) -> None:
    base = start_sandbox("no-allowlist").base_url

    outsider = call_from("127.0.0.2", SourceRequest("GET", f"{base}/gustaffo/api/v1/payments/pay_none"))

    assert outsider.status == 401


def test_another_merchants_client_gets_a_token_that_this_api_refuses(start_sandbox: StartSandbox) -> None:
    base = start_sandbox().base_url

    answers = _reads(base, _gustaffo_token(base, OTHER_CREDENTIALS), 1)

    assert answers[0].status_code == 403
    assert answers[0].json()["error"] == "insufficient_scope"


def _create(base: str, amount: str) -> httpx.Response:
    """A create with `amount` written as a JSON number exactly as given (no float rounding on the way)."""
    body = f'{{"amount": {amount}, "currency": "EUR", "orderId": "CAP-1", "description": "cap", "returnUrl": "http://127.0.0.1/r"}}'
    return httpx.post(
        f"{base}/gustaffo/api/v1/payments",
        content=body,
        headers={
            "Authorization": f"Bearer {_gustaffo_token(base, CREDENTIALS)}",
            "Content-Type": "application/json",
        },
        timeout=10,
    )


def test_the_cap_refuses_above_and_takes_just_under(start_sandbox: StartSandbox) -> None:
    base = start_sandbox().base_url

    assert _create(base, "1000000.01").status_code == 400
    assert _create(base, "999999.99").status_code == 201


def test_fault_no_cap_takes_an_amount_above_the_cap(start_sandbox: StartSandbox) -> None:
    base = start_sandbox("no-cap").base_url

    assert _create(base, "1000000.01").status_code == 201


def test_fault_echo_pan_puts_the_card_number_in_the_answer(start_sandbox: StartSandbox) -> None:
    correct = Tx(start_sandbox().base_url)
    faulty = Tx(start_sandbox("echo-pan").base_url)
    try:
        assert "4111111111111111" not in correct.create(correct.payment_body(card=VISA)).text
        assert "4111111111111111" in faulty.create(faulty.payment_body(card=VISA)).text
    finally:
        correct.close()
        faulty.close()
