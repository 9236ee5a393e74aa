"""The canonical payment states every gateway's vendor statuses are mapped onto."""

from __future__ import annotations

from enum import StrEnum


class PaymentState(StrEnum):
    PENDING = "PENDING"
    CHALLENGE = "CHALLENGE"
    AUTHORIZED = "AUTHORIZED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    VOIDED = "VOIDED"
    EXPIRED = "EXPIRED"

    @property
    def is_final(self) -> bool:
        """A state the shopper's part of the flow cannot leave (refunds may still follow a completion)."""
        return self not in {PaymentState.PENDING, PaymentState.CHALLENGE, PaymentState.AUTHORIZED}
