"""Outcomes: of one test, of one criterion for one gateway, and the run's verdict."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    NOT_EVALUATED = "not_evaluated"


class Verdict(StrEnum):
    GO = "GO"
    CONDITIONAL = "CONDITIONAL"
    NO_GO = "NO-GO"


# Why a result that said "pass" is kept from passing: nothing it checked reached the target.
NO_CHECK_REASON = "no check ran against the target, and a pass needs one"


@dataclass(frozen=True)
class TestResult:
    """What one certification test said about one gateway (recorded by the pytest plugin).

    `checks` counts the checks of this result that really ran against the target (requests answered,
    webhooks received, operations a generated check judged, interactions a verifier replayed). The evidence
    rule lives here, in one place, so no writer of results can bypass it: a pass with no check behind it is
    not a pass but `not_evaluated`, whatever the test itself concluded.
    """

    __test__ = False  # not a pytest test class

    nodeid: str
    criteria: tuple[str, ...]
    gateway: str
    outcome: Outcome
    reason: str = ""
    duration_s: float = 0.0
    evidence: list[dict[str, Any]] = field(default_factory=list)
    checks: int = 0

    def __post_init__(self) -> None:
        if self.outcome is Outcome.PASS and self.checks < 1:
            object.__setattr__(self, "outcome", Outcome.NOT_EVALUATED)
            said = f" (the test said: {self.reason})" if self.reason else ""
            object.__setattr__(self, "reason", f"{NO_CHECK_REASON}{said}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "criteria": list(self.criteria),
            "gateway": self.gateway,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "duration_s": round(self.duration_s, 3),
            "evidence": self.evidence,
            "checks": self.checks,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TestResult:
        return cls(
            nodeid=raw["nodeid"],
            criteria=tuple(raw["criteria"]),
            gateway=raw["gateway"],
            outcome=Outcome(raw["outcome"]),
            reason=raw.get("reason", ""),
            duration_s=float(raw.get("duration_s", 0.0)),
            evidence=list(raw.get("evidence", [])),
            checks=int(raw.get("checks", 0)),
        )


def combine(outcomes: Iterable[Outcome]) -> Outcome:
    """One criterion's outcome for one gateway from its tests' outcomes.

    A failure anywhere fails it; anything that could not be evaluated keeps it from passing; it is not
    applicable only when every test said so; with no test at all it was not evaluated. Never a pass by default.
    """
    seen = list(outcomes)
    if not seen:
        return Outcome.NOT_EVALUATED
    if Outcome.FAIL in seen:
        return Outcome.FAIL
    if Outcome.NOT_EVALUATED in seen:
        return Outcome.NOT_EVALUATED
    if all(o is Outcome.NOT_APPLICABLE for o in seen):
        return Outcome.NOT_APPLICABLE
    return Outcome.PASS


def decide(blocking_outcomes: Iterable[Outcome], other_outcomes: Iterable[Outcome]) -> Verdict:
    """NO-GO if a blocking criterion failed or was not evaluated; CONDITIONAL if only others did; else GO."""
    bad = {Outcome.FAIL, Outcome.NOT_EVALUATED}
    if any(o in bad for o in blocking_outcomes):
        return Verdict.NO_GO
    if any(o in bad for o in other_outcomes):
        return Verdict.CONDITIONAL
    return Verdict.GO
