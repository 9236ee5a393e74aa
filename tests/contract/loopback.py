"""Real servers on loopback for the contract-engine tests, and the engine run the way the contract suite runs it.

`serve(app)` runs an ASGI app on uvicorn in a thread on a free 127.0.0.1 port; `certify(...)` runs
`run_contract` against it and records the per-criterion results as the suite does, into a real `RunState`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from paycert.core.criteria import Catalogue
from paycert.core.results import Outcome, TestResult
from paycert.plugin.contract_engine import ContractRun, ContractSettings, run_contract
from paycert.plugin.contract_results import record_contract
from paycert.plugin.session import RunState
from paycert.plugin.subresults import CriteriaResults
from paycert.targets.contract_filter import OperationFilter
from paycert.targets.home import specs_dir
from paycert.targets.target import Target


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """`app` on uvicorn at http://127.0.0.1:<free port> until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="error", access_log=False, timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "the loopback app did not start"
        assert time.monotonic() < deadline, "the loopback app did not start in 15 s"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class Certified:
    """One contract run and the results it recorded, combined per criterion as the report combines them."""

    run: ContractRun
    results: CriteriaResults

    def outcome(self, criterion: str) -> Outcome:
        return self.results.outcomes()[criterion]

    def recorded(self, criterion: str) -> list[TestResult]:
        return [r for r in self.results.recorded if r.criteria[0] == criterion]

    def reasons(self, criterion: str) -> str:
        return " | ".join(r.reason for r in self.recorded(criterion))


def certify(
    document: dict[str, Any],
    base_url: str,
    tmp_path: Path,
    *,
    headers: Mapping[str, str] | None = None,
    credentials: Mapping[str, str] | None = None,
    budget_s: float = 60.0,
    examples: int = 5,
    never: frozenset[str] = frozenset(),
    only: OperationFilter | None = None,
    location: str | None = None,
    gateway: str = "mock",
) -> Certified:
    """Run the contract engine against `base_url` and record its results the way the contract suite does."""
    state = RunState.create(
        Target("loopback", {}),
        Catalogue.from_path(specs_dir() / "readiness.yaml"),
        tmp_path,
        run_id="contract-test",
        browser=False,
        seed=0,
        selection="contract",
    )
    results = CriteriaResults(state, "tests/contract::certify", gateway)
    run = run_contract(
        document,
        base_url,
        dict(headers or {}),
        ContractSettings(examples=examples, seed=0, request_timeout=10.0),
        deadline=time.monotonic() + budget_s,
        never=never,
        credentials=credentials,
        only=only,
        location=location,
    )
    record_contract(run, results, budget_s=budget_s, seed=0, examples=examples)
    return Certified(run, results)
