"""The sandbox application: one FastAPI app, each gateway under its own prefix, plus `/_sandbox` controls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

from paycert.sandbox import merchant
from paycert.sandbox.allowlist import AllowList
from paycert.sandbox.commit import CommitBeforeAnswer
from paycert.sandbox.config import SandboxConfig
from paycert.sandbox.faults import FAULTS
from paycert.sandbox.gateways import GATEWAYS
from paycert.sandbox.outbox import run_worker
from paycert.sandbox.pact_states import build_pact_router
from paycert.sandbox.ratelimit import RateLimit
from paycert.sandbox.requestlog import RequestLog, RequestLogFile
from paycert.sandbox.slow_api import SlowApi
from paycert.sandbox.state import SandboxState

OutboxState = Literal["pending"]


class ClockMove(BaseModel):
    seconds: float = Field(ge=0, description="How far to move the sandbox clock forward.")


def create_app(config: SandboxConfig) -> FastAPI:
    """Build the sandbox for `config`; the outbox worker runs for as long as the app is served."""
    state = SandboxState.from_config(config)
    request_log = RequestLogFile(config.request_log)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        worker = asyncio.create_task(
            run_worker(
                state.outbox,
                config.tick_seconds,
                stop,
                on_tick=state.periodic_jobs,
                egress_hosts=config.egress_hosts,
                # After each tick: what the jobs and deliveries wrote is committed.
                housekeeping=(state.store.commit,),
            )
        )
        try:
            yield
        finally:
            stop.set()
            await worker
            state.store.close()
            request_log.close()

    app = FastAPI(
        title="paycert reference sandbox",
        lifespan=lifespan,
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
        redoc_url=None,
    )
    app.state.sandbox = state
    app.add_middleware(CommitBeforeAnswer, store=state.store)
    app.add_middleware(RateLimit, faults=state.faults)  # inside the request log: its 429s are logged
    app.add_middleware(SlowApi, faults=state.faults, prefixes=tuple(g.PREFIX for g in GATEWAYS))
    app.add_middleware(AllowList, faults=state.faults, prefixes=tuple(g.PREFIX for g in GATEWAYS))
    app.add_middleware(RequestLog, log_file=request_log)

    for gateway in GATEWAYS:
        app.include_router(gateway.build_router(state), prefix=gateway.PREFIX)
    app.include_router(merchant.build_router(state), prefix=merchant.PREFIX)
    app.include_router(build_pact_router(state))

    @app.get("/_sandbox/health", tags=["sandbox"])
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "gateways": [g.PREFIX.strip("/") for g in GATEWAYS],
            "faults": sorted(state.faults.names),
        }

    @app.get("/_sandbox/faults", tags=["sandbox"])
    def faults() -> dict[str, Any]:
        return {"active": sorted(state.faults.names), "known": FAULTS}

    @app.get("/_sandbox/clock", tags=["sandbox"])
    def clock() -> dict[str, float]:
        return {"now": state.clock.now(), "offset": state.clock.offset}

    @app.post("/_sandbox/clock/advance", tags=["sandbox"])
    def advance(move: ClockMove) -> dict[str, float]:
        now = state.clock.advance(move.seconds)
        for job in state.periodic_jobs:  # expiry is visible at once, not on the next tick
            job()
        return {"now": now, "offset": state.clock.offset}

    @app.get("/_sandbox/outbox", tags=["sandbox"])
    def outbox(
        gateway: str | None = None, state_: Annotated[OutboxState | None, Query(alias="state")] = None
    ) -> list[dict[str, Any]]:
        """The webhook deliveries (of `gateway`); `state=pending`: only those still to be sent, read by index
        (what paycert polls while waiting for the outbox to settle)."""
        return state.outbox.deliveries(gateway, pending=state_ == "pending")

    @app.get("/_sandbox/credentials", tags=["sandbox"])
    def credentials() -> dict[str, dict[str, str]]:
        # Public test credentials of the sandbox, documented in the README: not secrets of anyone.
        return {g.PREFIX.strip("/"): dict(g.CREDENTIALS) for g in GATEWAYS}

    return app
