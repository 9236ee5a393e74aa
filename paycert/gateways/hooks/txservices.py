"""txservices request checksums: the one thing its profile cannot say as data.

Every txservices request carries `authentication.checksum`, an MD5 (lowercase hex) of fields joined by `|`,
with the merchant's secure key in a position that depends on the operation (FACTS.md, Paymentz family):

    create_payment, authorize, recurring_initial, pay_with_token   memberId|secureKey|merchantTransactionId|amount
    capture, refund, recurring_repeat                              memberId|secureKey|paymentId|amount
    void, get_payment                                              memberId|secureKey|paymentId
    payout                                                         memberId|merchantTransactionId|amount|secureKey
    tokenize                                                       memberId|secureKey|merchantTransactionId

For the operations on an existing payment the body (or, for get_payment, the query) carries `paymentId`;
the gateway accepts it there as long as it equals the path's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

__all__ = ["FORMULAS", "request_checksum"]

_SECURE_KEY = "{secureKey}"

# Body field names, and where the secure key (a credential, never in the body) goes.
FORMULAS: dict[str, tuple[str, ...]] = {
    "create_payment": ("authentication.memberId", _SECURE_KEY, "merchantTransactionId", "amount"),
    "authorize": ("authentication.memberId", _SECURE_KEY, "merchantTransactionId", "amount"),
    "recurring_initial": ("authentication.memberId", _SECURE_KEY, "merchantTransactionId", "amount"),
    "pay_with_token": ("authentication.memberId", _SECURE_KEY, "merchantTransactionId", "amount"),
    # Issue 16: a single-use mandate's INITIAL and a zero-amount verification are card payments too.
    "mandate_single_initial": ("authentication.memberId", _SECURE_KEY, "merchantTransactionId", "amount"),
    "verify": ("authentication.memberId", _SECURE_KEY, "merchantTransactionId", "amount"),
    # PAY-LINK: an invoice is signed as a payment is; reading it back, over the invoice's id (get_invoice's
    # query repeats the path's id so that the checksum sees what it signs).
    "create_invoice": ("authentication.memberId", _SECURE_KEY, "merchantTransactionId", "amount"),
    "get_invoice": ("authentication.memberId", _SECURE_KEY, "invoiceId"),
    "capture": ("authentication.memberId", _SECURE_KEY, "paymentId", "amount"),
    "refund": ("authentication.memberId", _SECURE_KEY, "paymentId", "amount"),
    "recurring_repeat": ("authentication.memberId", _SECURE_KEY, "paymentId", "amount"),
    "void": ("authentication.memberId", _SECURE_KEY, "paymentId"),
    "get_payment": ("authentication.memberId", _SECURE_KEY, "paymentId"),
    "payout": ("authentication.memberId", "merchantTransactionId", "amount", _SECURE_KEY),
    "tokenize": ("authentication.memberId", _SECURE_KEY, "merchantTransactionId"),
}


def request_checksum(operation: str, body: dict[str, str], credentials: Mapping[str, str]) -> dict[str, str]:
    """A copy of `body` with `authentication.checksum` set for `operation`.

    `authentication.memberId` defaults to the `member_id` credential when the body does not carry it.
    Raises ValueError for an operation txservices does not have or a body missing a signed field.
    """
    try:
        formula = FORMULAS[operation]
    except KeyError:
        raise ValueError(f"txservices has no checksum for operation {operation!r}") from None
    if "secure_key" not in credentials:
        raise ValueError("txservices checksums need the secure_key credential")
    completed = dict(body)
    if "authentication.memberId" not in completed and "member_id" in credentials:
        completed["authentication.memberId"] = credentials["member_id"]
    missing = [name for name in formula if name != _SECURE_KEY and name not in completed]
    if missing:
        raise ValueError(f"txservices {operation} checksum needs body fields: {', '.join(missing)}")
    parts = [credentials["secure_key"] if name == _SECURE_KEY else str(completed[name]) for name in formula]
    completed["authentication.checksum"] = hashlib.md5("|".join(parts).encode("utf-8")).hexdigest()
    return completed
