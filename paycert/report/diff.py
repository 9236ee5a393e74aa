"""`paycert diff RUN_A RUN_B`: what changed from one run's readiness to another's, cell by cell.

A cell is one criterion for one gateway (or other subject). Statuses rank pass = not applicable (nothing to
fix) above not evaluated (unknown, never a pass) above fail. A cell got worse when its rank dropped, or when it
appears in RUN_B with a bad status; the diff got worse when any cell did or the verdict did
(GO > CONDITIONAL > NO-GO). Cells whose status held but whose reason or evidence moved are listed as changed.
Evidence is compared by what it says (an exchange's operation and answer, a webhook's label and answer, a
note's text), not by ids or timestamps, which differ in every run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

RANK = {"pass": 0, "not_applicable": 0, "not_evaluated": 1, "fail": 2}
VERDICT_RANK = {"GO": 0, "CONDITIONAL": 1, "NO-GO": 2}
BAD = ("fail", "not_evaluated")


@dataclass(frozen=True)
class CellDiff:
    """One criterion on one gateway in both runs (None: not in that run)."""

    criterion: str
    gateway: str
    before: str | None
    after: str | None
    reason_before: str = ""
    reason_after: str = ""
    evidence_added: tuple[str, ...] = ()
    evidence_removed: tuple[str, ...] = ()

    @property
    def worse(self) -> bool:
        if self.after is None:
            return False
        if self.before is None:
            return self.after in BAD
        return RANK[self.after] > RANK[self.before]

    @property
    def better(self) -> bool:
        return self.before is not None and self.after is not None and RANK[self.after] < RANK[self.before]

    def to_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "gateway": self.gateway,
            "before": self.before,
            "after": self.after,
            "reason_before": self.reason_before,
            "reason_after": self.reason_after,
            "evidence_added": list(self.evidence_added),
            "evidence_removed": list(self.evidence_removed),
        }


@dataclass(frozen=True)
class RunDiff:
    run_a: str
    run_b: str
    verdict_a: str
    verdict_b: str
    new_failures: tuple[CellDiff, ...]  # worse, and now fail
    now_not_evaluated: tuple[CellDiff, ...]  # worse, and now not evaluated
    fixed: tuple[CellDiff, ...]  # better
    changed: tuple[CellDiff, ...]  # same status, different reason or evidence (or a gateway dropped)
    added: tuple[tuple[str, str], ...]  # criteria only in RUN_B: (id, status)
    removed: tuple[tuple[str, str], ...]  # criteria only in RUN_A: (id, status there)

    @property
    def verdict_worse(self) -> bool:
        return VERDICT_RANK.get(self.verdict_b, 2) > VERDICT_RANK.get(self.verdict_a, 2)

    @property
    def worse(self) -> bool:
        return bool(self.new_failures or self.now_not_evaluated or self.verdict_worse)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_a": self.run_a,
            "run_b": self.run_b,
            "verdict_a": self.verdict_a,
            "verdict_b": self.verdict_b,
            "worse": self.worse,
            "new_failures": [c.to_dict() for c in self.new_failures],
            "now_not_evaluated": [c.to_dict() for c in self.now_not_evaluated],
            "fixed": [c.to_dict() for c in self.fixed],
            "changed": [c.to_dict() for c in self.changed],
            "added": [{"criterion": c, "status": s} for c, s in self.added],
            "removed": [{"criterion": c, "status": s} for c, s in self.removed],
        }


def diff_runs(a: dict[str, Any], b: dict[str, Any]) -> RunDiff:
    """The diff of two `readiness.json` documents, RUN_A the baseline and RUN_B the candidate."""
    before = {c["id"]: c for c in a.get("criteria", [])}
    after = {c["id"]: c for c in b.get("criteria", [])}
    cells: list[CellDiff] = []
    for criterion_id, new in after.items():
        old = before.get(criterion_id)
        if old is not None:
            cells += _cells(criterion_id, old, new)
    return RunDiff(
        run_a=str((a.get("run") or {}).get("run_id", "")),
        run_b=str((b.get("run") or {}).get("run_id", "")),
        verdict_a=str(a.get("verdict", "")),
        verdict_b=str(b.get("verdict", "")),
        new_failures=tuple(c for c in cells if c.worse and c.after == "fail"),
        now_not_evaluated=tuple(c for c in cells if c.worse and c.after == "not_evaluated"),
        fixed=tuple(c for c in cells if c.better),
        changed=tuple(
            c
            for c in cells
            if not c.worse
            and not c.better
            and (
                c.before != c.after
                or c.reason_before != c.reason_after
                or c.evidence_added
                or c.evidence_removed
            )
        ),
        added=tuple((i, c["status"]) for i, c in after.items() if i not in before),
        removed=tuple((i, c["status"]) for i, c in before.items() if i not in after),
    )


def _cells(criterion_id: str, old: dict[str, Any], new: dict[str, Any]) -> list[CellDiff]:
    old_cells, new_cells = old.get("gateways", {}), new.get("gateways", {})
    found = []
    for gateway in [*new_cells, *(g for g in old_cells if g not in new_cells)]:
        was, now = old_cells.get(gateway), new_cells.get(gateway)
        then_evidence, now_evidence = _evidence(was), _evidence(now)
        found.append(
            CellDiff(
                criterion=criterion_id,
                gateway=gateway,
                before=was["status"] if was else None,
                after=now["status"] if now else None,
                reason_before=was["reason"] if was else "",
                reason_after=now["reason"] if now else "",
                evidence_added=tuple(sorted((now_evidence - then_evidence).elements())),
                evidence_removed=tuple(sorted((then_evidence - now_evidence).elements())),
            )
        )
    return found


def _evidence(cell: dict[str, Any] | None) -> Counter[str]:
    """A cell's tests and evidence as comparable lines, free of what differs in every run (ids, times)."""
    lines: Counter[str] = Counter()
    for test in (cell or {}).get("tests", []):
        name = str(test["nodeid"]).rsplit("::", 1)[-1]
        lines[f"test {name}: {test['outcome']}"] += 1
        for item in test.get("evidence", []):
            lines[f"{name}: {_evidence_line(item)}"] += 1
    return lines


def _evidence_line(item: dict[str, Any]) -> str:
    kind = item.get("kind", "")
    label = item.get("label", "")
    if kind == "exchange":
        answer = (
            f"HTTP {item['status']}" if item.get("status") is not None else (item.get("error") or "no answer")
        )
        return f"exchange {label or item.get('method', '')}: {answer}"
    if kind == "webhook":
        return f"webhook {label}: answered {item.get('answer', '')}"
    if kind == "note":
        return f"note {label}: {item.get('text', '')}"
    return f"{kind} {label}".strip()


def render_text(diff: RunDiff) -> list[str]:
    """The diff for people, one line per change, worst first; the last line says whether it got worse."""
    lines = [f"{diff.run_a} ({diff.verdict_a}) -> {diff.run_b} ({diff.verdict_b})"]
    sections = (
        ("new failures", diff.new_failures),
        ("now not evaluated", diff.now_not_evaluated),
        ("fixed", diff.fixed),
        ("changed reasons or evidence", diff.changed),
    )
    for title, cells in sections:
        if not cells:
            continue
        lines.append(f"{title} ({len(cells)}):")
        for cell in cells:
            lines.append(
                f"  {cell.criterion} [{cell.gateway}]: {cell.before or 'absent'} -> {cell.after or 'absent'}"
            )
            if cell.reason_after and cell.reason_after != cell.reason_before:
                lines.append(f"      reason: {cell.reason_after}")
                if cell.reason_before:
                    lines.append(f"      was:    {cell.reason_before}")
            lines += [f"      + {line}" for line in cell.evidence_added]
            lines += [f"      - {line}" for line in cell.evidence_removed]
    if diff.added:
        lines.append(f"criteria added ({len(diff.added)}): " + ", ".join(f"{c} ({s})" for c, s in diff.added))
    if diff.removed:
        lines.append(
            f"criteria removed ({len(diff.removed)}): " + ", ".join(f"{c} (was {s})" for c, s in diff.removed)
        )
    if diff.worse:
        worse = len(diff.new_failures) + len(diff.now_not_evaluated)
        verdict = f"; verdict {diff.verdict_a} -> {diff.verdict_b}" if diff.verdict_worse else ""
        lines.append(f"worse: {worse} criterion cell(s) got worse{verdict}")
    else:
        lines.append("nothing got worse")
    return lines
