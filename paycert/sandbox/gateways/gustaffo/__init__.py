"""The gustaffo gateway of the sandbox: OAuth2 client credentials, hosted payment page with 3-D Secure,
status, refunds, registered webhooks signed with SHA-256(secret + body).

Specified by `specs/gustaffo/openapi.yaml` (from seed 000_dbf526aebbff90f6.txt); where the seed is silent the
spec records paycert's decision and this package follows it.
"""

from __future__ import annotations

from fastapi import APIRouter

from paycert.sandbox.gateways.gustaffo.api import refuse_other_methods
from paycert.sandbox.gateways.gustaffo.auth import CREDENTIALS, OTHER_CREDENTIALS, build_token_router
from paycert.sandbox.gateways.gustaffo.checkout import build_checkout_router
from paycert.sandbox.gateways.gustaffo.payments import build_payment_router
from paycert.sandbox.gateways.gustaffo.records import PaymentBook
from paycert.sandbox.gateways.gustaffo.webhooks import WebhookEmitter, build_webhook_router
from paycert.sandbox.state import SandboxState

PREFIX = "/gustaffo"

__all__ = ["CREDENTIALS", "OTHER_CREDENTIALS", "PREFIX", "build_router"]


def build_router(state: SandboxState) -> APIRouter:
    book = PaymentBook(state)
    WebhookEmitter(state, book)
    state.every_tick(book.expire_due)
    parts = [
        build_token_router(state),
        build_payment_router(state, book),
        build_webhook_router(state),
        build_checkout_router(state, book),
    ]
    router = APIRouter()
    for part in parts:
        router.include_router(part)
    refuse_other_methods(router, parts)
    return router
