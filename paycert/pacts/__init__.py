"""Pact contracts between a merchant and a gateway: the merchant's needs as V4 pacts (consumer side) and
their verification against a gateway with pact's own verifier (provider side)."""

from __future__ import annotations

from paycert.pacts.consumer import CONSUMER, WEBHOOK_NEED, merchant_pact, webhook_pact
from paycert.pacts.verify import CRITERION, InteractionResult, PactVerification, read_pact, verify_pact

__all__ = [
    "CONSUMER",
    "CRITERION",
    "WEBHOOK_NEED",
    "InteractionResult",
    "PactVerification",
    "merchant_pact",
    "read_pact",
    "verify_pact",
    "webhook_pact",
]
