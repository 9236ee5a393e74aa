"""The reference merchant's orders: a pending transaction per checkout (seed 004 §1) and the rules that
keep it honest — fulfil once, never leave a final state, never fulfil on a mismatched amount.

Every change goes through `OrderBook.apply` under the store's lock, so concurrent deliveries of the same
webhook cannot both see PENDING and both fulfil.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from paycert.sandbox.state import SandboxState
from paycert.sandbox.store import new_id

ORDER_KIND = "merchant.order"
PAYMENT_KIND = "merchant.payment"  # (gateway, payment id) -> order id

PENDING = "PENDING"
PAID = "PAID"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
FINAL = frozenset({PAID, FAILED, CANCELLED})

# Seed 004, Additional Considerations: "a payment expiration time (e.g., 30 minutes)".
EXPIRY_SECONDS = 30 * 60

Order = dict[str, Any]
Listener = Callable[[Order], None]


def same_money(order: Order, amount: Decimal | None, currency: str | None) -> bool:
    """Whether a notification's amount (and currency, when it carries one) is the order's."""
    if amount is None or Decimal(order["amount"]) != amount:
        return False
    return currency is None or currency.upper() == str(order["currency"]).upper()


class OrderBook:
    """Orders in the sandbox store, with listeners (the WebSocket push) told of every status change."""

    def __init__(self, state: SandboxState) -> None:
        self._state = state
        self._listeners: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Order]]]] = {}

    # -- reading ----------------------------------------------------------------------------------------

    def get(self, order_id: str) -> Order | None:
        return self._state.store.get(ORDER_KIND, order_id)

    def by_payment(self, gateway: str, payment_id: str) -> Order | None:
        link = self._state.store.get(PAYMENT_KIND, f"{gateway}:{payment_id}")
        return self.get(str(link["orderId"])) if link else None

    def for_payment(self, gateway: str, payment_id: str) -> list[Order]:
        return [
            o
            for o in self._state.store.all(ORDER_KIND)
            if o["gateway"] == gateway and o["paymentId"] == payment_id
        ]

    def pending(self) -> list[Order]:
        return [o for o in self._state.store.all(ORDER_KIND) if o["status"] == PENDING]

    # -- writing ----------------------------------------------------------------------------------------

    def open(self, gateway: str, amount: Decimal, currency: str) -> Order:
        now = self._state.clock.now()
        order: Order = {
            "orderId": new_id("ord_"),
            "gateway": gateway,
            "amount": f"{amount:.2f}",
            "currency": currency,
            "status": PENDING,
            "fulfilments": 0,
            "paymentId": None,
            "paymentUrl": None,
            "returnUrl": None,
            "createdAt": now,
            "expiresAt": now + EXPIRY_SECONDS,
            "polledAt": None,
            "history": [{"at": now, "source": "checkout", "status": PENDING, "note": "pending transaction"}],
        }
        return self._state.store.put(ORDER_KIND, order["orderId"], order)

    def attach_payment(
        self, order_id: str, payment_id: str, payment_url: str | None, return_url: str
    ) -> Order:
        with self._state.store.lock:
            order = self._require(order_id)
            order.update(paymentId=payment_id, paymentUrl=payment_url, returnUrl=return_url)
            self._state.store.put(PAYMENT_KIND, f"{order['gateway']}:{payment_id}", {"orderId": order_id})
            return self._state.store.put(ORDER_KIND, order_id, order)

    def note(self, order_id: str, source: str, note: str) -> Order:
        with self._state.store.lock:
            order = self._require(order_id)
            order["history"].append(
                {"at": self._state.clock.now(), "source": source, "status": None, "note": note}
            )
            return self._state.store.put(ORDER_KIND, order_id, order)

    def mark_polled(self, order_id: str) -> None:
        with self._state.store.lock:
            order = self._require(order_id)
            order["polledAt"] = self._state.clock.now()
            self._state.store.put(ORDER_KIND, order_id, order)

    def apply(self, order_id: str, status: str, source: str, note: str = "") -> Order:
        """Move an order to `status` if the rules allow it; fulfil on the move to PAID, exactly once."""
        regress = self._state.faults.active("merchant-regresses-state")
        double = self._state.faults.active("merchant-double-fulfil")
        with self._state.store.lock:
            order = self._require(order_id)
            before = order["status"]
            entry = {"at": self._state.clock.now(), "source": source, "status": status, "note": note}
            if before in FINAL and status != before and not regress:
                entry["note"] = f"ignored: the order is already {before}"
                order["history"].append(entry)
                return self._state.store.put(ORDER_KIND, order_id, order)
            order["status"] = status
            if status == PAID and (before != PAID or double):
                order["fulfilments"] += 1  # fulfil_order(): ship the goods, here only counted
                entry["note"] = (note + "; " if note else "") + "order fulfilled"
            order["history"].append(entry)
            saved = self._state.store.put(ORDER_KIND, order_id, order)
        if status != before and not self._state.faults.active("merchant-no-push"):
            self._publish(saved)
        return saved

    def _require(self, order_id: str) -> Order:
        order = self.get(order_id)
        if order is None:
            raise KeyError(order_id)
        return order

    # -- WebSocket push ---------------------------------------------------------------------------------

    def subscribe(self, order_id: str) -> asyncio.Queue[Order]:
        queue: asyncio.Queue[Order] = asyncio.Queue()
        self._listeners.setdefault(order_id, []).append((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, order_id: str, queue: asyncio.Queue[Order]) -> None:
        kept = [(loop, q) for loop, q in self._listeners.get(order_id, []) if q is not queue]
        self._listeners[order_id] = kept

    def _publish(self, order: Order) -> None:
        # apply() runs on the event loop (webhooks) or a worker thread (the clock endpoint's jobs).
        for loop, queue in list(self._listeners.get(order["orderId"], [])):
            loop.call_soon_threadsafe(queue.put_nowait, order)
