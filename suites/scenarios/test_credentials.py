"""Access: wrong credentials are refused clearly, a token works, nothing works without one."""

from __future__ import annotations

import pytest

from paycert.gateways.client import GatewayClient
from paycert.plugin.checkout import Checkout


@pytest.mark.criterion("AUTH-CREDENTIALS")
def test_wrong_credentials_are_refused_with_a_clear_error(gateway: GatewayClient) -> None:
    refused = gateway.token_request(gateway.wrong_credentials())

    expected = gateway.profile.auth.get("invalid_credentials", {})
    assert refused.status == expected.get("status", 401), f"wrong credentials got HTTP {refused.status}"
    if expected.get("message"):
        assert expected["message"] in refused.error_text(), f"the error does not say {expected['message']!r}"


@pytest.mark.criterion("AUTH-CREDENTIALS")
def test_each_credential_is_checked_on_its_own(gateway: GatewayClient) -> None:
    gateway.require_token()
    expected = gateway.profile.auth.get("invalid_credentials", {}).get("status", 401)
    for name, credentials in gateway.one_wrong_credential():
        refused = gateway.token_request(credentials)
        assert refused.status in {expected, 400, 401, 403}, (
            f"a token request with only {name} wrong was answered HTTP {refused.status}"
        )
        assert not refused.ok, f"a token request with only {name} wrong got a token"


@pytest.mark.criterion("AUTH-CREDENTIALS")
def test_the_issued_token_is_accepted(checkout: Checkout) -> None:
    _, card = checkout.card_for("COMPLETED")
    created = checkout.attempt_create("5.00", card)

    assert created.ok, f"a payment created with a fresh token was refused (HTTP {created.status})"


@pytest.mark.criterion("AUTH-CREDENTIALS")
def test_calls_without_a_valid_token_are_refused(checkout: Checkout) -> None:
    checkout.client.require_token()
    _, card = checkout.card_for("COMPLETED")

    anonymous = checkout.attempt_create("5.00", card, authenticated=False)
    forged = checkout.attempt_create("5.00", card, token="paycert-forged-token")

    assert anonymous.status in (401, 403), (
        f"a payment was created without any token (HTTP {anonymous.status})"
    )
    assert forged.status in (401, 403), f"a payment was created with a forged token (HTTP {forged.status})"
    created = checkout.attempt_create("5.00", card)
    payment_id = created.get("payment_id")
    if created.ok and payment_id and checkout.client.offers("get_payment"):
        read = checkout.client.call(
            "get_payment",
            {"payment_id": str(payment_id)},
            authenticated=False,
            label="status without a token",
        )
        assert read.status in (401, 403), (
            f"a payment's status was read without any token (HTTP {read.status})"
        )
