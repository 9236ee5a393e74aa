"""The reference merchant (seed 004_b0783ee23689a149.txt): a shop's payment integration built right, at
`/merchant`, paying through the sandbox's own gateways over HTTP.

Pending transaction on checkout, redirect to the gateway, a webhook callback that verifies the signature and
fulfils once, the return URL that reads the status API, a status-polling job for payments pending too long,
expiry after 30 minutes on the test clock, and a WebSocket that pushes status changes to the browser.
`--fault merchant-*` breaks one of these promises at a time. Specified by specs/merchant/openapi.yaml.
"""

from __future__ import annotations

from fastapi import APIRouter

from paycert.sandbox.merchant.adapters import WEBHOOK_SECRETS
from paycert.sandbox.merchant.router import build_router as _routes
from paycert.sandbox.merchant.service import PREFIX, Merchant
from paycert.sandbox.state import SandboxState

__all__ = ["PREFIX", "WEBHOOK_SECRETS", "build_router"]


def build_router(state: SandboxState) -> APIRouter:
    merchant = Merchant(state)
    state.every_tick(merchant.sweep)
    return _routes(merchant)
