"""The txservices checksum hook against MD5 values computed by hand (`printf %s '...' | md5sum`)."""

from __future__ import annotations

import pytest

from paycert.gateways.hooks.txservices import request_checksum

CREDENTIALS = {"member_id": "11001", "secure_key": "key"}

# Each digest is md5 of the literal string in the comment, computed outside Python.
CASES = [
    # 11001|key|order-1|10.00
    (
        "create_payment",
        {"merchantTransactionId": "order-1", "amount": "10.00"},
        "33f32de3119761b681a8a6b0daaf97da",
    ),
    (
        "authorize",
        {"merchantTransactionId": "order-1", "amount": "10.00"},
        "33f32de3119761b681a8a6b0daaf97da",
    ),
    (
        "pay_with_token",
        {"merchantTransactionId": "order-1", "amount": "10.00"},
        "33f32de3119761b681a8a6b0daaf97da",
    ),
    # 11001|key|555|5.00
    ("capture", {"paymentId": "555", "amount": "5.00"}, "aae86724aa1c7d4ba5a8429dee98d6f0"),
    ("refund", {"paymentId": "555", "amount": "5.00"}, "aae86724aa1c7d4ba5a8429dee98d6f0"),
    ("recurring_repeat", {"paymentId": "555", "amount": "5.00"}, "aae86724aa1c7d4ba5a8429dee98d6f0"),
    # 11001|key|555
    ("void", {"paymentId": "555"}, "1b22a4b5f5a0104f0fcaffb5993c0d10"),
    ("get_payment", {"paymentId": "555"}, "1b22a4b5f5a0104f0fcaffb5993c0d10"),
    # 11001|order-1|10.00|key
    ("payout", {"merchantTransactionId": "order-1", "amount": "10.00"}, "109d83fda9bebe4b491560d4b4052d4e"),
    # 11001|key|order-1
    ("tokenize", {"merchantTransactionId": "order-1"}, "957944a56f888f301de1e4912199eaea"),
]


@pytest.mark.parametrize(("operation", "body", "expected"), CASES)
def test_the_checksum_matches_the_hand_computed_md5(
    operation: str, body: dict[str, str], expected: str
) -> None:
    completed = request_checksum(operation, {"authentication.memberId": "11001", **body}, CREDENTIALS)

    assert completed["authentication.checksum"] == expected


def test_the_body_is_kept_and_not_modified_in_place() -> None:
    body = {
        "authentication.memberId": "11001",
        "merchantTransactionId": "order-1",
        "amount": "10.00",
        "x": "y",
    }

    completed = request_checksum("create_payment", body, CREDENTIALS)

    assert "authentication.checksum" not in body
    assert {k: v for k, v in completed.items() if k != "authentication.checksum"} == body


def test_the_member_id_defaults_to_the_credential() -> None:
    completed = request_checksum("void", {"paymentId": "555"}, CREDENTIALS)

    assert completed["authentication.memberId"] == "11001"
    assert completed["authentication.checksum"] == "1b22a4b5f5a0104f0fcaffb5993c0d10"


def test_the_secure_key_is_never_put_in_the_body() -> None:
    completed = request_checksum("capture", {"paymentId": "555", "amount": "5.00"}, CREDENTIALS)

    assert "key" not in completed.values()


def test_an_unknown_operation_is_refused() -> None:
    with pytest.raises(ValueError, match="no checksum for operation 'register_webhook'"):
        request_checksum("register_webhook", {}, CREDENTIALS)


def test_a_missing_signed_field_is_named() -> None:
    with pytest.raises(ValueError, match="needs body fields: amount"):
        request_checksum("refund", {"paymentId": "555"}, CREDENTIALS)
