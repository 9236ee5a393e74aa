"""Webhooks on a live gateway: use what needs no write, write only when allowed, and put it back after.

A live gateway's webhook registrations and configured endpoint belong to the merchant. paycert uses, in
order: a registration that already points at paycert's receiver (read with `list_webhooks`), the receiver
the target names (`webhooks.public_url`: the gateway was set up out of band to call it), and only with
--allow-live-writes a registration of its own, deleted at the end of the run. A configured endpoint is never
overwritten: no operation reads it back, so it could not be restored. Otherwise the webhook checks are not
evaluated, with the reason.
"""

from __future__ import annotations

import json

from paycert.core.errors import LiveWriteRefused
from paycert.gateways.client import GatewayClient
from paycert.plugin.session import RunState

UNAVAILABLE = "webhooks_unavailable"  # context_extra key: why this live gateway's webhooks cannot be used


def prepare_live_webhooks(run: RunState, client: GatewayClient, url: str, operation: str | None) -> None:
    """Point a live gateway's webhooks at `url` without changing anything that was there before."""
    if operation is None or not client.offers(operation):
        return  # per payment: each create names the receiver, nothing to set up
    if operation == "configure_webhook":
        if not run.target.webhook_public_url:
            _unavailable(
                client,
                f"{client.id} is live and its webhook endpoint is configured on the account: paycert does "
                "not overwrite it (nothing reads it back to restore it); name the receiver it already "
                "calls in the target's webhooks.public_url",
            )
        return
    if _already_registered(client, url):
        return
    if not client.guard.may_write:
        _unavailable(
            client,
            f"{client.id} is live: no registration points at {url} and registering one is a write "
            "(run with --allow-live-writes; it is deleted at the end of the run)",
        )
        return
    result = client.call(
        operation, {"webhook_url": url, "notification_url": url}, label=f"{operation} (live)"
    )
    if not result.ok:
        run.harness_error(
            f"{client.id}: {operation} answered HTTP {result.status}; webhooks cannot be certified"
        )
        return
    body = result.body if isinstance(result.body, dict) else {}
    client.context_extra["registration"] = body
    for key, value in body.items():
        if isinstance(value, str) and "secret" in key.lower():
            run.redactor.add_secret(value)


def require_webhooks(client: GatewayClient) -> None:
    """Stop a test that needs webhooks when this live gateway's cannot be used (not evaluated, not broken)."""
    reason = client.context_extra.get(UNAVAILABLE)
    if reason:
        raise LiveWriteRefused(str(reason))


def _unavailable(client: GatewayClient, reason: str) -> None:
    client.context_extra[UNAVAILABLE] = reason
    client.recorder.note(reason, "live guard")


def _already_registered(client: GatewayClient, url: str) -> bool:
    """Whether a registration the account already has delivers to `url` (read, never written)."""
    if not client.offers("list_webhooks"):
        return False
    listed = client.call("list_webhooks", label="an existing registration for paycert's receiver?")
    return listed.ok and url in json.dumps(listed.body)
