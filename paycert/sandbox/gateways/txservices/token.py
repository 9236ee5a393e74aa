"""`POST /authToken`: credentials in, a one-hour token out."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from paycert.sandbox.gateways.txservices import auth
from paycert.sandbox.gateways.txservices.http import guarded, read_params, respond
from paycert.sandbox.gateways.txservices.ledger import Ledger
from paycert.sandbox.gateways.txservices.payments import API


def register(router: APIRouter, ledger: Ledger) -> None:
    @router.post(API + "/authToken", tags=["txservices"])
    async def auth_token(request: Request) -> Response:
        async def handle() -> Response:
            params = await read_params(request)
            return respond(request, auth.issue(params, ledger.now()))

        return await guarded(request, ledger.now, handle)
