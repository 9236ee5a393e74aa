"""The Paylican gateway of the sandbox (seed 003): Keycloak password grant, invoices paid on a hosted page,
unsigned webhooks with `pendingWebhooks` and retries. Spec: `specs/paylican/openapi.yaml`."""

from __future__ import annotations

from fastapi import APIRouter

from paycert.sandbox.gateways.paylican import invoices, webhooks
from paycert.sandbox.gateways.paylican.api import build_api_router
from paycert.sandbox.gateways.paylican.auth import CREDENTIALS, OTHER_CREDENTIALS, PREFIX, build_auth_router
from paycert.sandbox.gateways.paylican.paypage import build_pay_page_router
from paycert.sandbox.state import SandboxState

__all__ = ["CREDENTIALS", "OTHER_CREDENTIALS", "PREFIX", "build_router"]


def build_router(state: SandboxState) -> APIRouter:
    invoices.install(state.store)
    webhooks.install(state)
    state.every_tick(lambda: _expire(state))
    router = APIRouter()
    router.include_router(build_auth_router(state))
    router.include_router(build_api_router(state))
    router.include_router(build_pay_page_router(state))
    return router


def _expire(state: SandboxState) -> None:
    invoices.expire_due(state.store, state.clock.now())
