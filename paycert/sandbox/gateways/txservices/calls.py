"""One authenticated, idempotent API call of txservices: the shape every keyed POST handler shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response

from paycert.sandbox.gateways.txservices import auth
from paycert.sandbox.gateways.txservices.http import guarded
from paycert.sandbox.gateways.txservices.ledger import Ledger


async def keyed(
    request: Request, ledger: Ledger, scope: str, operate: Callable[[], Awaitable[Response]]
) -> Response:
    """Check the authtoken, run `operate` once per Idempotency-Key in `scope`, and answer an ApiError the
    documented way (JSON or XML, as the caller accepts)."""

    async def handle() -> Response:
        auth.check(request, ledger.state)
        return await ledger.state.idempotency.once(request, scope, operate)

    return await guarded(request, ledger.now, handle)
