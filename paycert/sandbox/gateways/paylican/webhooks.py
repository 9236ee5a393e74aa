"""Paylican webhook notifications: the four invoice events, sent through the sandbox outbox.

The seed names no signature, so none is sent. `createdAt` (sending time) and `pendingWebhooks` (attempts left
after this one) are filled in for each attempt, so the first attempt says 2 like the seed's examples and each
retry counts down. The seed's response cases are read back from the outbox's attempt log.
"""

from __future__ import annotations

import json
from typing import Any

from paycert.sandbox.clock import TestClock
from paycert.sandbox.faults import Faults
from paycert.sandbox.gateways.paylican import invoices
from paycert.sandbox.gateways.paylican.timefmt import zoned
from paycert.sandbox.outbox import Attempt, Rendered, Renderer
from paycert.sandbox.state import SandboxState

GATEWAY = "paylican"
RENDERER = "paylican.webhook"
MAX_ATTEMPTS = 3
SCHEDULE_SECONDS = (5.0, 30.0)
TIMEOUT_SECONDS = 5.0

INITIATED = "invoice.payment_initiated"
EXECUTED = "invoice.payment_executed"
ERROR = "invoice.payment_error"
REJECTED = "invoice.payment_rejected"

_ENDPOINT_KIND = "paylican.webhook-endpoint"
# The seed's error and rejected examples carry no bank, payment date or mode.
_FULL_DATA = {INITIATED, EXECUTED}


def renderer(clock: TestClock, faults: Faults) -> Renderer:
    # Fault `webhook-drift`: `createdAt`, required by specs/paylican/schemas/webhook.json, is left out.
    drift = faults.active("webhook-drift")

    def render(payload: dict[str, Any], attempt: Attempt) -> Rendered:
        body = {**payload, "createdAt": zoned(clock.now()), "pendingWebhooks": attempt.remaining_after}
        if drift:
            del body["createdAt"]
        return Rendered(
            body=json.dumps(body, sort_keys=True).encode(),
            headers={"Content-Type": "application/json", "User-Agent": "Paylican-Webhooks (paycert sandbox)"},
        )

    return render


def install(state: SandboxState) -> None:
    state.outbox.register_renderer(RENDERER, renderer(state.clock, state.faults))
    # Deliveries queued by a sandbox older than the outbox's `subject` column get theirs (once; then none
    # match), so `invocations` finds an invoice's webhooks by index.
    state.store.write(
        "UPDATE deliveries SET subject = json_extract(payload, '$.data.id')"
        " WHERE gateway = ? AND subject IS NULL",
        (GATEWAY,),
    )
    state.store.commit()


def configure(state: SandboxState, url: str) -> dict[str, Any]:
    return state.store.put(_ENDPOINT_KIND, "current", {"url": url, "updatedAt": zoned(state.clock.now())})


def endpoint(state: SandboxState) -> str | None:
    saved = state.store.get(_ENDPOINT_KIND, "current")
    return str(saved["url"]) if saved else None


def event_data(invoice: dict[str, Any], event_type: str, status: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "additionalFields": invoice["additionalFields"],
        "documentNo": invoice["merchantReference"],
        "id": invoice["invoiceId"],
        "paymentNo": invoice["paymentNo"],
        "status": status,
        "totalAmount": invoice["totalAmount"],
    }
    if event_type in _FULL_DATA:
        paid_at = invoice["paymentDate"] or invoice["attemptedAt"]
        data.update(
            bankCode=invoice["bankCode"],
            collector=invoice["collector"],
            paymentDate=zoned(paid_at) if paid_at is not None else None,
            paymentMode=invoice["paymentMode"],
        )
    return data


def emit(state: SandboxState, invoice: dict[str, Any], event_type: str, status: str) -> str | None:
    """Queue one event for the configured receiver; None when no receiver is configured."""
    url = endpoint(state)
    if url is None:
        return None
    webhook_id = invoices.next_webhook_id(state.store)
    payload = {"id": webhook_id, "type": event_type, "data": event_data(invoice, event_type, status)}
    return state.outbox.enqueue(
        gateway=GATEWAY,
        renderer=RENDERER,
        url=url,
        event_id=str(webhook_id),
        event_type=event_type,
        payload=payload,
        max_attempts=MAX_ATTEMPTS,
        schedule=SCHEDULE_SECONDS,
        timeout=TIMEOUT_SECONDS,
        subject=invoice["invoiceId"],
    )


def _attempt_view(attempt: dict[str, Any], max_attempts: int) -> dict[str, Any]:
    code = attempt.get("status_code")
    ok = code is not None and 200 <= int(code) < 300
    return {
        "number": attempt["number"],
        "sentAt": zoned(float(attempt["at"])),
        "pendingWebhooks": max_attempts - int(attempt["number"]),
        "result": "SUCCESSFULL" if ok else "FAILED",  # the seed's spelling
        "status": "INVOCATION_SUCCESS" if ok else "INVOCATION_FAIL",
        "error": None if code is not None else "SYNCH_UNAVAILABLE",
        "httpStatus": code,
        "responseBody": attempt.get("response_body"),
    }


def invocations(state: SandboxState, invoice_id: str) -> list[dict[str, Any]]:
    """The webhook invocations of one invoice, oldest first, with the seed's response cases per attempt."""
    views = []
    for delivery in state.outbox.deliveries(GATEWAY, subject=invoice_id):
        payload = delivery["payload"]
        attempts = [_attempt_view(a, int(delivery["max_attempts"])) for a in delivery["attempt_log"]]
        last = attempts[-1] if attempts else None
        views.append(
            {
                "webhookId": payload["id"],
                "type": payload["type"],
                "url": delivery["url"],
                "state": {"pending": "RETRYING" if attempts else "PENDING", "delivered": "DELIVERED"}.get(
                    delivery["state"], "GAVE_UP"
                ),
                "result": last["result"] if last else None,
                "status": last["status"] if last else None,
                "error": last["error"] if last else None,
                "nextAttemptAt": zoned(float(delivery["next_at"]))
                if delivery["next_at"] is not None
                else None,
                "attempts": attempts,
            }
        )
    return views


def summary(views: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """(webhookStatus, error) of an invoice: its latest invocation's status, SYNCH_UNAVAILABLE on no answer."""
    if not views:
        return None, None
    latest = views[-1]
    return latest["status"] or "PENDING", latest["error"]
