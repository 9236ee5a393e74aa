"""Helpers for the reference merchant's tests: its order API and a sender playing one gateway at it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from paycert.sandbox.merchant import WEBHOOK_SECRETS
from paycert.targets.profile import load_profile
from paycert.webhooks.sender import EventShape, WebhookSender

CHALLENGE_CARD = {
    "number": "5549110920049586",
    "expiryMonth": "12",
    "expiryYear": "2030",
    "cvv": "123",
    "brand": "MC",
}


def shape(gateway: str) -> EventShape:
    profile = load_profile(gateway)
    schema = profile.json_schema("webhook") or {}
    return EventShape(
        schema["examples"][0], profile.webhooks, profile.raw["statuses"], profile.amounts, schema
    )


def sender(base_url: str, gateway: str) -> WebhookSender:
    profile = load_profile(gateway)
    return WebhookSender(
        f"{base_url}/merchant/webhooks/{gateway}",
        profile.signature_scheme,
        WEBHOOK_SECRETS.get(gateway),
        tamper_pointer=profile.webhooks.get("amount"),
    )


def create_order(base_url: str, gateway: str, amount: str = "10.00", currency: str = "EUR") -> dict[str, Any]:
    body: dict[str, Any] = {"gateway": gateway, "amount": amount, "currency": currency}
    if gateway == "txservices":
        body["card"] = CHALLENGE_CARD  # a direct gateway: the card goes with the payment, 3-D Secure pending
    answer = httpx.post(f"{base_url}/merchant/orders", json=body, timeout=10)
    assert answer.status_code == 201, answer.text
    order: dict[str, Any] = answer.json()
    return order


def order(base_url: str, order_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{base_url}/merchant/orders/{order_id}", timeout=10)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def event(gateway: str, created: dict[str, Any], state: str = "COMPLETED", **over: Any) -> dict[str, Any]:
    return shape(gateway).body(
        payment_id=str(created["paymentId"]),
        state=state,
        amount=Decimal(over.get("amount", created["amount"])),
        currency=over.get("currency", created["currency"]),
    )
