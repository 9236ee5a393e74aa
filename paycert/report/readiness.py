"""The readiness model: every criterion's status per gateway, and the run's verdict with the reason for it.

Rules (DESIGN.md, "Criteria and the readiness report"): a criterion's outcome for a gateway combines that
gateway's tests for it; with no test it was not evaluated, which is never a pass. NO-GO if a blocking criterion
failed or was not evaluated, CONDITIONAL if only non-blocking ones did, GO otherwise. A run in which paycert
could not run something (a harness error) is never GO: what it could not run might have failed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from paycert.core.criteria import Catalogue, Criterion
from paycert.core.results import Outcome, TestResult, Verdict, combine, decide
from paycert.report.run import RunInfo

NO_TEST_REASON = "no test evidenced it"
FINDING_LABEL_PREFIX = "finding"
# A gateway-level reason repeats the first line of each test's reason, capped, so the table stays readable;
# the full text stays with each test.
_REASON_LINE_CAP = 300
_NAMES_IN_SENTENCE = 8


@dataclass(frozen=True)
class GatewayStatus:
    """One criterion for one gateway (or other subject such as the merchant)."""

    gateway: str
    status: Outcome
    reason: str
    tests: tuple[TestResult, ...]


@dataclass(frozen=True)
class CriterionStatus:
    criterion: Criterion
    status: Outcome
    gateways: tuple[GatewayStatus, ...]

    @property
    def id(self) -> str:
        return self.criterion.id

    def for_gateway(self, gateway: str) -> GatewayStatus | None:
        return next((g for g in self.gateways if g.gateway == gateway), None)


@dataclass(frozen=True)
class Finding:
    """An observation a test recorded as a note labelled `finding...` (e.g. a weak signature scheme)."""

    label: str
    text: str
    gateway: str
    nodeid: str
    criteria: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "text": self.text,
            "gateway": self.gateway,
            "nodeid": self.nodeid,
            "criteria": list(self.criteria),
        }


@dataclass(frozen=True)
class Readiness:
    verdict: Verdict
    verdict_reason: str
    run: RunInfo
    # Column order of the report: the run's gateways, then any other subject tests reported on (`merchant`).
    gateways: tuple[str, ...]
    criteria: tuple[CriterionStatus, ...]
    summary: dict[str, int]
    findings: tuple[Finding, ...]
    out_of_scope: tuple[str, ...]
    # Criterion ids that tests cite but the catalogue does not know: a typo in a marker, shown, never counted.
    unknown_criteria: tuple[str, ...]

    @property
    def harness_errors(self) -> tuple[str, ...]:
        return self.run.harness_errors

    def get(self, criterion_id: str) -> CriterionStatus:
        for status in self.criteria:
            if status.id == criterion_id:
                return status
        raise KeyError(criterion_id)


def build_readiness(catalogue: Catalogue, results: Iterable[TestResult], run: RunInfo) -> Readiness:
    """Judge every criterion in scope for every gateway from the tests' results, and decide the verdict."""
    results = list(results)
    in_scope = [c for c in catalogue if run.in_scope is None or c.id in run.in_scope]
    out_of_scope = tuple(c.id for c in catalogue if c not in in_scope)
    scope_ids = {c.id for c in in_scope}
    subjects = _subjects(run.gateway_ids, results, scope_ids)

    statuses = tuple(_judge(criterion, results, run, subjects) for criterion in in_scope)
    verdict, reason = _verdict(statuses, run.harness_errors)
    if run.shard is not None:
        reason += (
            f" This is {run.shard.describe()}: it judges only the criteria its own tests evidence; "
            "`paycert merge` of every shard gives the release's verdict."
        )
    known = {c.id for c in catalogue}
    unknown = sorted({cid for r in results for cid in r.criteria if cid not in known})
    return Readiness(
        verdict=verdict,
        verdict_reason=reason,
        run=run,
        gateways=subjects,
        criteria=statuses,
        summary=summarize(s.status for s in statuses) | {"out_of_scope": len(out_of_scope)},
        findings=_findings(results),
        out_of_scope=out_of_scope,
        unknown_criteria=tuple(unknown),
    )


def summarize(outcomes: Iterable[Outcome]) -> dict[str, int]:
    """Counts per outcome, every outcome present (zero included) so consumers need no defaults."""
    counts = dict.fromkeys((o.value for o in Outcome), 0)
    for outcome in outcomes:
        counts[outcome.value] += 1
    counts["total"] = sum(counts.values())
    return counts


def _subjects(gateways: Sequence[str], results: Sequence[TestResult], scope: set[str]) -> tuple[str, ...]:
    extra: list[str] = []
    for result in results:
        if result.gateway not in gateways and result.gateway not in extra and scope & set(result.criteria):
            extra.append(result.gateway)
    return (*gateways, *extra)


def _judge(
    criterion: Criterion, results: Sequence[TestResult], run: RunInfo, subjects: Sequence[str]
) -> CriterionStatus:
    mine = [r for r in results if criterion.id in r.criteria]
    # Every gateway of the run owes every criterion a result, so a missing one is "not evaluated". Other
    # subjects (the merchant, an attestation) only appear where tests reported on them; and a criterion
    # evidenced only by them is judged on them alone, not marked "not evaluated" on every gateway.
    others = [s for s in subjects if s not in run.gateway_ids and any(r.gateway == s for r in mine)]
    on_gateways = not mine or any(r.gateway in run.gateway_ids for r in mine)
    columns = [*run.gateway_ids, *others] if on_gateways else others
    cells = tuple(
        _cell(subject, [r for r in mine if r.gateway == subject], run.harness_errors) for subject in columns
    )
    return CriterionStatus(criterion=criterion, status=combine(c.status for c in cells), gateways=cells)


def _cell(gateway: str, tests: list[TestResult], harness_errors: Sequence[str]) -> GatewayStatus:
    if not tests:
        reason = harness_error_for(gateway, harness_errors) or NO_TEST_REASON
        return GatewayStatus(gateway, Outcome.NOT_EVALUATED, reason, ())
    status = combine(t.outcome for t in tests)
    return GatewayStatus(gateway, status, _cell_reason(status, tests), tuple(tests))


def harness_error_for(gateway: str, harness_errors: Sequence[str]) -> str | None:
    """The harness error about this gateway: one that starts with `<gateway>:`, else one naming it."""
    for error in harness_errors:
        if error.startswith(f"{gateway}:"):
            return error
    pattern = re.compile(rf"(?<![\w-]){re.escape(gateway)}(?![\w-])")
    return next((e for e in harness_errors if gateway and pattern.search(e)), None)


def _cell_reason(status: Outcome, tests: Sequence[TestResult]) -> str:
    if status is Outcome.PASS:
        passed = sum(t.outcome is Outcome.PASS for t in tests)
        return f"{passed} test{'s' if passed != 1 else ''} passed"
    deciding = [t for t in tests if t.outcome is status]
    lines: list[str] = []
    for test in deciding:
        first = (test.reason.strip().splitlines() or [status.value.replace("_", " ")])[0]
        if len(first) > _REASON_LINE_CAP:
            first = first[: _REASON_LINE_CAP - 1] + "…"
        line = f"{_short_name(test.nodeid)}: {first}" if len(deciding) > 1 else first
        if line not in lines:
            lines.append(line)
    return "; ".join(lines)


def _short_name(nodeid: str) -> str:
    return nodeid.rsplit("::", 1)[-1]


def _verdict(statuses: Sequence[CriterionStatus], harness_errors: Sequence[str]) -> tuple[Verdict, str]:
    def ids(blocking: bool, outcome: Outcome, attested: bool | None = None) -> list[str]:
        """Criteria with this outcome; `attested` narrows to (True) or leaves out (False) the ATT-* ones."""
        return [
            s.id
            for s in statuses
            if s.criterion.blocking is blocking
            and s.status is outcome
            and (attested is None or (s.criterion.evidenced_by == "attestation") is attested)
        ]

    verdict = decide(
        (s.status for s in statuses if s.criterion.blocking),
        (s.status for s in statuses if not s.criterion.blocking),
    )
    clauses = []
    if harness_errors:
        more = f" and {len(harness_errors) - 1} more" if len(harness_errors) > 1 else ""
        clauses.append(f"paycert could not run everything ({harness_errors[0]}{more})")
    if not statuses:
        clauses.append("no criterion was in scope, so nothing was certified")
    clauses += _clauses("blocking", ids(True, Outcome.FAIL), ids(True, Outcome.NOT_EVALUATED, attested=False))
    awaiting = ids(True, Outcome.NOT_EVALUATED, attested=True)
    if awaiting:
        # Nothing failed there: a person still has to attest it (ATT-*, paycert attest / --attestations).
        clauses.append(f"{_count('blocking', awaiting)} awaiting attestation: {_names(awaiting)}")

    if clauses:
        # A harness error or an empty scope means something was not certified, and that is never a GO.
        return Verdict.NO_GO, f"{Verdict.NO_GO.value}: {'; '.join(clauses)}."
    if verdict is Verdict.CONDITIONAL:
        others = _clauses(
            "non-blocking", ids(False, Outcome.FAIL), ids(False, Outcome.NOT_EVALUATED, attested=False)
        )
        pending = ids(False, Outcome.NOT_EVALUATED, attested=True)
        if pending:
            others.append(f"{_count('non-blocking', pending)} awaiting attestation: {_names(pending)}")
        return (
            verdict,
            f"{verdict.value}: every blocking criterion passed or does not apply, but {'; '.join(others)}.",
        )
    applicable = sum(s.status is Outcome.NOT_APPLICABLE for s in statuses)
    not_applicable = f" ({applicable} of them do not apply)" if applicable else ""
    noun = "criterion" if len(statuses) == 1 else "criteria"
    return (
        verdict,
        f"{verdict.value}: all {len(statuses)} {noun} in scope passed or do not apply{not_applicable}.",
    )


def _clauses(kind: str, failed: list[str], not_evaluated: list[str]) -> list[str]:
    clauses = []
    if failed:
        clauses.append(f"{_count(kind, failed)} failed: {_names(failed)}")
    if not_evaluated:
        verb = "was" if len(not_evaluated) == 1 else "were"
        clauses.append(f"{_count(kind, not_evaluated)} {verb} not evaluated: {_names(not_evaluated)}")
    return clauses


def _count(kind: str, ids: list[str]) -> str:
    return f"{len(ids)} {kind} {'criterion' if len(ids) == 1 else 'criteria'}"


def _names(ids: list[str]) -> str:
    shown = ", ".join(ids[:_NAMES_IN_SENTENCE])
    rest = len(ids) - _NAMES_IN_SENTENCE
    return f"{shown} and {rest} more" if rest > 0 else shown


def _findings(results: Sequence[TestResult]) -> tuple[Finding, ...]:
    found: list[Finding] = []
    for result in results:
        for item in result.evidence:
            label = str(item.get("label", ""))
            if item.get("kind") != "note" or not label.lower().startswith(FINDING_LABEL_PREFIX):
                continue
            finding = Finding(
                label, str(item.get("text", "")), result.gateway, result.nodeid, result.criteria
            )
            if finding not in found:
                found.append(finding)
    return tuple(found)
