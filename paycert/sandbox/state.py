"""What every gateway router of the sandbox shares: store, clock, faults, outbox, periodic jobs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request

from paycert.sandbox.clock import TestClock
from paycert.sandbox.config import SandboxConfig
from paycert.sandbox.faults import Faults
from paycert.sandbox.idempotency import IdempotencyKeys
from paycert.sandbox.outbox import Outbox
from paycert.sandbox.store import Store


@dataclass
class SandboxState:
    config: SandboxConfig
    store: Store
    clock: TestClock
    faults: Faults
    outbox: Outbox
    idempotency: IdempotencyKeys
    periodic_jobs: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def from_config(cls, config: SandboxConfig) -> SandboxState:
        store = Store(config.db_path)
        clock = TestClock(store)
        faults = Faults.from_names(config.faults)
        return cls(
            config=config,
            store=store,
            clock=clock,
            faults=faults,
            outbox=Outbox(store, clock, faults),
            idempotency=IdempotencyKeys(store),
        )

    def every_tick(self, job: Callable[[], None]) -> None:
        """Run `job` on each tick of the background worker (expiry sweeps, polling jobs)."""
        self.periodic_jobs.append(job)


def public_base(request: Request) -> str:
    """The sandbox's own base URL as the caller reached it, without a trailing slash."""
    return str(request.base_url).rstrip("/")
