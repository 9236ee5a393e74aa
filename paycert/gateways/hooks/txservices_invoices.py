"""txservices checksums of the invoice operations (issue 16, PAY-LINK): paycert's decision in
specs/txservices/openapi.yaml.

    create_invoice   memberId|secureKey|merchantTransactionId|amount   (as a payment: the invoice's amount)
    get_invoice      memberId|secureKey|invoiceId                      (as an inquiry, over the invoice's id)

Kept apart from txservices.FORMULAS, which names the canonical operations one by one: the profile points these
two operations at this hook (`hooks: invoice_checksum`). get_invoice's query carries `invoiceId` (the path's
id repeated) so that the hook sees what it signs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from paycert.gateways.hooks.txservices import request_checksum

__all__ = ["invoice_checksum"]

MEMBER = "authentication.memberId"


def invoice_checksum(operation: str, body: dict[str, str], credentials: Mapping[str, str]) -> dict[str, str]:
    """`body` (or get_invoice's query) with `authentication.checksum` set for `operation`."""
    if operation == "create_invoice":
        return request_checksum("create_payment", body, credentials)
    if operation != "get_invoice":
        raise ValueError(f"txservices has no invoice checksum for operation {operation!r}")
    if "secure_key" not in credentials:
        raise ValueError("txservices checksums need the secure_key credential")
    completed = dict(body)
    if MEMBER not in completed and "member_id" in credentials:
        completed[MEMBER] = credentials["member_id"]
    missing = [name for name in (MEMBER, "invoiceId") if name not in completed]
    if missing:
        raise ValueError(f"txservices get_invoice checksum needs fields: {', '.join(missing)}")
    parts = (str(completed[MEMBER]), credentials["secure_key"], str(completed["invoiceId"]))
    completed["authentication.checksum"] = hashlib.md5("|".join(parts).encode("utf-8")).hexdigest()
    return completed
