"""Turning one generated contract run into one result per criterion for its gateway, with evidence.

A failed check is the target's finding: `fail`, with the failing request as an `Exchange` whose `curl`
reproduces it. An operation schemathesis could not test is the harness's error: `not_evaluated`, labelled
so. Findings a suite excludes (a check that does not apply to an operation, each with its reason) are shown
as notes, never as failures and never silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from paycert.core.evidence import Exchange, Note
from paycert.core.results import Outcome
from paycert.plugin.contract_checks import GENERATED_CRITERIA, STATEFUL
from paycert.plugin.contract_engine import TESTING_PHASES, ContractRun, Finding
from paycert.plugin.subresults import CriteriaResults

MAX_EXCHANGES_PER_CRITERION = 8


@dataclass(frozen=True)
class Exclusion:
    """A check that does not apply to an operation of a gateway, and why (suites/contract/exclusions.yaml)."""

    gateway: str
    check: str
    reason: str
    operation: str = "*"
    message: str = ""  # a substring of the failure's message; empty matches any
    response: str = ""  # a substring of the failing answer's body (an error code); empty matches any

    def matches(self, gateway: str, finding: Finding) -> bool:
        return (
            self.gateway in ("*", gateway)
            and self.check == finding.check
            and self.operation in ("*", finding.operation)
            and self.message in finding.message
            and self.response in finding.response_body
        )


def load_exclusions(path: Path) -> list[Exclusion]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [
        Exclusion(
            gateway=str(e.get("gateway", "*")),
            check=str(e["check"]),
            reason=str(e["reason"]),
            operation=str(e.get("operation", "*")),
            message=str(e.get("message", "")),
            response=str(e.get("response", "")),
        )
        for e in raw
    ]


def record_contract(
    run: ContractRun,
    results: CriteriaResults,
    *,
    exclusions: Sequence[Exclusion] = (),
    not_evaluated: Mapping[str, str] | None = None,
    budget_s: float,
    seed: int,
    examples: int,
) -> None:
    """One result per generated criterion (plus extra not-evaluated ones for what the run could not cover)."""
    gateway = results.gateway
    for secret in run.secrets:  # tokens paycert fetched for the spec's OAuth2 schemes
        results.run.redactor.add_secret(secret)
    header = Note(_header_text(run, seed=seed, examples=examples), label="contract run").to_dict()
    skipped = dict(not_evaluated or {})
    for criterion in GENERATED_CRITERIA:
        if criterion in skipped:
            results.record(criterion, Outcome.NOT_EVALUATED, skipped[criterion], [header], duration_s=0.0)
            continue
        findings = run.findings.get(criterion, [])
        kept = [f for f in findings if not any(x.matches(gateway, f) for x in exclusions)]
        excused = [
            (f, next(x for x in exclusions if x.matches(gateway, f))) for f in findings if f not in kept
        ]
        notes = [header, *_excused_notes(excused)]
        if kept:
            shown = _first_per_operation(kept)
            reason = f"{len(shown)} operation(s) fail {_list(sorted({f.check for f in kept}))}: " + _list(
                f"{f.operation} ({f.title})" for f in shown
            )
            evidence = [*notes, *(_exchange(f).to_dict() for f in shown[:MAX_EXCHANGES_PER_CRITERION])]
            results.record(criterion, Outcome.FAIL, reason, evidence, duration_s=run.elapsed_s)
        elif criterion == STATEFUL and not run.stateful_ran:
            # Before the pass branch: without a stateful run its checks "succeed" on nothing at all.
            _record_stateful_skip(run, results, notes)
        elif run.passed_checks.get(criterion):
            checked = sorted(run.passed_checks[criterion])
            text = f"checked on {len(checked)} request target(s), no failure"
            results.record(
                criterion,
                Outcome.PASS,
                text,
                [*notes, Note(text, label="checked").to_dict()],
                duration_s=run.elapsed_s,
                checks=len(checked),
            )
        elif excused:
            results.record(
                criterion,
                Outcome.NOT_APPLICABLE,
                "every finding was excluded as not applicable",
                notes,
                duration_s=run.elapsed_s,
            )
        else:
            results.record(
                criterion,
                Outcome.NOT_EVALUATED,
                "no request exercised this criterion's checks",
                notes,
                duration_s=0.0,
            )
    _record_gaps(run, results, budget_s)


def _header_text(run: ContractRun, *, seed: int, examples: int) -> str:
    """The run in one line: its size, its requests, and everything it left alone and why."""
    text = (
        f"schemathesis over {len(run.operations)} operation(s), {examples} example(s) per operation and phase, "
        f"seed {seed}, {run.requests} request(s) in {run.elapsed_s:.1f} s"
    )
    if run.selection:
        text += f"; limited by the target to {run.selection} ({run.unselected} operation(s) not selected)"
    if run.excluded:
        text += f"; left out: {_list(f'{op} ({why})' for op, why in run.excluded.items())}"
    if run.redirected:
        text += (
            f"; {sum(run.redirected.values())} write(s) aimed at ids this run did not create were sent to "
            f"fresh ids instead: {_list(f'{op} ({n})' for op, n in run.redirected.items())}"
        )
    return text


def _record_stateful_skip(run: ContractRun, results: CriteriaResults, notes: list[dict[str, Any]]) -> None:
    if run.stateful_skip == "not_applicable":
        reason = "the spec has no OpenAPI links to follow (schemathesis: stateful phase not applicable)"
        results.record(STATEFUL, Outcome.NOT_APPLICABLE, reason, notes, duration_s=0.0)
    else:
        reason = f"the stateful phase did not run ({run.stateful_skip or 'stopped before it'})"
        results.record(STATEFUL, Outcome.NOT_EVALUATED, reason, notes, duration_s=0.0)


def _record_gaps(run: ContractRun, results: CriteriaResults, budget_s: float) -> None:
    """What the run could not cover: never a pass, and told apart from the target's findings."""
    if run.stopped_by_budget or run.untested:
        reason = _gap_reason(run, budget_s)
        for criterion in GENERATED_CRITERIA:
            results.record(criterion, Outcome.NOT_EVALUATED, reason, [Note(reason, label="budget").to_dict()])
    if run.blocked:
        text = _list(f"{op} ({why})" for op, why in run.blocked.items())
        reason = f"paycert could not test {len(run.blocked)} operation(s): {text}"
        note = Note(reason, label="not tested by paycert (not a finding against the target)").to_dict()
        for criterion in GENERATED_CRITERIA:
            results.record(criterion, Outcome.NOT_EVALUATED, reason, [note])
    if run.tool_errors:
        text = _list(f"{e.operation}: {e.title}: {e.message}" for e in run.tool_errors)
        reason = f"harness: {len(run.tool_errors)} operation(s) or input(s) could not be tested: {text}"
        note = Note(reason, label="harness error (not a finding against the target)").to_dict()
        for criterion in GENERATED_CRITERIA:
            results.record(criterion, Outcome.NOT_EVALUATED, reason, [note])


def _gap_reason(run: ContractRun, budget_s: float) -> str:
    """Why the run is incomplete: the budget (where it ran out, what never ran) or operations left untested."""
    untested = run.untested
    never = f"{len(untested)} operation(s) never tested: {_list(untested)}" if untested else ""
    if not run.stopped_by_budget:
        return f"{len(untested)} operation(s) were not tested: {_list(untested)}"
    skipped = [p for p in TESTING_PHASES if p not in run.phases_done and p != run.stopped_in]
    stopped = "stopped before any phase ran"
    if run.stopped_in:
        stopped = f"stopped in the {run.stopped_in} phase"
    elif run.phases_done:
        stopped = f"stopped after the {run.phases_done[-1]} phase"
    where = [
        stopped,
        *([f"{', '.join(skipped)} not run"] if skipped and (run.stopped_in or run.phases_done) else []),
        *([never] if never else []),
    ]
    return f"contract budget of {budget_s:g} s spent ({'; '.join(where)})"


def _first_per_operation(findings: Iterable[Finding]) -> list[Finding]:
    shown: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        shown.setdefault((finding.operation, finding.check), finding)
    return list(shown.values())


def _excused_notes(excused: Sequence[tuple[Finding, Exclusion]]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str, str], int] = {}
    reasons: dict[tuple[str, str, str], str] = {}
    for finding, exclusion in excused:
        key = (finding.operation, finding.check, exclusion.reason)
        seen[key] = seen.get(key, 0) + 1
        reasons[key] = exclusion.reason
    return [
        Note(f"{op}: {check} not applied ({n} finding(s)): {reason}", label="excluded check").to_dict()
        for (op, check, reason), n in seen.items()
    ]


def _exchange(finding: Finding) -> Exchange:
    return Exchange(
        method=finding.method or finding.operation.split(" ", 1)[0],
        url=finding.url,
        request_headers=finding.request_headers,
        request_body=finding.request_body,
        status=finding.status,
        response_headers=finding.response_headers,
        response_body=finding.response_body,
        duration_ms=round(finding.elapsed_ms, 1),
        curl=finding.curl,
        label=f"finding: {finding.check} on {finding.operation}: {finding.title}. {finding.message[:400]}",
    )


def _list(items: Iterable[str], limit: int = 12) -> str:
    values = list(items)
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return ", ".join(values[:limit]) + more
