"""The sandbox's plain-HTTP listener, beside its HTTPS one: what a correct gateway does on port 80.

It answers every request with 308 to the same path over https:// (308 keeps the method and body, so a
client that follows it loses nothing). With the `plain-http` fault it serves the API itself instead: each
request is passed to the HTTPS server and its answer relayed, so the API answers in clear text.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

# Hop-by-hop headers, what httpx has already undone (it decodes the body it hands on), and what uvicorn
# adds to every answer itself.
_NOT_RELAYED = frozenset(
    {"host", "connection", "content-length", "transfer-encoding", "content-encoding", "date", "server"}
)


def _target(scope: Scope) -> str:
    path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string") or b""
    return path.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")


def redirect_to_https(https_origin: str) -> ASGIApp:
    """Every request answered 308 to `https_origin` + its own path and query."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await RedirectResponse(https_origin + _target(scope), status_code=308)(scope, receive, send)

    return app


def serve_over_plain_http(https_origin: str, ca_file: Path) -> ASGIApp:
    """The `plain-http` fault: every request relayed to the HTTPS server, its answer sent back in clear."""
    context = ssl.create_default_context(cafile=str(ca_file))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _NOT_RELAYED]
        async with httpx.AsyncClient(verify=context, timeout=30, trust_env=False) as client:
            upstream = await client.request(
                request.method, https_origin + _target(scope), headers=headers, content=await request.body()
            )
        response = Response(upstream.content, upstream.status_code)
        response.raw_headers += [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in upstream.headers.multi_items()
            if k.lower() not in _NOT_RELAYED
        ]
        await response(scope, receive, send)

    return app
