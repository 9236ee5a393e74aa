"""The webhook outbox: every event a gateway emits is stored in SQLite first, then delivered with retries.

A delivery is rendered afresh for each attempt (paylican's `pendingWebhooks` counts down, signatures carry a
timestamp), so the outbox stores the payload and the name of the renderer, not the bytes. Attempts are
scheduled on the test clock: moving the clock makes a retry due at once. A delivery still pending when the
sandbox stops is picked up again when it starts, so no webhook is lost on restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from paycert.sandbox.clock import TestClock
from paycert.sandbox.faults import SLOW_WEBHOOK_DELAY_SECONDS, Faults
from paycert.sandbox.store import Store, new_id
from paycert.sandbox.webhook_client import WebhookClient, lanes_of

log = logging.getLogger("paycert.sandbox.outbox")

DEFAULT_SCHEDULE: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)
# Attempts go out over LANES clients of LANE_CONNECTIONS connections each, one attempt per connection at most
# (webhook_client.py: a lean HTTP/1.1 client, a tenth of httpx's CPU per webhook). Beyond the cap attempts wait,
# due, for a later tick: uncapped, a burst would open a connection per attempt, and a receiver that is slow to
# answer would be sent ever more at once.
LANES = 8
LANE_CONNECTIONS = 2
MAX_IN_FLIGHT = LANES * LANE_CONNECTIONS


@dataclass(frozen=True)
class Attempt:
    """What a renderer knows when it renders one attempt of a delivery."""

    number: int  # 1-based
    max_attempts: int

    @property
    def remaining_after(self) -> int:
        """How many attempts are left once this one has been made."""
        return self.max_attempts - self.number


@dataclass(frozen=True)
class Rendered:
    body: bytes
    headers: dict[str, str]


Renderer = Callable[[dict[str, Any], Attempt], Rendered]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    gateway TEXT NOT NULL,
    renderer TEXT NOT NULL,
    url TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    max_attempts INTEGER NOT NULL,
    schedule TEXT NOT NULL,
    timeout REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL,
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    duplicate_sent INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS attempts (
    delivery_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    at REAL NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms REAL NOT NULL,
    response_body TEXT
);
-- The worker looks for due deliveries every tick and the views read one delivery's attempts: both by index,
-- so neither slows down as delivered history piles up.
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (next_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS attempts_delivery ON attempts (delivery_id, number);
"""
# Added after the first release: what the delivery is about (a payment id), so a gateway can list one
# payment's webhooks without reading all of them. Older data folders get the column at start.
_SUBJECT_COLUMN = "subject"
_SUBJECT_INDEX = "CREATE INDEX IF NOT EXISTS deliveries_subject ON deliveries (gateway, subject)"


class Outbox:
    """Stores webhook deliveries and sends them with retries and exponential backoff."""

    def __init__(self, store: Store, clock: TestClock, faults: Faults) -> None:
        self._store = store
        self._clock = clock
        self._faults = faults
        self._renderers: dict[str, Renderer] = {}
        self._inflight: set[str] = set()
        self._lane_load: dict[int, int] = {}  # attempts in flight per lane (client) of launch_due
        self._lanes: Sequence[WebhookClient] = ()
        self._draining = False
        self._tasks: set[asyncio.Task[None]] = set()
        with store.lock:
            store.commit()  # executescript would commit an open batch anyway; say so
            store.connection.executescript(_SCHEMA)
            columns = {row[1] for row in store.connection.execute("PRAGMA table_info(deliveries)")}
            if _SUBJECT_COLUMN not in columns:
                store.connection.execute(f"ALTER TABLE deliveries ADD COLUMN {_SUBJECT_COLUMN} TEXT")
            store.connection.execute(_SUBJECT_INDEX)

    def register_renderer(self, name: str, renderer: Renderer) -> None:
        self._renderers[name] = renderer

    def enqueue(
        self,
        *,
        gateway: str,
        renderer: str,
        url: str,
        event_id: str,
        event_type: str,
        payload: dict[str, Any],
        max_attempts: int = len(DEFAULT_SCHEDULE) + 1,
        schedule: Sequence[float] = DEFAULT_SCHEDULE,
        timeout: float = 5.0,
        subject: str | None = None,
    ) -> str:
        """Queue one event for one receiver; it is sent by the worker, at once unless slowed by a fault.

        `subject` names what the event is about (a payment id), for `deliveries(gateway, subject)`.
        """
        if renderer not in self._renderers:
            raise KeyError(f"no webhook renderer named {renderer!r}")
        delivery_id = new_id("dlv_")
        delay = SLOW_WEBHOOK_DELAY_SECONDS if self._faults.active("slow-webhook") else 0.0
        now = self._clock.now()
        self._store.write(
            "INSERT INTO deliveries (id, gateway, renderer, url, event_id, event_type, payload,"
            " max_attempts, schedule, timeout, next_at, state, created_at, subject)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            (
                delivery_id,
                gateway,
                renderer,
                url,
                event_id,
                event_type,
                json.dumps(payload),
                max_attempts,
                json.dumps(list(schedule)),
                timeout,
                now + delay,
                now,
                subject,
            ),
        )
        return delivery_id

    def deliveries(
        self, gateway: str | None = None, subject: str | None = None, *, pending: bool = False
    ) -> list[dict[str, Any]]:
        """Every delivery with its attempts, oldest first (served at /_sandbox/outbox); `subject` (with a
        gateway) keeps those about one payment, `pending` those not delivered or failed yet.

        `pending` reads the index of pending deliveries, so asking "is anything still due?" costs the same
        whether the sandbox has delivered ten webhooks or a million (paycert polls it while it waits for a
        quiet period to settle)."""
        # INDEXED BY: left to itself, SQLite reads the gateway's whole history by its index on (gateway, subject).
        query = (
            "SELECT * FROM deliveries INDEXED BY deliveries_due" if pending else "SELECT * FROM deliveries"
        )
        conditions = ["state = 'pending'"] if pending else []
        args: tuple[str, ...] = ()
        if gateway and subject is not None:
            conditions.append("gateway = ? AND subject = ?")
            args = (gateway, subject)
        elif gateway:
            conditions.append("gateway = ?")
            args = (gateway,)
        if conditions:
            query += " WHERE " + " AND ".join(conditions)
        with self._store.lock:
            cur = self._store.connection.execute(query + " ORDER BY created_at, rowid", args)
            names = [c[0] for c in cur.description]
            rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
            for row in rows:
                row.pop(_SUBJECT_COLUMN, None)  # bookkeeping, not part of the served view
                row["payload"] = json.loads(row["payload"])
                row["schedule"] = json.loads(row["schedule"])
                acur = self._store.connection.execute(
                    "SELECT number, at, status_code, error, duration_ms, response_body FROM attempts"
                    " WHERE delivery_id = ? ORDER BY number",
                    (row["id"],),
                )
                anames = [c[0] for c in acur.description]
                row["attempt_log"] = [dict(zip(anames, a, strict=True)) for a in acur.fetchall()]
        return rows

    def _due(self, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` due deliveries not in flight, oldest first (in flight ones are skipped in the query:
        each finished attempt asks for one more, and should not read every delivery still in flight)."""
        busy = tuple(self._inflight)
        skip = f" AND id NOT IN ({', '.join('?' * len(busy))})" if busy else ""
        with self._store.lock:
            cur = self._store.connection.execute(
                "SELECT * FROM deliveries WHERE state = 'pending' AND next_at <= ?"  # noqa: S608 - placeholders
                + skip
                + " ORDER BY next_at LIMIT ?",
                (self._clock.now(), *busy, limit),
            )
            names = [c[0] for c in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def launch_due(self, lanes: Sequence[WebhookClient]) -> int:
        """Start an attempt for due deliveries not already in flight, up to MAX_IN_FLIGHT at a time; returns
        how many were started. The others stay due and are started on a later tick, oldest first.

        Attempts run as concurrent tasks: a receiver that never answers must not hold up the others. Each
        attempt that ends launches the next due one (the worker's tick is only the fallback).
        """
        self._lanes = lanes
        room = MAX_IN_FLIGHT - len(self._inflight)
        if room <= 0 or self._draining:
            return 0
        due = self._due(room)
        started = 0
        for delivery in due:
            lane = min(range(len(lanes)), key=lambda i: self._lane_load.get(i, 0))
            if self._lane_load.get(lane, 0) >= LANE_CONNECTIONS:
                break  # every connection busy (fewer lanes than LANES were given)
            self._lane_load[lane] = self._lane_load.get(lane, 0) + 1
            self._inflight.add(delivery["id"])
            task = asyncio.create_task(self._attempt(lanes[lane], lane, delivery))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def drain(self) -> None:
        """Wait for the attempts in flight (at shutdown); no new one starts."""
        self._draining = True
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _attempt(self, client: WebhookClient, lane: int, delivery: dict[str, Any]) -> None:
        try:
            await self._send(client, delivery)
        finally:
            self._inflight.discard(delivery["id"])
            self._lane_load[lane] -= 1
        self._refill()  # not after a crashed attempt: its delivery is still due, and would be retried at once

    def _refill(self) -> None:
        """The connection just freed takes the next due delivery now, not at the next tick."""
        try:
            self.launch_due(self._lanes)
        except Exception:  # the worker's next tick tries again
            log.exception("launching due webhooks failed")

    async def _send(self, client: WebhookClient, delivery: dict[str, Any]) -> None:
        number = int(delivery["attempts"]) + 1
        attempt = Attempt(number=number, max_attempts=int(delivery["max_attempts"]))
        rendered = self._renderers[delivery["renderer"]](json.loads(delivery["payload"]), attempt)
        status_code, error, body = await self._post(client, delivery, rendered)
        ok = status_code is not None and 200 <= status_code < 300
        self._record(delivery, number, status_code, error, body)
        if ok and self._faults.active("duplicate-webhook") and not delivery["duplicate_sent"]:
            # The fault: the receiver said 2xx, the gateway sends the same event again anyway.
            await self._post(client, delivery, rendered)
            self._update(delivery["id"], duplicate_sent=1)
        if ok:
            self._update(delivery["id"], attempts=number, state="delivered", next_at=None)
            return
        schedule = json.loads(delivery["schedule"])
        retry_allowed = not self._faults.active("no-retry")
        if retry_allowed and number < attempt.max_attempts:
            wait = schedule[min(number - 1, len(schedule) - 1)] if schedule else 0.0
            self._update(delivery["id"], attempts=number, next_at=self._clock.now() + wait)
        else:
            self._update(delivery["id"], attempts=number, state="failed", next_at=None)

    async def _post(
        self, client: WebhookClient, delivery: dict[str, Any], rendered: Rendered
    ) -> tuple[int | None, str | None, str | None]:
        try:
            answer = await client.post(
                delivery["url"], rendered.body, rendered.headers, timeout=float(delivery["timeout"])
            )
        except httpx.TimeoutException:
            return None, "timeout", None
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}", None
        # The receiver's answer is logged as the seed's Paylican does; capped, it is not ours to keep whole.
        return answer.status_code, None, answer.text[:2000]

    def _record(
        self,
        delivery: dict[str, Any],
        number: int,
        status_code: int | None,
        error: str | None,
        body: str | None,
    ) -> None:
        now = self._clock.now()
        self._store.write(
            "INSERT INTO attempts (delivery_id, number, at, status_code, error, duration_ms, response_body)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (delivery["id"], number, now, status_code, error, 0.0, body),
        )
        log.info(
            "webhook %s attempt %d to %s -> %s",
            delivery["event_type"],
            number,
            delivery["url"],
            status_code if status_code else error,
        )

    def _update(self, delivery_id: str, **fields: Any) -> None:
        columns = ", ".join(f"{name} = ?" for name in fields)
        self._store.write(
            f"UPDATE deliveries SET {columns} WHERE id = ?",  # noqa: S608 - names are ours, values bound
            (*fields.values(), delivery_id),
        )


async def run_worker(
    outbox: Outbox,
    tick_seconds: float,
    stop: asyncio.Event,
    on_tick: Sequence[Callable[[], None]] = (),
    egress_hosts: Iterable[str] = (),
    housekeeping: Sequence[Callable[[], None]] = (),
) -> None:
    """Deliver due webhooks and run periodic jobs (payment expiry) until `stop` is set; `housekeeping`
    (committing, flushing the log) runs after each tick and once more at the end.

    Deliveries leave only for loopback hosts (and `egress_hosts`): a URL on the network is a failed attempt.
    """
    tls = httpx.create_ssl_context()  # as httpx verified webhooks' receivers; one for all lanes
    async with contextlib.AsyncExitStack() as stack:
        lanes = [
            await stack.enter_async_context(lane)
            for lane in lanes_of(LANES, egress_hosts, tls, max_idle=LANE_CONNECTIONS)
        ]
        while not stop.is_set():
            started = time.monotonic()
            for job in on_tick:
                try:
                    job()
                except Exception:  # a broken job must not stop webhook delivery
                    log.exception("periodic sandbox job failed")
            outbox.launch_due(lanes)
            _run_all(housekeeping)
            elapsed = time.monotonic() - started
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(tick_seconds - elapsed, 0.01))
        await outbox.drain()
        _run_all(housekeeping)


def _run_all(jobs: Sequence[Callable[[], None]]) -> None:
    for job in jobs:
        try:
            job()
        except Exception:  # a broken job must not stop webhook delivery
            log.exception("sandbox housekeeping failed")
