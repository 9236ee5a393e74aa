"""Idempotent creates: the same `Idempotency-Key` with the same body gives the same answer, once."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from paycert.sandbox.store import Store

HEADER = "Idempotency-Key"
_KIND = "idempotency"


def _fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


async def replay(store: Store, request: Request, scope: str) -> Response | None:
    """The stored answer for a repeated key, a 422 when the key is reused with another body, else None."""
    key = request.headers.get(HEADER)
    if not key:
        return None
    saved = store.get(_KIND, f"{scope}:{key}")
    if saved is None:
        return None
    if saved["fingerprint"] != _fingerprint(await request.body()):
        return JSONResponse(
            {"error": "idempotency_key_reused", "message": f"{HEADER} was already used with another request"},
            status_code=422,
        )
    return Response(
        content=saved["content"],
        status_code=saved["status"],
        media_type=saved["media_type"],
        headers={"Idempotent-Replayed": "true"},
    )


async def remember(store: Store, request: Request, scope: str, response: Response) -> Response:
    """Keep a successful answer under the request's key, so a retry gets the same one."""
    key = request.headers.get(HEADER)
    if key and response.status_code < 500:
        body: Any = response.body
        store.put(
            _KIND,
            f"{scope}:{key}",
            {
                "fingerprint": _fingerprint(await request.body()),
                "status": response.status_code,
                "media_type": response.media_type,
                "content": bytes(body).decode("utf-8"),
            },
        )
    return response
