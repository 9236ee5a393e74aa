"""Structured logs of every request the sandbox serves: one JSON line each, no bodies, no secrets."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import Request, Response

log = logging.getLogger("paycert.sandbox.requests")

# Query parameters that may carry credentials in a gateway's API; their values are never logged.
_SECRET_PARAMS = {"client_secret", "password", "sKey", "secureKey", "token", "access_token", "code"}


def _safe_query(request: Request) -> dict[str, str]:
    return {k: ("***" if k in _SECRET_PARAMS else v) for k, v in request.query_params.items()}


def request_logger(
    log_file: Path,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """An HTTP middleware that appends one JSON line per request to `log_file`."""
    log_file.parent.mkdir(parents=True, exist_ok=True)

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        entry = {
            "ts": time.time(),
            "method": request.method,
            "path": request.url.path,
            "query": _safe_query(request),
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "client": request.client.host if request.client else None,
        }
        line = json.dumps(entry, sort_keys=True)
        with log_file.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        log.debug(line)
        return response

    return middleware
