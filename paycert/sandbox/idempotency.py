"""Idempotent requests: the same `Idempotency-Key` with the same body gives the same answer, made once.

A key is claimed by an insert into a table whose (scope, key) is unique: the request whose insert succeeds
runs the operation, alone. Any other request with the key finds the row instead (insert-or-return): with
another body it is refused (422); with the same body it waits for the first answer and gets it again, with
`Idempotent-Replayed: true`. So N concurrent creates with one key make one payment, and all N answers name
it. Only successful answers are kept; a failed or crashed attempt releases the key for the next one.

Two faults undo this on purpose (paycert run --sandbox-fault, OPS-IDEMPOTENCY must catch them):
`idempotency-race` is the classic check-then-store (look the key up, run, store the answer afterwards), with
a pause between the look and the run wide enough that concurrent requests all find the key free and all run;
`idempotency-ignores-body` replays the first answer to a request with another body instead of refusing it.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from paycert.sandbox.faults import Faults
from paycert.sandbox.store import Store

HEADER = "Idempotency-Key"
# How long a request waits for another request with its key to answer (the operations here take ms).
WAIT_SECONDS = 30.0
# Poll interval for a claim made outside this process's books (not expected; see _wait).
_POLL_SECONDS = 0.01
# The fault idempotency-race: the pause between looking a key up and running the request. Requests sent
# together reach the sandbox within a few ms of each other, so every one in flight at once falls into it
# and runs: several payments for one key, every time.
RACE_WINDOW_SECONDS = 0.5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER,
    media_type TEXT,
    content BLOB,
    created_at REAL NOT NULL,
    PRIMARY KEY (scope, key)
)
"""

Produce = Callable[[], Awaitable[Response]]
_Key = tuple[str, str]


def _fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class _Saved:
    fingerprint: str
    status: int | None  # None while the claiming request has not answered
    media_type: str | None
    content: bytes | None

    def replay(self) -> Response:
        return Response(
            content=self.content,
            status_code=self.status or 200,
            media_type=self.media_type,
            headers={"Idempotent-Replayed": "true"},
        )


def _faults(request: Request) -> Faults:
    """The faults this sandbox was started with (`app.state.sandbox`, set by create_app)."""
    state = getattr(request.app.state, "sandbox", None)
    return state.faults if state is not None else Faults()


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status)


class IdempotencyKeys:
    """The sandbox's idempotency keys, for every gateway; `scope` keeps operations (and gateways) apart."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._running: dict[_Key, asyncio.Event] = {}
        with store.lock:
            store.connection.execute(_SCHEMA)
            # A claim whose request never answered (the sandbox stopped mid-request) belongs to nobody now.
            store.write("DELETE FROM idempotency_keys WHERE status IS NULL")
            store.commit()

    async def once(self, request: Request, scope: str, produce: Produce) -> Response:
        """`produce()`'s answer, made once per key and body; a request without the header just runs it."""
        key = request.headers.get(HEADER)
        if not key:
            return await produce()
        fingerprint = _fingerprint(await request.body())
        faults = _faults(request)
        if faults.active("idempotency-race"):
            return await self._check_then_store((scope, key), fingerprint, produce)
        any_body = faults.active("idempotency-ignores-body")
        deadline = time.monotonic() + WAIT_SECONDS
        while (saved := self._claim((scope, key), fingerprint)) is not None:
            if saved.fingerprint != fingerprint and not any_body:
                return _error(
                    422, "idempotency_key_reused", f"{HEADER} was already used with another request"
                )
            if saved.status is not None:
                return saved.replay()
            if not await self._wait((scope, key), deadline):
                return _error(409, "idempotency_key_in_use", f"A request with this {HEADER} is still running")
        return await self._run((scope, key), produce)

    def _claim(self, key: _Key, fingerprint: str) -> _Saved | None:
        """None when this request now holds the key; else what is stored under it (insert-or-return)."""
        with self._store.lock:
            inserted = self._store.write(
                "INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (scope, key) DO NOTHING",
                (*key, fingerprint, time.time()),
            ).rowcount
            if inserted:
                self._running[key] = asyncio.Event()
                return None
            row = self._store.connection.execute(
                "SELECT fingerprint, status, media_type, content FROM idempotency_keys"
                " WHERE scope = ? AND key = ?",
                key,
            ).fetchone()
        return _Saved(row[0], row[1], row[2], None if row[3] is None else bytes(row[3]))

    async def _wait(self, key: _Key, deadline: float) -> bool:
        """Wait until the request holding `key` answers or gives up; False once `deadline` has passed."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        done = self._running.get(key)
        if done is None:  # a claim this process did not make: look again shortly
            await asyncio.sleep(min(_POLL_SECONDS, remaining))
            return True
        try:
            await asyncio.wait_for(done.wait(), remaining)
        except TimeoutError:
            return False
        return True

    async def _check_then_store(self, key: _Key, fingerprint: str, produce: Produce) -> Response:
        """The fault idempotency-race: no claim, so every request that looks before the first answer is
        stored runs the operation itself (each concurrent create makes a payment of its own)."""
        with self._store.lock:
            row = self._store.connection.execute(
                "SELECT fingerprint, status, media_type, content FROM idempotency_keys"
                " WHERE scope = ? AND key = ? AND status IS NOT NULL",
                key,
            ).fetchone()
        if row is not None:
            if row[0] != fingerprint:
                return _error(
                    422, "idempotency_key_reused", f"{HEADER} was already used with another request"
                )
            return _Saved(row[0], row[1], row[2], None if row[3] is None else bytes(row[3])).replay()
        await asyncio.sleep(RACE_WINDOW_SECONDS)
        response = await produce()
        body = getattr(response, "body", None)
        if 200 <= response.status_code < 300 and isinstance(body, bytes | memoryview):
            self._store.write(
                "INSERT INTO idempotency_keys (scope, key, fingerprint, status, media_type, content, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, key) DO UPDATE SET"
                " fingerprint = excluded.fingerprint, status = excluded.status,"
                " media_type = excluded.media_type, content = excluded.content",
                (*key, fingerprint, response.status_code, response.media_type, bytes(body), time.time()),
            )
        return response

    async def _run(self, key: _Key, produce: Produce) -> Response:
        done = self._running[key]
        kept = False
        try:
            response = await produce()
            body = getattr(response, "body", None)
            if 200 <= response.status_code < 300 and isinstance(body, bytes | memoryview):
                kept = True
                self._store.write(
                    "UPDATE idempotency_keys SET status = ?, media_type = ?, content = ?"
                    " WHERE scope = ? AND key = ?",
                    (response.status_code, response.media_type, bytes(body), *key),
                )
            return response
        finally:
            if not kept:  # an error, raised or answered: the next request with this key tries afresh
                self._store.write("DELETE FROM idempotency_keys WHERE scope = ? AND key = ?", key)
            del self._running[key]
            done.set()
