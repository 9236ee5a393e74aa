"""Webhook registration (`/api/v1/webhooks`) and the signed events sent to every matching registration."""

from __future__ import annotations

import json
import secrets
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from paycert.sandbox.gateways.gustaffo.api import GatewayError, guarded_route, is_http_url
from paycert.sandbox.gateways.gustaffo.auth import bearer_check
from paycert.sandbox.gateways.gustaffo.records import (
    CANCELLED,
    COMPLETED,
    EXPIRED,
    FAILED,
    PARTIALLY_REFUNDED,
    REFUNDED,
    Payment,
    PaymentBook,
    iso,
    major,
)
from paycert.sandbox.outbox import Attempt, Rendered
from paycert.sandbox.state import SandboxState
from paycert.sandbox.store import new_id
from paycert.webhooks.signatures import get_scheme

WEBHOOK_KIND = "gustaffo.webhook"
# Deleted registrations, kept apart: every payment event reads all of WEBHOOK_KIND, which would otherwise grow
# with every registration ever deleted (each certification run registers and deletes its own).
DELETED_KIND = "gustaffo.webhook.deleted"
RENDERER = "gustaffo"
SIGNATURE_SCHEME = "sha256-secret-body"

EVENT_FOR_STATUS: dict[str, str] = {
    COMPLETED: "payment.completed",
    FAILED: "payment.failed",
    CANCELLED: "payment.cancelled",
    EXPIRED: "payment.expired",
    REFUNDED: "payment.refunded",
    PARTIALLY_REFUNDED: "payment.refunded",
}
EVENTS: tuple[str, ...] = (
    "payment.completed",
    "payment.failed",
    "payment.cancelled",
    "payment.refunded",
    "payment.expired",
)

# 6 attempts: at once, then 1, 2, 4, 8 and 16 s later (sandbox clock); 5 s per attempt.
MAX_ATTEMPTS = 6
SCHEDULE: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)
TIMEOUT_SECONDS = 5.0


def _public(registration: dict[str, Any]) -> dict[str, Any]:
    return {k: registration[k] for k in ("webhookId", "url", "events", "createdAt")}


def _parse_registration(body: Any) -> tuple[str, list[str]]:
    if not isinstance(body, dict):
        raise GatewayError(400, "invalid_request", "The body must be a JSON object")
    url = body.get("url")
    if not isinstance(url, str) or not is_http_url(url):
        raise GatewayError(400, "invalid_request", "url must be an absolute http(s) URL")
    events = body.get("events")
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise GatewayError(400, "invalid_request", "events must be a non-empty list of event names")
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        raise GatewayError(
            400, "invalid_request", f"Unknown event(s) {', '.join(unknown)}; known: {', '.join(EVENTS)}"
        )
    return str(url), list(dict.fromkeys(events))


def build_webhook_router(state: SandboxState) -> APIRouter:
    router = APIRouter(route_class=guarded_route(bearer_check(state)), tags=["gustaffo"])

    @router.post("/api/v1/webhooks", operation_id="registerWebhook", status_code=201)
    async def register_webhook(request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError as exc:
            raise GatewayError(400, "invalid_request", "The body must be JSON") from exc
        url, events = _parse_registration(body)
        webhook_id = new_id("wh_")
        registration = {
            "webhookId": webhook_id,
            "url": url,
            "events": events,
            "secret": "whsec_" + secrets.token_hex(24),
            "createdAt": iso(state.clock.now()),
            "deleted": False,
        }
        state.store.put(WEBHOOK_KIND, webhook_id, registration)
        # The secret is shown once, here; the list never shows it again.
        return JSONResponse({**_public(registration), "secret": registration["secret"]}, status_code=201)

    @router.get("/api/v1/webhooks", operation_id="listWebhooks")
    def list_webhooks() -> JSONResponse:
        active = [_public(r) for r in state.store.all(WEBHOOK_KIND) if not r["deleted"]]
        return JSONResponse({"webhooks": active})

    @router.delete("/api/v1/webhooks/{webhookId}", operation_id="deleteWebhook", status_code=204)
    def delete_webhook(webhookId: str) -> Response:
        with state.store.lock:  # one batch: the registration is never in both kinds, or in neither
            registration = state.store.get(WEBHOOK_KIND, webhookId)
            if registration is None or registration["deleted"]:
                raise GatewayError(404, "not_found", "Webhook not found")
            retire(state, {**registration, "deleted": True})
        return Response(status_code=204)

    return router


def retire(state: SandboxState, registration: dict[str, Any]) -> None:
    """Move a deleted registration out of the active ones. Kept: deliveries already queued still need its
    secret to be signed."""
    state.store.put(DELETED_KIND, registration["webhookId"], registration)
    state.store.delete(WEBHOOK_KIND, registration["webhookId"])


def find_registration(state: SandboxState, webhook_id: str) -> dict[str, Any] | None:
    """A registration, active or deleted."""
    return state.store.get(WEBHOOK_KIND, webhook_id) or state.store.get(DELETED_KIND, webhook_id)


def event_body(state: SandboxState, event_type: str, payment: Payment) -> dict[str, Any]:
    data: dict[str, Any] = {
        "paymentId": payment.payment_id,
        "orderId": payment.order_id,
        "status": payment.status,
        "amount": major(payment.amount_minor, payment.currency),
        "currency": payment.currency,
        "refundedAmount": major(payment.refunded_minor, payment.currency),
    }
    if payment.method:
        data["method"] = payment.method  # CARD or PAYPAL, as the status API says it
    if event_type == "payment.refunded" and payment.refunds:
        last = payment.refunds[-1]
        data["refund"] = {"refundId": last["refundId"], "amount": last["amount"]}
    event = {"id": new_id("evt_"), "event": event_type, "createdAt": iso(state.clock.now()), "data": data}
    if state.faults.active("webhook-drift"):
        # The fault: `createdAt`, required by specs/gustaffo/schemas/webhook.json, is left out.
        del event["createdAt"]
    return event


class WebhookEmitter:
    """Listens to payment changes and queues one delivery per matching registration in the outbox."""

    def __init__(self, state: SandboxState, book: PaymentBook) -> None:
        self._state = state
        state.outbox.register_renderer(RENDERER, self.render)
        book.on_change(self.payment_changed)
        # A data folder of an older sandbox kept deleted registrations among the active ones: moved, once.
        with state.store.lock:
            for stale in state.store.all(WEBHOOK_KIND):
                if stale["deleted"]:
                    retire(state, stale)
            state.store.commit()

    def payment_changed(self, payment: Payment) -> None:
        event_type = EVENT_FOR_STATUS.get(payment.status)
        if event_type is None:
            return
        event = event_body(self._state, event_type, payment)
        for registration in self._state.store.all(WEBHOOK_KIND):
            if registration["deleted"] or event_type not in registration["events"]:
                continue
            self._state.outbox.enqueue(
                gateway="gustaffo",
                renderer=RENDERER,
                url=registration["url"],
                event_id=event["id"],
                event_type=event_type,
                # Only the registration's id is queued, never its secret: the outbox is visible to tests.
                payload={"webhookId": registration["webhookId"], "event": event},
                max_attempts=MAX_ATTEMPTS,
                schedule=SCHEDULE,
                timeout=TIMEOUT_SECONDS,
                subject=payment.payment_id,
            )

    def render(self, payload: dict[str, Any], attempt: Attempt) -> Rendered:
        body = json.dumps(payload["event"], separators=(",", ":")).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "gustaffo-sandbox-webhooks/1.0",
            # The same across retries: receivers deduplicate on it.
            "X-Webhook-Id": payload["event"]["id"],
            "X-Webhook-Attempt": str(attempt.number),
        }
        if self._state.faults.active("unsigned-webhook"):
            return Rendered(body=body, headers=headers)
        registered = find_registration(self._state, payload["webhookId"])
        secret = registered["secret"] if registered else ""
        if self._state.faults.active("bad-signature"):
            secret = "whsec_" + "0" * 48  # the fault: a secret the receiver was never given
        signed = get_scheme(SIGNATURE_SCHEME).sign(secret, body)
        return Rendered(body=signed.body, headers={**headers, **signed.headers})
