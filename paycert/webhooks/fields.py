"""Reading a webhook the way its profile says: which event, about which payment, in which state.

One rule for every reader (paycert's sink inbox, the pact consumer, the merchant suite's sender): a field's
pointer is a JSON pointer into the body, or `header:NAME` for a delivery header (Standard Webhooks carry the
event id only in `webhook-id`); and per event type, `event_fields` may point elsewhere, for webhooks about a
sub-object (a refund event names the refund, and its payment under another field).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paycert.core.pointers import MISSING, resolve

__all__ = ["FIELDS", "HEADER_PREFIX", "pointer_for", "read_field"]

FIELDS = ("event_id", "event_type", "payment_id", "status", "amount")
HEADER_PREFIX = "header:"


def pointer_for(webhooks: Mapping[str, Any], name: str, event_type: str | None = None) -> str | None:
    """The pointer of field `name` for an event of `event_type` (its `event_fields` override, else the
    profile's general pointer)."""
    if event_type is not None:
        override = ((webhooks.get("event_fields") or {}).get(event_type) or {}).get(name)
        if override:
            return str(override)
    general = webhooks.get(name)
    return str(general) if general else None


def read_field(
    webhooks: Mapping[str, Any],
    name: str,
    body: Any,
    headers: Mapping[str, str] | None = None,
    event_type: str | None = None,
) -> Any:
    """Field `name` of one delivery (None where the profile names no pointer or the delivery lacks it)."""
    pointer = pointer_for(webhooks, name, event_type)
    if pointer is None:
        return None
    if pointer.startswith(HEADER_PREFIX):
        wanted = pointer.removeprefix(HEADER_PREFIX).lower()
        return next((v for k, v in (headers or {}).items() if k.lower() == wanted), None)
    if body is None:
        return None
    value = resolve(body, pointer)
    return None if value is MISSING else value
