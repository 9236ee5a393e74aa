"""Per-criterion results from one test: for generated tests that evidence several criteria at once.

A test marked `@pytest.mark.criterion("ID")` gets one result from its outcome. A generated contract test
exercises every schemathesis check in one run, and each check evidences its own criterion, so it carries no
marker and records its results itself:

    def test_generated_contract(gateway_id, criteria_results):
        criteria_results.record("CON-SCHEMA", Outcome.FAIL, "createPayment: ...", [exchange.to_dict()])

Each call appends one `TestResult` for the test's gateway to the run's results (the report combines the
results of a criterion and gateway as usual: a failure anywhere fails it, never a pass by default). Reasons
and evidence are redacted with the run's redactor before they are kept.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from paycert.core.results import Outcome, TestResult
from paycert.plugin.session import RunState, run_state


@dataclass
class CriteriaResults:
    """Where a test records `(criterion, outcome, reason, evidence)` for its gateway."""

    run: RunState
    nodeid: str
    gateway: str
    started: float = field(default_factory=time.monotonic)
    recorded: list[TestResult] = field(default_factory=list)

    def record(
        self,
        criterion: str,
        outcome: Outcome,
        reason: str = "",
        evidence: Sequence[dict[str, Any]] = (),
        *,
        duration_s: float | None = None,
        checks: int = 0,
    ) -> TestResult:
        """Record one criterion's result; `checks` says how many checks behind it ran against the target
        (a pass with none is recorded as not evaluated: `TestResult`'s evidence rule)."""
        if criterion not in self.run.catalogue:
            raise ValueError(f"criterion {criterion} is not in specs/readiness.yaml")
        result = TestResult(
            nodeid=f"{self.nodeid}::{criterion}",
            criteria=(criterion,),
            gateway=self.gateway,
            outcome=outcome,
            reason=self.run.redactor.text(reason),
            duration_s=time.monotonic() - self.started if duration_s is None else duration_s,
            evidence=[self.run.redactor.json(item) for item in evidence],
            checks=checks,
        )
        self.run.results.append(result)
        self.recorded.append(result)
        return result

    def outcomes(self) -> dict[str, Outcome]:
        """What this test recorded so far, by criterion (combined the way the report combines them)."""
        found: dict[str, Outcome] = {}
        order = (Outcome.FAIL, Outcome.NOT_EVALUATED, Outcome.PASS, Outcome.NOT_APPLICABLE)
        for result in self.recorded:
            criterion = result.criteria[0]
            previous = found.get(criterion)
            if previous is None or order.index(result.outcome) < order.index(previous):
                found[criterion] = result.outcome
        return found


@pytest.fixture
def criteria_results(request: pytest.FixtureRequest) -> CriteriaResults:
    """Record per-criterion results for this test's gateway (see the module's documentation)."""
    callspec = getattr(request.node, "callspec", None)
    gateway = str(callspec.params.get("gateway_id", "")) if callspec is not None else ""
    return CriteriaResults(run_state(request.config), request.node.nodeid, gateway)
