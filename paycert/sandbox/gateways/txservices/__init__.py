"""The txservices sandbox: a Paymentz-family card gateway (seed 001_ff6acabc0a225ce2.txt, FACTS.md).

Token endpoint and `authtoken` header; payments (debit, preauth) by card or e-wallet, form-urlencoded or JSON
in, JSON or XML out; MD5 request checksums; 3-D Secure ACS page; back office (capture, refund, reversal);
recurring; tokenization; payout; invoices and their payment links; MD5-checksummed callbacks to
`notificationUrl` through the outbox; expiry of payments left open for 30 minutes. Everything it decides is
written in specs/txservices/.
"""

from __future__ import annotations

from fastapi import APIRouter

from paycert.sandbox.gateways.txservices import (
    backoffice,
    callbacks,
    invoices,
    pages,
    payments,
    payout,
    registrations,
    token,
)
from paycert.sandbox.gateways.txservices.credentials import CREDENTIALS, OTHER_CREDENTIALS
from paycert.sandbox.gateways.txservices.ledger import PREFIX, Ledger
from paycert.sandbox.state import SandboxState


def build_router(state: SandboxState) -> APIRouter:
    ledger = Ledger(state)
    callbacks.install(state)
    state.every_tick(ledger.expire_due)
    router = APIRouter()
    for module in (token, payments, backoffice, registrations, payout, pages, invoices):
        module.register(router, ledger)
    return router


__all__ = ["CREDENTIALS", "OTHER_CREDENTIALS", "PREFIX", "build_router"]
