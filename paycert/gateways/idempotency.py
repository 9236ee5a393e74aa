"""Idempotent requests as a profile declares them (`idempotency:`), and sending one request many times at once.

OPS-IDEMPOTENCY sends the same request again with its key (the same answer, nothing new made), with another
body (refused), and many times at once (exactly one payment). "At once" means released together: each copy
waits at a barrier on a thread of its own, so they reach the gateway within a few milliseconds of each other,
which is what a check-then-store gateway gets wrong.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from paycert.gateways.http import HttpAnswer
from paycert.targets.profile import Profile

T = TypeVar("T")
# How long the copies wait for each other at the barrier: they are threads of this process, so only a machine
# that cannot start them at all takes longer.
BARRIER_SECONDS = 30.0


@dataclass(frozen=True)
class IdempotencyRules:
    """The profile's `idempotency:` block (its `header` is GatewayClient.idempotency_header, where the
    client's creates and follow-ups send a fresh key unless the caller gives one)."""

    operations: tuple[str, ...]
    conflict_status: frozenset[int]
    replayed_header: str | None

    @classmethod
    def of(cls, profile: Profile) -> IdempotencyRules | None:
        """The gateway's rules, or None when its profile declares no idempotency."""
        raw = profile.raw.get("idempotency")
        if not raw:
            return None
        return cls(
            operations=tuple(str(op) for op in raw["operations"]),
            conflict_status=frozenset(int(status) for status in raw["conflict_status"]),
            replayed_header=str(raw["replayed_header"]) if raw.get("replayed_header") else None,
        )

    def replayed(self, answer: HttpAnswer) -> bool | None:
        """Whether the gateway marked `answer` as a replay (None when the profile names no such header)."""
        if self.replayed_header is None:
            return None
        return answer.headers.get(self.replayed_header, "").strip().lower() in ("true", "1", "yes")


def all_at_once(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run every call on a thread of its own, all released together; their results in call order.

    A call that raises raises here (the first one, after every call has ended).
    """
    barrier = threading.Barrier(len(calls))

    def released(call: Callable[[], T]) -> T:
        barrier.wait(timeout=BARRIER_SECONDS)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="paycert-at-once") as pool:
        futures = [pool.submit(released, call) for call in calls]
        return [future.result() for future in futures]
