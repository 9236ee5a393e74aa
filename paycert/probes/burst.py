"""A bounded burst at one operation (SEC-RATE-LIMIT): does the gateway answer 429 with Retry-After?

Bounded by count and time, whichever comes first, and it stops by itself: `concurrency` workers share one
ticket counter that never hands out more than `max_requests`, none starts a request after `max_seconds`, and
every request's own deadline ends with the burst's. It stops early at the first 429 (the limit is shown; more
calls would only load the gateway). Requests are sent as given: the caller builds one (credentials included),
and only statuses and the first 429's headers and body come back, so nothing secret is kept.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from paycert.core.tls import context_for
from paycert.targets.bounds import bounded_client, within
from paycert.targets.settings import RateLimitBurst


@dataclass(frozen=True)
class BurstRequest:
    """The one request the burst repeats."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    content: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Limited:
    """The first 429 of the burst: its Retry-After header (None when missing) and body."""

    retry_after: str | None
    content_type: str
    body: str
    after_requests: int  # how many requests had been sent when it came


@dataclass(frozen=True)
class BurstOutcome:
    sent: int
    seconds: float
    statuses: Mapping[int, int]  # status -> count
    errors: int  # requests that got no HTTP answer
    limited: Limited | None

    def summary(self) -> str:
        counts = ", ".join(f"{count} x HTTP {status}" for status, count in sorted(self.statuses.items()))
        errors = f", {self.errors} without an answer" if self.errors else ""
        return f"{self.sent} requests in {self.seconds:.2f} s: {counts or 'no answers'}{errors}"


class _Tickets:
    """The shared bound: a ticket per request, none past the count, the time or the first 429."""

    def __init__(self, bounds: RateLimitBurst) -> None:
        self._lock = threading.Lock()
        self._left = bounds.max_requests
        self.issued = 0
        self.deadline = time.monotonic() + bounds.max_seconds
        self.stop = threading.Event()

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0 or self.stop.is_set() or time.monotonic() >= self.deadline:
                return False
            self._left -= 1
            self.issued += 1
            return True


def burst(
    request: BurstRequest,
    bounds: RateLimitBurst,
    *,
    verify: bool | str = True,
    stop_at_first_429: bool = True,
) -> BurstOutcome:
    """Send `request` up to `bounds.max_requests` times within `bounds.max_seconds`, `concurrency` at once."""
    tickets = _Tickets(bounds)
    lock = threading.Lock()
    statuses: Counter[int] = Counter()
    errors = 0
    limited: list[Limited] = []
    started = time.monotonic()

    def worker(client: httpx.Client) -> None:
        nonlocal errors
        while tickets.take():
            left = tickets.deadline - time.monotonic()
            try:
                with within(left):
                    answer = client.request(
                        request.method, request.url, headers=dict(request.headers), content=request.content
                    )
            except httpx.HTTPError:
                with lock:
                    errors += 1
                continue
            with lock:
                statuses[answer.status_code] += 1
                if answer.status_code == 429 and not limited:
                    limited.append(
                        Limited(
                            answer.headers.get("retry-after"),
                            answer.headers.get("content-type", ""),
                            answer.text[:2000],
                            tickets.issued,
                        )
                    )
            if answer.status_code == 429 and stop_at_first_429:
                tickets.stop.set()

    context = context_for(verify) if isinstance(verify, str) else verify  # the shared one (core/tls.py)
    with bounded_client(verify=context) as client:
        workers = max(1, min(bounds.concurrency, bounds.max_requests))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="paycert-burst") as pool:
            for future in [pool.submit(worker, client) for _ in range(workers)]:
                future.result()  # a worker's unexpected error is the burst's, not lost in its thread
    return BurstOutcome(
        sent=tickets.issued,
        seconds=time.monotonic() - started,
        statuses=dict(statuses),
        errors=errors,
        limited=limited[0] if limited else None,
    )
