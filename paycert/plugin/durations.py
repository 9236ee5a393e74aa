"""Which durations balance a split of the tests into shards, read without pytest.

`paycert run -n` reads them before it starts its workers, so this is kept apart from the shard plugin
(paycert/plugin/shard.py, which needs pytest): the workers start without waiting for pytest's import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from paycert.core.errors import PaycertError
from paycert.targets.home import PACKAGE_DATA

RESULTS_NAME = "results.json"
# `ShardInfo.durations_from` when paycert's own reference durations balanced the split.
REFERENCE = "reference"
REFERENCE_FILE = PACKAGE_DATA / "reference-durations.json"
# A pytest test id at the start of a results.json id: `<file>.py::<name>[params]`, then what a test that
# records one result per criterion appends (`::CON-STATUS`). Criterion ids hold a dash, so never a name.
TEST_ID = re.compile(r"^(?P<test>[^:\[]+\.py(?:::[A-Za-z_]\w*)+(?:\[.*?\])?)(?:::.*)?$")


@dataclass(frozen=True)
class Durations:
    """Seconds per test that balance a split, and where they come from (`ShardInfo.durations_from`)."""

    source: str  # a run id, REFERENCE, or "" (none: every test counts the same)
    seconds: Mapping[str, float] = field(default_factory=dict)
    run: Path | None = None  # the run folder they were read from (None: the reference, or none)


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
        info = document.get("run") or {}
        # A part of the suites (-s, -c, -k) knows a few tests: every other would count as their average,
        # a worse guess than the reference durations. A run of some gateways (-g) is whole for them.
        chosen = info.get("selection") or {}
        partial = any(chosen.get(name) for name in ("suites", "criteria", "keyword"))
        if (run / RESULTS_NAME).is_file() and not info.get("shard") and not partial:
            return run
    return None


def run_name(run_dir: Path) -> str:
    """The run id of a run folder (`reports/latest` names the run it points at, not "latest")."""
    try:
        return str(json.loads((run_dir / "readiness.json").read_text(encoding="utf-8"))["run"]["run_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return run_dir.resolve().name


def load_reference(path: Path = REFERENCE_FILE) -> dict[str, float]:
    """paycert's reference durations (seconds per test id of the embedded default run); {} when not shipped."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {str(nodeid): float(seconds) for nodeid, seconds in raw.items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise PaycertError(f"{path}: unreadable reference durations ({exc}); reinstall paycert") from None


def durations_for(given: Path | None, reports_root: Path) -> Durations:
    """What balances a split: `given`, else the newest whole run in `reports_root`, else the reference.

    An unreadable `given` is a PaycertError (one line), raised before anything runs.
    """
    run = given or latest_whole_run(reports_root)
    if run is not None:
        return Durations(run_name(run), load_durations(run), run)
    reference = load_reference()
    return Durations(REFERENCE if reference else "", reference)


def reference_durations(run_dir: Path) -> dict[str, float]:
    """A run's durations as the reference file holds them: by pytest test id (a test recorded once per
    criterion folded into its test, the longest), sorted, in seconds rounded to 0.01."""
    found: dict[str, float] = {}
    for nodeid, seconds in load_durations(run_dir).items():
        match = TEST_ID.match(nodeid)
        if match is None:
            continue  # a check of the whole run (`paycert::responses-of-the-run[...]`), not a test
        test = match.group("test")
        found[test] = max(seconds, found.get(test, 0.0))
    return {test: round(seconds, 2) for test, seconds in sorted(found.items())}
