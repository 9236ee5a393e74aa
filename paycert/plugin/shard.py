"""`paycert run --shard K/N`: run only the K-th of N deterministic slices of the collected tests.

The split is of single tests, not whole suites, so one slow suite cannot land on one CI job whole. With the
durations of an earlier run (`duration_s` per test in its results.json) it is pytest-split's least-duration
split: the longest tests first, each to the shard with the least time so far; a test that run did not know
counts as the average. Without durations it is a round-robin over the tests sorted by id. Every shard
computes the same split from the same collection and the same durations, so together the shards run each
test exactly once; the report records both (`run.shard`), and `paycert merge` refuses shards that differ.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from paycert.core.errors import PaycertError
from paycert.report import ShardInfo

SHARD_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
RESULTS_NAME = "results.json"
SHARD_INFO = pytest.StashKey[ShardInfo]()
PLUGIN_NAME = "paycert-shard"


def parse_shard(text: str) -> tuple[int, int]:
    """`"2/3"` -> (2, 3); a PaycertError with the reason for anything else."""
    match = SHARD_PATTERN.match(text)
    if match is None:
        raise PaycertError(f"--shard {text!r}: write it K/N, e.g. 1/4")
    index, total = int(match.group(1)), int(match.group(2))
    if total < 1 or not 1 <= index <= total:
        raise PaycertError(f"--shard {text!r}: K must be between 1 and N (N >= 1)")
    return index, total


def split(nodeids: Sequence[str], total: int, durations: Mapping[str, float]) -> list[list[str]]:
    """The tests of each of `total` shards (each list sorted by id); every test is in exactly one."""
    if total < 1:
        raise ValueError("a split needs at least one shard")
    # Sorted by id, not collection order: the split must not depend on how a machine lists files.
    order = sorted(set(nodeids))
    known = [durations[n] for n in order if n in durations]
    if not known:
        return [order[k::total] for k in range(total)]
    default = sum(known) / len(known)

    def weight(nodeid: str) -> float:
        return durations.get(nodeid, default)

    shards: list[list[str]] = [[] for _ in range(total)]
    loads = [0.0] * total
    for nodeid in sorted(order, key=lambda n: (-weight(n), n)):
        lightest = min(range(total), key=lambda k: (loads[k], k))
        shards[lightest].append(nodeid)
        loads[lightest] += weight(nodeid)
    return [sorted(s) for s in shards]


def load_durations(run_dir: Path) -> dict[str, float]:
    """Seconds per test id from a run's results.json (a test reported once per criterion: its longest)."""
    path = run_dir / RESULTS_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        found: dict[str, float] = {}
        for result in raw:
            nodeid, seconds = str(result["nodeid"]), float(result.get("duration_s") or 0.0)
            found[nodeid] = max(seconds, found.get(nodeid, 0.0))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PaycertError(f"--durations-from {run_dir}: no readable {RESULTS_NAME} ({exc})") from None
    return found


def latest_whole_run(reports_root: Path) -> Path | None:
    """The newest run folder that was not itself a shard and has results: the default durations.

    A shard's own durations are left out on purpose: shards 1 and 2 run one after the other into one folder
    would otherwise split on different durations and run some tests twice and others never.
    """
    if not reports_root.is_dir():
        return None
    runs = sorted(
        (
            p
            for p in reports_root.iterdir()
            if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
        ),
        key=lambda p: p.name,
        reverse=True,
    )
    for run in runs:
        try:
            document = json.loads((run / "readiness.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (run / RESULTS_NAME).is_file() and not (document.get("run") or {}).get("shard"):
            return run
    return None


def run_name(run_dir: Path) -> str:
    """The run id of a run folder (`reports/latest` names the run it points at, not "latest")."""
    try:
        return str(json.loads((run_dir / "readiness.json").read_text(encoding="utf-8"))["run"]["run_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return run_dir.resolve().name


def collection_digest(nodeids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(nodeids)).encode()).hexdigest()[:16]


class ShardSelection:
    """Deselects every collected test that is not this shard's, after every other selection (-s, -c, -k)."""

    def __init__(
        self,
        index: int,
        total: int,
        durations_from: Path | None,
        scope: Callable[[], list[str]],
        evidenced: Callable[[pytest.Item], tuple[str, ...]],
    ) -> None:
        self.index = index
        self.total = total
        self.durations_from = durations_from
        self.scope = scope
        self.evidenced = evidenced

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        durations = load_durations(self.durations_from) if self.durations_from else {}
        nodeids = [item.nodeid for item in items]
        mine = set(split(nodeids, self.total, durations)[self.index - 1])
        # What the whole selection evidences, before the split: the merge owes each of these a status.
        evidenced = {c for item in items for c in self.evidenced(item)}
        config.stash[SHARD_INFO] = ShardInfo(
            index=self.index,
            total=self.total,
            tests=len(items),
            collection=collection_digest(nodeids),
            durations_from=run_name(self.durations_from) if self.durations_from else "",
            scope=tuple(c for c in self.scope() if c in evidenced),
        )
        dropped = [item for item in items if item.nodeid not in mine]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [item for item in items if item.nodeid in mine]


def install(
    config: pytest.Config,
    reports_root: Path,
    scope: Callable[[], list[str]],
    evidenced: Callable[[pytest.Item], tuple[str, ...]],
) -> None:
    """Register the shard selection when `--paycert-shard K/N` is given (a PaycertError on bad input)."""
    text = str(config.getoption("--paycert-shard") or "")
    if not text:
        return
    index, total = parse_shard(text)
    given = str(config.getoption("--paycert-durations-from") or "")
    durations_from = Path(given) if given else latest_whole_run(reports_root)
    if durations_from is not None:
        load_durations(durations_from)  # unreadable: stop before anything runs, with one line
    config.pluginmanager.register(ShardSelection(index, total, durations_from, scope, evidenced), PLUGIN_NAME)


def shard_info(config: pytest.Config) -> ShardInfo | None:
    return config.stash.get(SHARD_INFO, None)
