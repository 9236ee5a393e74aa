"""Source-address allow-listing of the sandbox gateways' APIs (002 §2.3, profiles' `access.allowlist`).

A plain ASGI middleware: a call to a gateway from an address outside the allow-list is refused 403 with a
JSON body before it reaches the gateway. The sandbox serves loopback, so its allow-list is 127.0.0.1 and ::1:
paycert's probe from 127.0.0.2 (Linux routes all of 127.0.0.0/8 to lo) is outside it. The sandbox's own
controls (`/_sandbox`) and the reference merchant are not gateways and are not restricted.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from paycert.sandbox.faults import Faults

ALLOWED_ADDRESSES = frozenset({"127.0.0.1", "::1"})


class AllowList:
    """ASGI middleware: 403 for a gateway call whose source address is not allowed (fault `no-allowlist`: off)."""

    def __init__(
        self,
        app: ASGIApp,
        faults: Faults,
        prefixes: tuple[str, ...],
        allowed: frozenset[str] = ALLOWED_ADDRESSES,
    ) -> None:
        self._app = app
        self._faults = faults
        self._prefixes = tuple(p.rstrip("/") + "/" for p in prefixes)
        self._allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self._prefixes):
            await self._app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else ""
        if address in self._allowed or self._faults.active("no-allowlist"):
            await self._app(scope, receive, send)
            return
        body = json.dumps(
            {"error": "forbidden", "message": "Calls from this source address are not allowed"}
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})
