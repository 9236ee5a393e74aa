"""paycert's benchmark harness: each comparison of issue 15, A (paycert) against B (its baseline).

`python bench/run.py [NAME ...]` runs the named comparisons (all by default) in this one process tree, A and B
alternated, prints medians and A/B ratios, and writes them to bench/results.json with the machine they ran on
and the load around them. `--list` names the comparisons; `--rounds N` overrides every comparison's rounds. A comparison run again
replaces its entry in the results file; the others keep theirs (each entry says when it ran, and the load).
Loopback only; every command has a timeout. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from comparisons import BENCH, COMPARISONS, REPO, Context
from rich.console import Console
from rich.table import Table

RESULTS = BENCH / "results.json"
console = Console(width=140)


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "paycert": importlib.metadata.version("paycert"),
        "schemathesis": importlib.metadata.version("schemathesis"),
        "load_average_start": list(os.getloadavg()),
    }


def compile_paycert() -> str:
    """Compile paycert's modules to bytecode once, before anything is measured, as `pip install` does.

    An installed paycert runs from .pyc files compiled at install time. This checkout is an editable install,
    and where PYTHONDONTWRITEBYTECODE=1 is set (this container sets it) Python never writes them, so every
    measured run compiled all of paycert from source again (~0.25 s of CPU of a run, issue 15) and the
    warm-up round could not warm that cache. Compiled here, into the checkout's `__pycache__` folders (ignored
    by git); a module edited since is compiled from source as before: Python checks each .pyc's source.
    Both sides of every comparison run from the same files. pytest's rewritten suite modules are not
    compiled here: no installation compiles those.
    """
    package = REPO / "paycert"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True, timeout=600)
    return f"compileall {package.relative_to(REPO)} before the first comparison (as pip install does)"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def merged(document: dict[str, Any], path: Path) -> dict[str, Any]:
    """This run's comparisons over those of the results file already there: it keeps each one's latest."""
    if not path.is_file():
        return document
    before = json.loads(path.read_text(encoding="utf-8"))
    earlier = before.get("comparisons", {})
    kept = {name: result for name, result in earlier.items() if name not in document["comparisons"]}
    for result in kept.values():  # an entry from before these fields: its run's date and load as a whole
        result.setdefault("ran_at", before.get("date"))
        result.setdefault(
            "load_average_1min",
            {
                "start": before["machine"]["load_average_start"][0],
                "end": before["machine"]["load_average_end"][0],
                "of": f"the whole `{before.get('command')}`",
            },
        )
    return {**document, "comparisons": {**kept, **document["comparisons"]}}


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def table(results: list[dict[str, Any]]) -> Table:
    view = Table(title="paycert benchmarks (A = paycert, B = baseline; medians)")
    for column in ("comparison", "A wall s", "A cpu s", "B wall s", "B cpu s", "A/B wall", "A/B cpu"):
        view.add_column(column, justify="left" if column == "comparison" else "right")
    view.add_column("target")
    view.add_column("met")
    for result in results:
        target = (result.get("target") or {}).get("text", "")
        met = {True: "yes", False: "NO", None: "-"}[result.get("target_met")]
        medians = result.get("medians", {})
        a, b = medians.get("A", {}), medians.get("B", {})
        ratios = result.get("ratios", {})
        if result["name"] == "sandbox" and result.get("phases"):
            a = {"wall_s": result["wall_s"], "cpu_s": result["cpu_s"]}
        if result.get("status") not in ("ok", None):
            target = f"{result['status']}: {result.get('reason', '')} {target}".strip()
        view.add_row(
            result["name"],
            _seconds(a.get("wall_s")),
            _seconds(a.get("cpu_s")),
            _seconds(b.get("wall_s")),
            _seconds(b.get("cpu_s")),
            f"{ratios['wall_s']:.2f}x" if "wall_s" in ratios else "",
            f"{ratios['cpu_s']:.2f}x" if "cpu_s" in ratios else "",
            target,
            met,
        )
    return view


def sandbox_lines(result: dict[str, Any]) -> list[str]:
    lines = [
        f"  {name}: {p['payments_per_s']:.0f}/s, {p['ratio_to_baseline']:.2f}x a trivial uvicorn app"
        + (f", {p['lost']} webhooks lost" if p["lost"] is not None else "")
        for name, p in result.get("phases", {}).items()
    ]
    return [f"sandbox ({result.get('stored')} stored in the second round):", *lines] if lines else []


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="comparisons to run (default: all)")
    parser.add_argument("--list", action="store_true", help="name the comparisons and exit")
    parser.add_argument("--rounds", type=int, help="rounds of every comparison (default: each one's own)")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"default: {RESULTS.relative_to(REPO)}")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (logs, reports)")
    return parser.parse_args()


def main() -> int:
    args = parse()
    if args.list:
        for comparison in COMPARISONS.values():
            print(f"{comparison.name:11} {comparison.rounds} round(s)  {comparison.what}")
        return 0
    unknown = sorted(set(args.names) - set(COMPARISONS))
    if unknown:
        print(
            f"unknown comparison(s): {', '.join(unknown)}; known: {', '.join(COMPARISONS)}", file=sys.stderr
        )
        return 2
    names = args.names or list(COMPARISONS)
    work = Path(tempfile.mkdtemp(prefix="paycert-bench-run-"))
    env = {**os.environ, "PAYCERT_HOME": str(REPO)}
    context = Context(work, env, work / "commands.log")
    document: dict[str, Any] = {
        "date": _now(),
        "command": " ".join(["python", "bench/run.py", *sys.argv[1:]]),
        "machine": machine(),
        "comparisons": {},
    }
    document["bytecode"] = compile_paycert()
    started = time.monotonic()
    console.print(f"working folder {work} (commands' output: {context.log})", highlight=False)
    try:
        for done, name in enumerate(names, start=1):
            console.print(f"[bold]{name}[/]: {COMPARISONS[name].what}", highlight=False)
            ran_at, load_before, clock = _now(), os.getloadavg()[0], time.monotonic()
            result = COMPARISONS[name].run(context, args.rounds)
            result["ran_at"], result["elapsed_s"] = ran_at, round(time.monotonic() - clock, 1)
            result["load_average_1min"] = {"start": load_before, "end": os.getloadavg()[0]}
            document["comparisons"][name] = result
            if not any(COMPARISONS[later].uses_sandbox for later in names[done:]):
                context.close()  # the shared sandbox idles no longer beside the comparisons without it
    finally:
        context.close()
        document["machine"]["load_average_end"] = list(os.getloadavg())
        document["elapsed_s"] = round(time.monotonic() - started, 1)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    results = list(document["comparisons"].values())
    console.print(table(results))
    for result in results:
        if result["name"] == "sandbox":
            for line in sandbox_lines(result):
                console.print(line, highlight=False)
        elif result.get("status") == "not available":
            console.print(f"{result['name']}: {result['reason']}", highlight=False)
    load = document["machine"]
    console.print(
        f"load average at start {load['load_average_start'][0]:.2f}, at end {load['load_average_end'][0]:.2f}"
        f" on {load['nproc']} cores; {document['elapsed_s']:.0f} s",
        highlight=False,
    )
    args.output.write_text(json.dumps(merged(document, args.output), indent=2) + "\n", encoding="utf-8")
    console.print(f"written: {args.output}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
