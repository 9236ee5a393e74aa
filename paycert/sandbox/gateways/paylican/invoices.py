"""Paylican invoices: what createPayment opens, the shopper pays, and the status read reports.

Statuses (paycert's decision, the seed names UNPAID and PAID only): UNPAID until the shopper acts, then PAID,
FAILED (declined) or REJECTED (cancelled); EXPIRED when unpaid for 30 minutes. Every status but UNPAID is
final: nothing can be paid after.
"""

from __future__ import annotations

import secrets
from typing import Any

from paycert.sandbox.gateways.paylican.timefmt import year_of
from paycert.sandbox.store import Store

UNPAID = "UNPAID"
PAID = "PAID"
FAILED = "FAILED"
REJECTED = "REJECTED"
EXPIRED = "EXPIRED"
STATUSES = (UNPAID, PAID, FAILED, REJECTED, EXPIRED)

EXPIRY_SECONDS = 30 * 60
# The seed names CASH, DIRECT_PAYMENT and MOBILE_MONEY; a card paid on the gateway's page is a direct payment.
PAYMENT_MODE = "DIRECT_PAYMENT"
SANDBOX_BANK = "SANDBOX"

_KIND = "paylican.invoice"


def _due(invoice: dict[str, Any]) -> float | None:
    return float(invoice["expiresAt"]) if invoice["status"] == UNPAID else None


def install(store: Store) -> None:
    """Index UNPAID invoices by their expiry, so the sweep on each tick is an index range, not a scan."""
    store.index_due(_KIND, _due)


def new_invoice_id(store: Store, payment_type: str, now: float) -> str:
    """`XYZ2024-ade08` like the seed: the payment type, the year, a dash and five hex digits."""
    with store.lock:
        for _ in range(20):
            candidate = f"{payment_type}{year_of(now)}-{secrets.token_hex(3)[:5]}"
            if store.get(_KIND, candidate) is None:
                return candidate
    raise RuntimeError("no free invoice id")  # 20 collisions in a row: the store is full of this type


def open_invoice(store: Store, request: dict[str, Any], invoice_id: str, now: float) -> dict[str, Any]:
    invoice = {
        "invoiceId": invoice_id,
        "type": request["type"],
        "merchantReference": request["merchantReference"],
        "customerCode": request["customerCode"],
        "itemName": request.get("itemName"),
        "beneficiaryCode": request.get("beneficiaryCode"),
        "totalAmount": request["amount"],
        "redirectionUrl": request["redirectionUrl"],
        "additionalFields": list(request.get("additionalFields") or []),
        "status": UNPAID,
        "createdAt": now,
        "expiresAt": now + EXPIRY_SECONDS,
        "paymentNo": None,
        "paymentDate": None,
        "attemptedAt": None,
        "paymentMode": None,
        "bankCode": None,
        "collector": None,
        "paymentError": None,
    }
    store.put(_KIND, invoice_id, invoice)
    return invoice


def load(store: Store, invoice_id: str, now: float) -> dict[str, Any] | None:
    """The invoice, expired first if its time is up (the sweep may not have run yet)."""
    invoice = store.get(_KIND, invoice_id)
    if invoice is not None and invoice["status"] == UNPAID and invoice["expiresAt"] <= now:
        invoice = save(store, {**invoice, "status": EXPIRED})
    return invoice


def save(store: Store, invoice: dict[str, Any]) -> dict[str, Any]:
    store.put(_KIND, invoice["invoiceId"], invoice)
    return invoice


def expire_due(store: Store, now: float) -> int:
    """Mark every UNPAID invoice past its 30 minutes EXPIRED; returns how many."""
    expired = 0
    with store.lock:
        for invoice_id in store.due(_KIND, now):
            invoice = load(store, invoice_id, now)  # load() expires an UNPAID one
            if invoice is not None and invoice["status"] == EXPIRED:
                expired += 1
    return expired


def next_webhook_id(store: Store) -> int:
    """Webhook ids are Longs the system generates (seed), counted up from the seed's example value."""
    with store.lock:
        saved = store.get("paylican.sequence", "webhook")
        current = int(saved["next"]) if saved else 41768
        store.put("paylican.sequence", "webhook", {"next": current + 1})
    return current
