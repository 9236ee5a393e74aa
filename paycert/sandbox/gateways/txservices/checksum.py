"""Request checksums: MD5, lowercase hex, of fields joined by `|` (FACTS.md, Paymentz family)."""

from __future__ import annotations

import hashlib
import hmac


def md5_join(*parts: str) -> str:
    return hashlib.md5("|".join(parts).encode("utf-8")).hexdigest()


def payment(member_id: str, secure_key: str, merchant_transaction_id: str, amount: str) -> str:
    """Debit, preauthorization, pay-with-token: memberId|secureKey|merchantTransactionId|amount."""
    return md5_join(member_id, secure_key, merchant_transaction_id, amount)


def with_amount(member_id: str, secure_key: str, payment_id: str, amount: str) -> str:
    """Capture, refund and recurring REPEATED (over the parent): memberId|secureKey|paymentId|amount."""
    return md5_join(member_id, secure_key, payment_id, amount)


def without_amount(member_id: str, secure_key: str, payment_id: str) -> str:
    """Inquiry and reversal: memberId|secureKey|paymentId."""
    return md5_join(member_id, secure_key, payment_id)


def registration(member_id: str, secure_key: str, merchant_transaction_id: str) -> str:
    """Standalone registration (paycert's decision): memberId|secureKey|merchantTransactionId."""
    return md5_join(member_id, secure_key, merchant_transaction_id)


def payout(member_id: str, merchant_transaction_id: str, amount: str, secure_key: str) -> str:
    """Payout: memberId|merchantTransactionId|amount|secureKey."""
    return md5_join(member_id, merchant_transaction_id, amount, secure_key)


def matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected, given.strip().lower())
