"""`paycert merge`: one readiness report from the shards of a split run (`paycert run --shard K/N`).

The merge does not combine verdicts (a shard's verdict covers only its own tests): it judges the union of the
shards' results with the report's own rules (`build_readiness`), over the scope of the whole selection. So a
criterion whose tests ran on another shard is judged on them, and a shard that is missing leaves its tests'
criteria "not evaluated" with a harness error naming it, never quietly passed.

Shards of different runs cannot be merged: a different target, selection, seed, faults, collection or
durations means the shards may not have run each test exactly once, and a different paycert may have judged
the same test differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paycert.core.criteria import Catalogue
from paycert.core.errors import PaycertError
from paycert.core.results import TestResult
from paycert.report.readiness import Readiness, build_readiness
from paycert.report.run import RunInfo, ShardInfo, collection_digest
from paycert.report.writer import load_results, load_run


class MergeRefused(PaycertError):
    """The runs given are not the shards of one split run."""


@dataclass(frozen=True)
class ShardRun:
    folder: Path
    run: RunInfo
    shard: ShardInfo
    results: tuple[TestResult, ...]


def load_shard(folder: Path) -> ShardRun:
    """One shard's run folder; PaycertError (one line) when it is not a finished shard run."""
    document = load_run(folder)
    run = RunInfo.from_dict(document["run"])
    if run.shard is None:
        raise MergeRefused(f"{folder}: not a shard (a run of `paycert run --shard K/N`)")
    return ShardRun(folder, run, run.shard, tuple(load_results(folder)))


def _identity(shard: ShardRun) -> dict[str, Any]:
    """What must be the same in every shard of one split run, by name (for the refusal's one line)."""
    run = shard.run
    return {
        "paycert version": run.paycert_version,
        "target": run.target,
        "target file": run.target_file,
        "gateways": run.gateway_ids,
        "selection": run.selection.describe(),
        "seed": run.seed,
        "faults": run.faults,
        "shard count": shard.shard.total,
        "collected tests": (shard.shard.tests, shard.shard.collection),
        "durations the split used": shard.shard.durations_from or "none (round-robin)",
        "kind of split": "fixed in advance" if shard.shard.claimed is None else "claimed as workers freed up",
    }


def check_shards(shards: Sequence[ShardRun]) -> list[str]:
    """Refuse shards of different runs (MergeRefused); the harness errors of missing shards otherwise."""
    if not shards:
        raise MergeRefused("no shard run folders given")
    first = _identity(shards[0])
    for other in shards[1:]:
        mine = _identity(other)
        for name, value in first.items():
            if mine[name] != value:
                raise MergeRefused(
                    f"{other.folder} is not a shard of the same run as {shards[0].folder}: "
                    f"its {name} differs ({_show(mine[name])} vs {_show(value)})"
                )
    seen: dict[int, Path] = {}
    for shard in shards:
        index = shard.shard.index
        if index in seen:
            raise MergeRefused(
                f"shard {index} of {shard.shard.total} given twice: {seen[index]}, {shard.folder}"
            )
        seen[index] = shard.folder
    total = shards[0].shard.total
    missing = [
        f"shard {k} of {total} is missing: its tests did not run"
        for k in range(1, total + 1)
        if k not in seen
    ]
    return missing + _unclaimed(shards, complete=not missing)


def _unclaimed(shards: Sequence[ShardRun], *, complete: bool) -> list[str]:
    """Shards that claimed their tests (`paycert run -n`): refused if two ran one test; the tests none ran."""
    if shards[0].shard.claimed is None:
        return []
    owner: dict[str, int] = {}
    for shard in shards:
        for nodeid in shard.shard.claimed or ():
            if nodeid in owner:
                raise MergeRefused(
                    f"{nodeid} was claimed by shard {owner[nodeid]} and by shard {shard.shard.index}: "
                    "the shards did not share one queue"
                )
            owner[nodeid] = shard.shard.index
    first = shards[0].shard
    if complete and (len(owner) != first.tests or collection_digest(owner) != first.collection):
        return [
            f"{first.tests - len(owner)} of the {first.tests} collected tests were claimed by no shard: "
            "they did not run"
        ]
    return []


def _show(value: Any) -> str:
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], int):
        return f"{value[0]} tests, collection {value[1]}"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def merge_shards(
    shards: Sequence[ShardRun], catalogue: Catalogue, *, run_id: str, command: str = ""
) -> tuple[Readiness, list[TestResult]]:
    """The merged readiness (and the union of results) of the shards of one split run."""
    missing = check_shards(shards)
    ordered = sorted(shards, key=lambda s: s.shard.index)
    first = ordered[0].run
    selection = first.selection
    scoped = bool(selection.suites or selection.criteria or selection.keyword)
    # The whole selection's scope, as one unsplit run would have it (each shard recorded it before the split).
    in_scope = tuple(dict.fromkeys([*selection.criteria, *ordered[0].shard.scope])) if scoped else None
    harness_errors = tuple(dict.fromkeys([e for s in ordered for e in s.run.harness_errors] + missing))
    results = [r for s in ordered for r in s.results]
    run = RunInfo(
        run_id=run_id,
        started_at=min(s.run.started_at for s in ordered),
        finished_at=max(s.run.finished_at for s in ordered),
        target=first.target,
        gateways=first.gateways,
        seed=first.seed,
        paycert_version=first.paycert_version,
        selection=selection,
        harness_errors=harness_errors,
        in_scope=in_scope,
        command=command,
        target_file=first.target_file,
        faults=first.faults,
        versions=first.versions,
        merged_from=tuple(s.run.run_id for s in ordered),
    )
    return build_readiness(catalogue, results, run), results
