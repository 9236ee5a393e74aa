"""Quetzal's webhook sender: Standard Webhooks signatures, bounded retries with backoff, one worker thread.

Each event keeps its `webhook-id` across attempts (the Standard Webhooks way for receivers to deduplicate) and
is signed again with a fresh `webhook-timestamp` for each attempt, so a late retry still verifies.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from paycert.sandbox.egress import is_loopback_host
from paycert.webhooks.signatures import get_scheme

# Attempt n+1 is made RETRY_SCHEDULE_SECONDS[n-1] seconds after attempt n failed (non-2xx, timeout, no answer).
RETRY_SCHEDULE_SECONDS: tuple[float, ...] = (1.0, 2.0)
MAX_ATTEMPTS = len(RETRY_SCHEDULE_SECONDS) + 1
ATTEMPT_TIMEOUT_SECONDS = 5.0
# The longest the worker sleeps without looking at its queue, so stop() is never kept waiting long.
IDLE_POLL_SECONDS = 0.5


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    event: Event = field(compare=False)


@dataclass
class Event:
    """One webhook to deliver, and what happened to it so far."""

    event_id: str
    url: str
    body: bytes
    attempts: int = 0
    answers: list[str] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return bool(self.answers) and self.answers[-1].startswith("2")


class Notifier:
    """Delivers events to merchants' notify URLs in the background until answered 2xx or out of attempts."""

    def __init__(self, secret: str, scheme: str = "standard-webhooks") -> None:
        self._secret = secret
        self._scheme = get_scheme(scheme)
        self._queue: list[_Due] = []
        self._seq = itertools.count()
        self._changed = threading.Condition()
        self._stopping = False
        self._client = httpx.Client(timeout=ATTEMPT_TIMEOUT_SECONDS, follow_redirects=False)
        self._thread = threading.Thread(target=self._run, name="quetzal-notifier", daemon=True)
        self.sent: list[Event] = []

    def start(self) -> Notifier:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=ATTEMPT_TIMEOUT_SECONDS + 2)
        self._client.close()

    def send(self, event_id: str, url: str, payload: dict[str, Any]) -> Event:
        """Queue `payload` for `url` now; returns at once (the merchant's answer never delays the shopper)."""
        event = Event(event_id, url, json.dumps(payload, separators=(",", ":")).encode())
        with self._changed:
            self.sent.append(event)
            heapq.heappush(self._queue, _Due(time.monotonic(), next(self._seq), event))
            self._changed.notify_all()
        return event

    def _run(self) -> None:
        while True:
            with self._changed:
                if self._stopping:
                    return
                now = time.monotonic()
                if not self._queue or self._queue[0].at > now:
                    wait = self._queue[0].at - now if self._queue else IDLE_POLL_SECONDS
                    self._changed.wait(timeout=min(wait, IDLE_POLL_SECONDS))
                    continue
                due = heapq.heappop(self._queue)
            self._attempt(due.event)

    def _attempt(self, event: Event) -> None:
        event.attempts += 1
        signed = self._scheme.sign(
            self._secret, event.body, msg_id=event.event_id, timestamp=int(time.time())
        )
        headers = {
            "content-type": "application/json",
            "user-agent": "QuetzalPay-Webhooks/2",
            **signed.headers,
        }
        if not is_loopback_host(httpx.URL(event.url).host):
            answer = "ConnectError"  # like the paycert sandbox, this test gateway never sends off the machine
        else:
            try:
                response = self._client.post(event.url, content=signed.body, headers=headers)
                answer = str(response.status_code)
            except httpx.HTTPError as exc:
                answer = type(exc).__name__
        event.answers.append(answer)
        if event.delivered or event.attempts >= MAX_ATTEMPTS:
            return
        backoff = RETRY_SCHEDULE_SECONDS[event.attempts - 1]
        with self._changed:
            heapq.heappush(self._queue, _Due(time.monotonic() + backoff, next(self._seq), event))
            self._changed.notify_all()
