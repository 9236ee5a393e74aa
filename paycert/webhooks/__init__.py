"""Webhooks: the signature schemes gateways use, and a local sink that receives what a gateway sends."""

from __future__ import annotations

from paycert.webhooks.signatures import (
    SCHEMES,
    WEAKNESSES,
    SignatureScheme,
    Signed,
    UnknownSchemeError,
    Verification,
    get_scheme,
)
from paycert.webhooks.sink import Delivery, WebhookSink

__all__ = [
    "SCHEMES",
    "WEAKNESSES",
    "Delivery",
    "SignatureScheme",
    "Signed",
    "UnknownSchemeError",
    "Verification",
    "WebhookSink",
    "get_scheme",
]
