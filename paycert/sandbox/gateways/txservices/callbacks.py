"""Callbacks to the payment's `notificationUrl`: JSON with an MD5 `checksum` field, sent through the outbox.

The checksum is md5(paymentId|merchantTransactionId|amount|transactionStatus|secureKey): the scheme
`md5-callback-checksum` of paycert.webhooks.signatures, which signs each attempt.
"""

from __future__ import annotations

import json
from typing import Any

from paycert.sandbox.gateways.txservices.credentials import SECURE_KEY, WRONG_SECURE_KEY
from paycert.sandbox.outbox import Attempt, Rendered
from paycert.sandbox.state import SandboxState
from paycert.sandbox.store import new_id
from paycert.webhooks.signatures import get_scheme

GATEWAY = "txservices"
RENDERER = "txservices.callback"
SCHEME = "md5-callback-checksum"
MAX_ATTEMPTS = 5
SCHEDULE = (2.0, 4.0, 8.0, 16.0)
TIMEOUT_SECONDS = 5.0


def body_of(payment: dict[str, Any], timestamp: str) -> dict[str, Any]:
    """The callback body without its checksum (added per attempt by the renderer)."""
    body: dict[str, Any] = {
        "paymentId": payment["id"],
        "status": payment["status"],
        "transactionStatus": payment["transactionStatus"],
        "paymentBrand": payment["paymentBrand"],
        "paymentMode": payment["paymentMode"],
        "paymentType": payment["paymentType"],
        "amount": payment["amount"],
        "currency": payment["currency"],
        "merchantTransactionId": payment["merchantTransactionId"],
        "result": dict(payment["result"]),
    }
    if payment.get("card"):
        body["card"] = dict(payment["card"])
    body["timestamp"] = timestamp
    return body


def install(state: SandboxState) -> None:
    """Register the renderer; faults decide per sandbox whether the checksum is wrong or missing and
    whether the body drifts from its schema."""
    secret = WRONG_SECURE_KEY if state.faults.active("bad-signature") else SECURE_KEY
    unsigned = state.faults.active("unsigned-webhook")
    # The fault webhook-drift: `timestamp`, required by specs/txservices/schemas/webhook.json, is left out
    # (the checksum does not cover it, so it still verifies).
    drop = ("timestamp",) if state.faults.active("webhook-drift") else ()
    scheme = get_scheme(SCHEME)

    def render(payload: dict[str, Any], attempt: Attempt) -> Rendered:
        body = json.dumps({k: v for k, v in payload.items() if k not in drop}).encode("utf-8")
        if not unsigned:
            body = scheme.sign(secret, body).body
        return Rendered(
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": "txservices-sandbox-callback/1"},
        )

    state.outbox.register_renderer(RENDERER, render)


def send(state: SandboxState, payment: dict[str, Any], timestamp: str) -> None:
    url = payment.get("notificationUrl")
    if not url:
        return
    state.outbox.enqueue(
        gateway=GATEWAY,
        renderer=RENDERER,
        url=url,
        event_id=new_id("evt_"),
        event_type=str(payment["status"]),
        payload=body_of(payment, timestamp),
        max_attempts=MAX_ATTEMPTS,
        schedule=SCHEDULE,
        timeout=TIMEOUT_SECONDS,
        subject=str(payment["id"]),
    )
