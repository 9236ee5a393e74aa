"""What changed since the previous run: the verdict, and each criterion whose status moved."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StatusChange:
    criterion: str
    title: str
    before: str | None  # None: the criterion was not in the previous run
    after: str | None  # None: it is no longer in scope
    # Per gateway, where the cell moved: (gateway, before, after).
    gateways: tuple[tuple[str, str | None, str | None], ...] = ()

    def describe(self) -> str:
        """`PAY-3DS: pass -> fail`; `PAY-3DS: still pass` when only a gateway's cell moved."""
        if self.before == self.after:
            return f"{self.criterion}: still {self.after}"
        return f"{self.criterion}: {self.before or 'not in run'} -> {self.after or 'not in run'}"


@dataclass(frozen=True)
class Trend:
    previous_run_id: str
    previous_verdict: str
    previous_started_at: str
    verdict: str
    changes: tuple[StatusChange, ...] = field(default_factory=tuple)

    @property
    def verdict_changed(self) -> bool:
        return self.previous_verdict != self.verdict


def compare(current: dict[str, Any], previous: dict[str, Any] | None) -> Trend | None:
    """The trend from two `readiness.json` documents; None when there is no previous run to compare with."""
    if previous is None:
        return None
    before = {c["id"]: c for c in previous.get("criteria", [])}
    after = {c["id"]: c for c in current.get("criteria", [])}
    order = list(after) + [i for i in before if i not in after]
    changes = []
    for criterion_id in order:
        old, new = before.get(criterion_id), after.get(criterion_id)
        old_status = old["status"] if old else None
        new_status = new["status"] if new else None
        cells = _cell_changes(old, new)
        if old_status != new_status or cells:
            title = (new or old or {}).get("title", "")
            changes.append(StatusChange(criterion_id, title, old_status, new_status, cells))
    run = previous.get("run", {})
    return Trend(
        previous_run_id=str(run.get("run_id", "")),
        previous_verdict=str(previous.get("verdict", "")),
        previous_started_at=str(run.get("started_at", "")),
        verdict=str(current.get("verdict", "")),
        changes=tuple(changes),
    )


def _cell_changes(
    old: dict[str, Any] | None, new: dict[str, Any] | None
) -> tuple[tuple[str, str | None, str | None], ...]:
    if old is None or new is None:
        return ()
    old_cells, new_cells = old.get("gateways", {}), new.get("gateways", {})
    moved = []
    for gateway in list(new_cells) + [g for g in old_cells if g not in new_cells]:
        was = old_cells.get(gateway, {}).get("status")
        now = new_cells.get(gateway, {}).get("status")
        if was != now:
            moved.append((gateway, was, now))
    return tuple(moved)
