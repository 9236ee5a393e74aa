"""Gustaffo payments as stored in the sandbox, and the one place their status changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from paycert.sandbox import currencies
from paycert.sandbox.state import SandboxState
from paycert.sandbox.store import new_id

PAYMENT_KIND = "gustaffo.payment"

PENDING = "PENDING"
AWAITING_3DS = "AWAITING_3DS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
REFUNDED = "REFUNDED"
PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
EXPIRED = "EXPIRED"

CARD_DECLINED = "CARD_DECLINED"
AUTHENTICATION_FAILED = "AUTHENTICATION_FAILED"

OPEN_STATUSES = frozenset({PENDING, AWAITING_3DS})
REFUNDABLE_STATUSES = frozenset({COMPLETED, PARTIALLY_REFUNDED})
# How long a shopper has to pay, on the sandbox clock (paycert's decision: the seed names no limit).
PAYMENT_TTL_SECONDS = 30 * 60


def iso(epoch: float) -> str:
    """An ISO-8601 UTC timestamp with second precision, as every gustaffo body carries it."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def major(minor: int, currency: str | None = None) -> float | int:
    """Minor units back to the JSON number the API speaks, with the currency's decimals (two without one):
    1001 is 10.01 EUR but 1.001 KWD, and 1 JPY is the integer 1."""
    if currency is None:
        return round(minor / 100, 2)
    amount = currencies.from_minor(minor, currency)
    return int(amount) if currencies.exponent(currency) == 0 else float(amount)


@dataclass
class Payment:
    payment_id: str
    status: str
    amount_minor: int
    currency: str
    order_id: str
    description: str
    return_url: str
    created_at: float
    updated_at: float
    expires_at: float
    customer: dict[str, str] | None = None
    refunded_minor: int = 0
    card_brand: str | None = None
    card_last4: str | None = None
    # Why a FAILED payment failed: CARD_DECLINED (the card) or AUTHENTICATION_FAILED (3-D Secure).
    failure_reason: str | None = None
    refunds: list[dict[str, Any]] = field(default_factory=list)
    # How the shopper paid on the hosted page: CARD or PAYPAL (None until they chose; paycert's decision).
    method: str | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Payment:
        return cls(**doc)

    def to_doc(self) -> dict[str, Any]:
        # A shallow copy: dataclasses.asdict deep-copies every field, 0.4 ms of each create under load, for a
        # dict that is serialized at once.
        return dict(vars(self))

    @property
    def remaining_minor(self) -> int:
        return self.amount_minor - self.refunded_minor


Listener = Callable[[Payment], None]


def _due(doc: dict[str, Any]) -> float | None:
    """An open payment is due to expire at its deadline; a finished one is due for nothing."""
    return float(doc["expires_at"]) if doc["status"] in OPEN_STATUSES else None


class PaymentBook:
    """Reads and writes payments; every status change goes through `transition`, which tells the listeners.

    Route handlers run on the event loop while the clock-advance endpoint runs periodic jobs in a worker
    thread, and a refund checks what is left to refund: so a status change is the store's atomic
    check-and-update, never a read here and a write later.
    """

    def __init__(self, state: SandboxState) -> None:
        self._state = state
        self._listeners: list[Listener] = []
        # Expiry finds open payments by an index on their deadline, not by reading every payment.
        state.store.index_due(PAYMENT_KIND, _due)

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def create(self, **fields: Any) -> Payment:
        now = self._state.clock.now()
        payment = Payment(
            payment_id=new_id("pay_"),
            status=PENDING,
            created_at=now,
            updated_at=now,
            expires_at=now + PAYMENT_TTL_SECONDS,
            **fields,
        )
        self._state.store.put(PAYMENT_KIND, payment.payment_id, payment.to_doc())
        return payment

    def get(self, payment_id: str) -> Payment | None:
        doc = self._state.store.get(PAYMENT_KIND, payment_id)
        return Payment.from_doc(doc) if doc else None

    def transition(
        self, payment_id: str, allowed_from: Iterable[str], change: Callable[[Payment], None]
    ) -> Payment | None:
        """Apply `change` if the payment is in one of `allowed_from`; None when it is not (or is unknown).

        `change` may raise to refuse (a refund above the remainder): then nothing is written.
        """
        allowed = set(allowed_from)

        def apply(doc: dict[str, Any]) -> dict[str, Any] | None:
            payment = Payment.from_doc(doc)
            if payment.status not in allowed:
                return None
            change(payment)
            payment.updated_at = self._state.clock.now()
            return payment.to_doc()

        # The listeners queue the webhooks: in the same batch as the change, so no commit comes between them.
        with self._state.store.lock:
            saved = self._state.store.update(PAYMENT_KIND, payment_id, apply)
            if saved is None:
                return None
            payment = Payment.from_doc(saved)
            for listener in self._listeners:
                listener(payment)
        return payment

    def set_status(self, payment_id: str, allowed_from: Iterable[str], status: str) -> Payment | None:
        def change(payment: Payment) -> None:
            payment.status = status

        return self.transition(payment_id, allowed_from, change)

    def expire_due(self) -> None:
        """Expire every payment the shopper left unpaid past its deadline (a periodic job)."""
        for payment_id in self._state.store.due(PAYMENT_KIND, self._state.clock.now()):
            self.set_status(payment_id, OPEN_STATUSES, EXPIRED)
