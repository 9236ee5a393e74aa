"""Regenerate paycert's reference durations (paycert/_data/reference-durations.json) from a whole run.

    paycert run --report-dir /tmp/ref && python tools/reference_durations.py /tmp/ref/latest

`paycert run --shard K/N` and `paycert run -n N` balance their split with these when the report folder holds
no earlier whole run: the first split run a team makes, and the benchmark. So they must come from what that
run is: the default run (every suite, every gateway, no fault) against the embedded sandbox, one process,
on a machine doing nothing else. Any other run is refused. Regenerate after a change that moves a test's
time by a second or more, or adds a slow test; a test the file does not know counts as the average.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from paycert.core.errors import PaycertError
from paycert.plugin.durations import REFERENCE_FILE, reference_durations
from paycert.report.writer import load_run

EMBEDDED = "embedded reference sandbox"


def refusal(run: dict[str, object]) -> str:
    """Why the durations of this run (readiness.json's `run`) cannot be the reference; "" when they can."""
    selection = run.get("selection") or {}
    if run.get("shard") or run.get("merged_from"):
        return "a shard or a merge of shards: their tests ran beside another process"
    if run.get("target") != EMBEDDED or run.get("target_file"):
        return f"a run of {run.get('target')!r}, not of the {EMBEDDED}"
    if isinstance(selection, dict) and any(selection.values()):
        return "a run of a selection (-s, -c, -g or -k), not the default run"
    if run.get("faults"):
        return "a rehearsal with --sandbox-fault"
    if run.get("harness_errors"):
        return "a run with harness errors: some tests did not run to their end"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="the run folder of a serial default `paycert run`")
    parser.add_argument("-o", "--output", type=Path, default=REFERENCE_FILE, help="default: %(default)s")
    args = parser.parse_args(argv)
    try:
        why = refusal(load_run(args.run_dir)["run"])
        if why:
            raise PaycertError(f"{args.run_dir}: {why}")
        durations = reference_durations(args.run_dir)
    except PaycertError as exc:
        print(f"reference_durations: {exc}", file=sys.stderr)
        return 2
    args.output.write_text(json.dumps(durations, indent=1) + "\n", encoding="utf-8")
    print(f"{args.output}: {len(durations)} tests, {sum(durations.values()):.1f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
