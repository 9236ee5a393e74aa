"""Structured logs of every request the sandbox serves: one JSON line each, no bodies, no secrets.

A plain ASGI middleware (Starlette's BaseHTTPMiddleware costs a task and a stream per request), appending to a
file opened once (not opened and closed per request). A line is written as its answer starts, with one write
and no buffering beyond the line: the log of a running sandbox is read by tools and tests (what did paycert
send?), so a request is in the file by the time its caller has the answer, as it always was.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("paycert.sandbox.requests")

# Query parameters that may carry credentials in a gateway's API; their values are never logged.
_SECRET_PARAMS = {"client_secret", "password", "sKey", "secureKey", "token", "access_token", "code"}


def _safe_query(query_string: bytes) -> dict[str, str]:
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return {k: ("***" if k in _SECRET_PARAMS else v) for k, v in pairs}


class RequestLogFile:
    """The log file, opened once for appending (line-buffered: one write per entry); closed at shutdown."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8", buffering=1)

    def write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, sort_keys=True)
        if not self._file.closed:  # a request finishing after shutdown began is not logged
            self._file.write(line + "\n")
        if log.isEnabledFor(logging.DEBUG):
            log.debug(line)

    def close(self) -> None:
        self._file.close()


class RequestLog:
    """ASGI middleware: one entry per HTTP request, written as its answer starts."""

    def __init__(self, app: ASGIApp, log_file: RequestLogFile) -> None:
        self._app = app
        self._log = log_file

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        logged = False

        def write(status: int) -> None:
            client = scope.get("client")
            self._log.write(
                {
                    "ts": time.time(),
                    "method": scope["method"],
                    "path": scope["path"],
                    "query": _safe_query(scope.get("query_string", b"")),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "client": client[0] if client else None,
                }
            )

        async def record(message: Message) -> None:
            nonlocal logged
            if message["type"] == "http.response.start" and not logged:
                logged = True
                write(int(message["status"]))
            await send(message)

        try:
            await self._app(scope, receive, record)
        finally:
            if not logged:  # a handler that crashed before answering
                write(500)
