"""What a load phase measured, and how the KPI criteria judge it against the target's thresholds.

What counts as a failed request (KPI-ERROR-RATE): an answer with status 5xx or 429, a transport error (no
connection, reset, not HTTP) and a timeout. Other answers, 4xx included, are the gateway's answers: a
payment they keep from completing shows in KPI-SUCCESS-RATE instead.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from paycert.core.evidence import LoadRun
from paycert.targets.settings import KpiSettings

PERCENTILES = ("p50", "p95", "p99")


@dataclass(frozen=True)
class OperationFigures:
    """One operation (token, create, pay, status) of the phase; latency is time to the answer's headers."""

    name: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rps: float

    def percentile(self, name: str) -> float:
        value: float = getattr(self, f"{name}_ms")
        return value


@dataclass(frozen=True)
class LoadFigures:
    users: int
    max_requests: int
    max_seconds: float
    pace: str
    stopped_by: str
    seconds: float
    requests: int  # sent: the budget the phase took, never more than max_requests
    answered: int
    failed: int
    iterations: int
    completed: int
    operations: tuple[OperationFigures, ...] = ()
    errors: tuple[str, ...] = ()  # each kind of failed request, with its operation and count
    problems: tuple[str, ...] = field(default=())  # what a live phase could not undo

    @property
    def success_rate(self) -> float:
        return self.completed / self.iterations if self.iterations else 0.0

    @property
    def error_rate(self) -> float:
        measured = sum(o.requests for o in self.operations)
        return self.failed / measured if measured else 0.0

    def over_latency(self, kpi: KpiSettings) -> list[str]:
        """Each operation percentile above its threshold, as a line for the report."""
        limits = {name: float(getattr(kpi.latency_ms, name)) for name in PERCENTILES}
        return [
            f"{op.name} {name} {op.percentile(name):.0f} ms > {limits[name]:.0f} ms"
            for op in self.operations
            for name in PERCENTILES
            if op.percentile(name) > limits[name]
        ]

    def to_evidence(self, kpi: KpiSettings) -> LoadRun:
        thresholds = {
            "success_rate": kpi.success_rate,
            "error_rate": kpi.error_rate,
            **{f"{name}_ms": float(getattr(kpi.latency_ms, name)) for name in PERCENTILES},
        }
        return LoadRun(
            users=self.users,
            max_requests=self.max_requests,
            max_seconds=self.max_seconds,
            pace=self.pace,
            stopped_by=self.stopped_by,
            seconds=round(self.seconds, 3),
            requests=self.requests,
            answered=self.answered,
            failed=self.failed,
            iterations=self.iterations,
            completed=self.completed,
            operations=[asdict(o) for o in self.operations],
            errors=list(self.errors),
            thresholds=thresholds,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> LoadFigures:
        operations = tuple(OperationFigures(**o) for o in raw.get("operations", ()))
        problems = tuple(str(p) for p in raw.get("problems", ()))
        errors = tuple(str(e) for e in raw.get("errors", ()))
        plain = {k: v for k, v in raw.items() if k not in ("operations", "problems", "errors")}
        return cls(**plain, operations=operations, errors=errors, problems=problems)
