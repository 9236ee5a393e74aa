"""What a gateway sent to paycert's webhook sink about one payment, read the way the profile says."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paycert.core.evidence import WebhookCapture, webhook_capture_id
from paycert.core.pointers import MISSING, resolve
from paycert.core.states import PaymentState
from paycert.gateways.client import GatewayClient, Payment
from paycert.targets.templates import fill
from paycert.webhooks.fields import read_field
from paycert.webhooks.signatures import Verification, get_scheme
from paycert.webhooks.sink import Delivery, WebhookSink


@dataclass(frozen=True)
class WebhookEvent:
    """One delivery of a webhook, with what the profile's pointers read from it."""

    delivery: Delivery
    body: Any
    event_id: str | None
    event_type: str | None
    payment_id: str | None
    state: PaymentState | None
    vendor_status: Any

    @property
    def received_at(self) -> float:
        return self.delivery.received_at

    def field(self, pointer: str) -> Any:
        value = resolve(self.body, pointer)
        return None if value is MISSING else value


class WebhookInbox:
    """The deliveries of one gateway's webhooks (sink path `/<gateway>`), filtered to one payment."""

    def __init__(self, client: GatewayClient, sink: WebhookSink, payment: Payment | None = None) -> None:
        self.client = client
        self.sink = sink
        self.payment = payment
        self._recorded: set[int] = set()

    @property
    def path_prefix(self) -> str:
        return f"/{self.client.id}"

    def _parse(self, delivery: Delivery) -> WebhookEvent:
        hooks = self.client.profile.webhooks
        try:
            body: Any = json.loads(delivery.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None

        event_type = read_field(hooks, "event_type", body, delivery.headers)

        def read(name: str) -> Any:
            return read_field(
                hooks, name, body, delivery.headers, None if event_type is None else str(event_type)
            )

        vendor_status = read("status")
        state = self.client.profile.event_state(str(event_type)) if event_type is not None else None
        if vendor_status is not None:
            # The status in the body is more precise than the event name when the profile maps it.
            state = self.client.profile.state_of(vendor_status) or state
        payment_id = read("payment_id")
        event_id = read("event_id")
        return WebhookEvent(
            delivery=delivery,
            body=body,
            event_id=None if event_id is None else str(event_id),
            event_type=None if event_type is None else str(event_type),
            payment_id=None if payment_id is None else str(payment_id),
            state=state,
            vendor_status=vendor_status,
        )

    def _mine(self, delivery: Delivery) -> bool:
        if not delivery.path.startswith(self.path_prefix):
            return False
        if self.payment is None:
            return True
        return self._parse(delivery).payment_id == self.payment.id

    def events(self, predicate: Callable[[WebhookEvent], bool] | None = None) -> list[WebhookEvent]:
        found = [self._parse(d) for d in self.sink.deliveries if self._mine(d)]
        chosen = [e for e in found if predicate is None or predicate(e)]
        for event in chosen:
            self._record(event)
        return chosen

    def wait(
        self,
        predicate: Callable[[WebhookEvent], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 30.0,
    ) -> list[WebhookEvent]:
        """Wait (bounded) until at least `count` matching deliveries arrived; returns what arrived by then."""
        deadline = time.monotonic() + timeout
        with self.client.recorder.waiting(
            f"{count} webhook(s) from {self.client.id} ({timeout:g} s at most)"
        ):
            while True:
                # Counted before reading: a delivery that lands while `events` parses still wakes the wait.
                seen = len(self.sink.deliveries)
                found = self.events(predicate)
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    return found
                self.sink.wait_for_more(seen, remaining)

    def wait_for_state(self, state: PaymentState, timeout: float = 30.0) -> WebhookEvent | None:
        found = self.wait(lambda e: e.state is state, timeout=timeout)
        return found[0] if found else None

    def verify(self, event: WebhookEvent) -> Verification:
        """Check the delivery's signature with the profile's scheme and secret."""
        signature = self.client.profile.webhooks["signature"]
        scheme = get_scheme(signature["scheme"])
        secret = str(fill(signature.get("secret", ""), self.client.base_context()))
        return scheme.verify(secret, event.delivery.body, event.delivery.headers)

    def _record(self, event: WebhookEvent) -> None:
        key = hash((event.delivery.path, event.delivery.received_at, event.delivery.body))
        if key in self._recorded:
            return
        self._recorded.add(key)
        redactor = self.client.recorder.redactor
        body = redactor.text(event.delivery.body.decode("utf-8", "replace"))
        self.client.recorder.log.add(
            WebhookCapture(
                path=event.delivery.path,
                headers=redactor.headers(event.delivery.headers),
                body=body,
                received_at=event.delivery.received_at,
                answer=event.delivery.answer,
                label=f"webhook {event.event_type or ''}".strip(),
                id=webhook_capture_id(event.delivery.path, event.delivery.received_at, body),
            )
        )
