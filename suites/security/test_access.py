"""Access (002 §1.1, §2.2, §2.3): nothing is served without this merchant's valid token, errors say so in JSON
without echoing secrets, no answer carries a full card number, and calls from outside the allow-list are refused."""

from __future__ import annotations

import pytest

from paycert.gateways.client import GatewayClient
from paycert.plugin.checkout import Checkout
from paycert.plugin.security import SecurityProbes

REFUSED = (401, 403)


@pytest.mark.criterion("SEC-ACCESS")
def test_every_operation_refuses_a_missing_malformed_expired_or_other_clients_token(
    gateway: GatewayClient, security: SecurityProbes
) -> None:
    gateway.require_token()
    operations = security.protected_operations()
    bad_tokens = security.bad_tokens()

    for operation in operations:
        for kind, token in bad_tokens.items():
            refusal = security.call_with(operation, kind, token)
            assert refusal.answer.status in REFUSED, (
                f"{operation.operation_id} with {kind} was answered HTTP {refusal.answer.status}"
            )
            trouble = security.error_trouble(refusal)
            assert not trouble, trouble
    security.not_evaluated_unless_complete()


@pytest.mark.criterion("SEC-PAN-ECHO")
def test_no_answer_carries_a_full_card_number(checkout: Checkout, security: SecurityProbes) -> None:
    for outcome in ("COMPLETED", "FAILED", "CHALLENGE"):
        if checkout.profile.card_with_outcome(outcome) is None:
            continue
        paid = checkout.pay(outcome)
        checkout.status(paid.payment)

    seen = security.card_numbers_seen()
    assert not seen, f"{len(seen)} answer(s) carried a full card number, first: {seen[0].describe()}"


@pytest.mark.criterion("SEC-IP-ALLOWLIST")
def test_calls_from_outside_the_allow_list_are_refused(
    gateway: GatewayClient, security: SecurityProbes
) -> None:
    security.require_allowlist()

    usual = security.read_from_usual_address()
    outsider = security.read_from_probe_address(usual)

    assert usual.status not in REFUSED, (
        f"the usual address was refused too (HTTP {usual.status}): the allow-list cannot be told apart"
    )
    assert outsider.refused, (
        f"a call from {outsider.source}, outside the allow-list, was answered HTTP {outsider.status}"
    )
