"""The fixed, public test credentials of the txservices sandbox (documented, not anyone's secret)."""

from __future__ import annotations

PARTNER_ID = "txs-partner-1001"
USERNAME = "paycert-merchant"
SECURE_KEY = "txs-sandbox-secure-key-7f3a91"
MEMBER_ID = "11001"
TERMINAL_ID = "5501"

CREDENTIALS: dict[str, str] = {
    "partner_id": PARTNER_ID,
    "username": USERNAME,
    "secure_key": SECURE_KEY,
    "member_id": MEMBER_ID,
    "terminal_id": TERMINAL_ID,
}

# A second test merchant: it gets tokens, and the first merchant's API refuses them (SEC-ACCESS).
OTHER_CREDENTIALS: dict[str, str] = {
    "partner_id": "txs-partner-2002",
    "username": "paycert-other-merchant",
    "secure_key": "txs-other-secure-key-2b8e40",
    "member_id": "22002",
    "terminal_id": "6602",
}

# What the `bad-signature` fault signs callbacks with instead of the merchant's secure key.
WRONG_SECURE_KEY = "not-the-merchant-secure-key"
