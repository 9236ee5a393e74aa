"""The `slow-api` fault: every gateway API answer is delayed, past the KPI latency thresholds (KPI-LATENCY).

A plain ASGI middleware. What it delays: answers under a gateway's prefix whose body is JSON or XML, that is
the API the spec describes (token, create, status, refunds...). What it leaves alone: the control API
(`/_sandbox`), the reference merchant, and the hosted and 3-D Secure pages with their redirects (HTML or no
body), which a shopper's browser loads, not the merchant's server: the fault is a slow API, not a slow page.
The delay is taken when the answer starts, so the handler's work is done and only the answer waits.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paycert.sandbox.faults import Faults

DELAY_SECONDS = 0.3  # above the default p50 threshold (250 ms) on every API operation
_API_MEDIA = (b"application/json", b"application/xml", b"text/xml", b"application/problem+json")


class SlowApi:
    """ASGI middleware: with the `slow-api` fault on, API answers under `prefixes` start DELAY_SECONDS late."""

    def __init__(self, app: ASGIApp, faults: Faults, prefixes: tuple[str, ...]) -> None:
        self._app = app
        self._on = faults.active("slow-api")
        self._prefixes = tuple(p.rstrip("/") + "/" for p in prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._on or scope["type"] != "http" or not str(scope["path"]).startswith(self._prefixes):
            await self._app(scope, receive, send)
            return

        async def delayed(message: Message) -> None:
            if message["type"] == "http.response.start" and _is_api_answer(message):
                await asyncio.sleep(DELAY_SECONDS)
            await send(message)

        await self._app(scope, receive, delayed)


def _is_api_answer(start: Message) -> bool:
    for name, value in start.get("headers", ()):
        if name.lower() == b"content-type":
            media: bytes = value.split(b";")[0].strip().lower()
            return media.startswith(_API_MEDIA)
    return False
