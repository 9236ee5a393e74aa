"""`paycert run -n N`: the selected tests split into N shards that run at once, then merged into one report.

Each worker is a whole `paycert run --shard K/N` of its own: with no target it starts its own embedded
sandbox, so no two workers share a sandbox's one-per-account state (paylican's configured webhook endpoint,
the test clock that SEC-ACCESS and the merchant suite move). That is why this is N processes and not
pytest-xdist workers inside one session, which would share one sandbox and one webhook registration. Against
a target file the workers share the target, as N CI jobs of a matrix would.

The workers share one queue of units (a suite module, the phone Chromium's tests), longest first, and each
claims the next as it frees up (paycert/plugin/shard.py, `ClaimedSelection`): a split fixed in advance is
balanced by durations measured elsewhere and came out seconds uneven when the workers share the cores.

The merge is `paycert merge`'s (paycert/report/merge.py): the verdict and every criterion are judged on all
the shards' results together, exactly as one serial run judges them.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.markup import escape

from paycert.core.errors import PaycertError
from paycert.plugin.durations import REFERENCE, durations_for

# What each worker must not be told again: the parent decides the report folder, the split and its durations.
_OWN_OPTIONS = {"-n", "--workers", "--report-dir", "--shard", "--durations-from", "--claim-dir"}
# A shard's own report files; everything else in its run folder (screenshots, pacts) joins the merged run.
_SHARD_FILES = {"readiness.json", "readiness.html", "junit.xml", "results.json", "allure-results"}


def worker_argv(argv: Sequence[str]) -> list[str]:
    """`paycert run`'s arguments without the options the parent sets for each worker."""
    kept: list[str] = []
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        name = token.split("=", 1)[0]
        if name in _OWN_OPTIONS:
            skip = "=" not in token
            continue
        if token.startswith("-n") and token[2:].isdigit():  # -n2
            continue
        kept.append(token)
    return kept


def run_in_parallel(
    workers: int,
    argv: Sequence[str],
    *,
    report_dir: Path,
    run_id: str,
    durations_from: Path | None,
    conditional_ok: bool,
    max_seconds: float,
    console: Console,
) -> int:
    """Run N shard workers at once, merge their reports into `report_dir/run_id`; the exit code of the whole."""
    try:
        # Read here as each worker will read it: an unreadable folder stops the run before any worker starts.
        durations = durations_for(durations_from, report_dir)
    except PaycertError as exc:
        print(f"paycert: {exc}", file=sys.stderr)
        return 2
    console.print(f"{workers} shards, {_balanced_by(durations.source)}", highlight=False)
    work = Path(tempfile.mkdtemp(prefix="paycert-workers-"))
    # The queue of units the workers share (paycert/plugin/shard.py, ClaimedSelection).
    claims = work / "claims"
    claims.mkdir()
    processes: list[subprocess.Popen[str]] = []
    try:
        for k in range(1, workers + 1):
            args = [sys.executable, "-m", "paycert", "run", *worker_argv(argv)]
            args += ["--shard", f"{k}/{workers}", "--report-dir", str(work / f"shard-{k}")]
            args += ["--claim-dir", str(claims)]
            args.append("--data-only")  # the merge renders the pages for people, once
            # Without a run folder each worker, in a fresh report folder of its own, takes paycert's reference.
            if durations.run is not None:
                args += ["--durations-from", str(durations.run)]
            process = subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
            )
            processes.append(process)
        relays = [
            threading.Thread(target=_relay, args=(p.stdout, f"[{k}/{workers}] ", console), daemon=True)
            for k, p in enumerate(processes, start=1)
        ]
        for relay in relays:
            relay.start()
        warm = threading.Thread(target=_import_the_merge, name="paycert-merge-imports", daemon=True)
        warm.start()
        for process in processes:
            try:
                process.wait(timeout=max_seconds + 120)
            except subprocess.TimeoutExpired:
                process.kill()  # past the run's own deadline: its shard counts as missing
        for relay in relays:
            relay.join(timeout=10)
        warm.join()
        return _merge(work, workers, report_dir, run_id, conditional_ok, console)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


def _import_the_merge() -> None:
    """Import what the merge needs while the workers run, at the lowest priority: ~0.3 s off the run's end.

    The parent only waits until then; imported after the workers end, these modules were on the critical path.
    """
    with contextlib.suppress(OSError, AttributeError):  # a platform without per-thread priorities
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    for module in _MERGE_MODULES:
        importlib.import_module(module)


# The modules `_merge` imports from (the report's renderers come with paycert.report.writer).
_MERGE_MODULES = (
    "paycert.cli.progress",
    "paycert.core.criteria",
    "paycert.report.merge",
    "paycert.report.writer",
    "paycert.targets.home",
)


def _balanced_by(source: str) -> str:
    if source == REFERENCE:
        return "balanced by paycert's reference durations (no earlier whole run in the report folder)"
    if source:
        return f"balanced by the durations of run {source}"
    return "no durations to balance them: round-robin"


def _relay(stream: IO[str] | None, prefix: str, console: Console) -> None:
    """A worker's output, line by line, marked with its shard (CI logs keep every worker's record)."""
    if stream is None:
        return
    for line in stream:
        console.print(f"[dim]{prefix}[/dim]{escape(line.rstrip())}", highlight=False, soft_wrap=True)


def _merge(
    work: Path, workers: int, report_dir: Path, run_id: str, conditional_ok: bool, console: Console
) -> int:
    # Imported once the workers run: the parent starts them first (see paycert/cli/run_cmd.py).
    from paycert.cli.progress import summary_table
    from paycert.core.criteria import Catalogue
    from paycert.report.merge import load_shard, merge_shards
    from paycert.report.writer import LATEST, load_readiness, write_report, write_results
    from paycert.targets.home import specs_dir

    folders = [
        run
        for k in range(1, workers + 1)
        for run in sorted((work / f"shard-{k}").glob("*"))
        if run.is_dir() and run.name != LATEST and (run / "readiness.json").is_file()
    ]
    try:
        shards = [load_shard(folder) for folder in folders]
        readiness, results = merge_shards(
            shards, Catalogue.from_path(specs_dir() / "readiness.yaml"), run_id=run_id
        )
    except PaycertError as exc:
        console.print(f"paycert: the workers' reports could not be merged: {exc}", highlight=False)
        return 2
    merged = report_dir / run_id
    merged.mkdir(parents=True, exist_ok=True)
    for folder in folders:  # screenshots and pact files, named relative to the run folder
        for item in folder.iterdir():
            if item.name in _SHARD_FILES:
                continue
            if item.is_dir():
                shutil.copytree(item, merged / item.name, dirs_exist_ok=True)
            elif not (merged / item.name).exists():
                shutil.copy2(item, merged / item.name)
    write_results(merged, results)
    paths = write_report(readiness, report_dir, run_id)
    console.print(summary_table(load_readiness(paths.json)))
    console.print(f"{readiness.verdict.value}  {readiness.verdict_reason}", highlight=False)
    console.print(f"report: {paths.html}", highlight=False)
    if readiness.harness_errors:
        print(f"paycert: could not certify everything: {readiness.harness_errors[0]}", file=sys.stderr)
        return 2
    verdict = readiness.verdict.value
    return 0 if verdict == "GO" or (verdict == "CONDITIONAL" and conditional_ok) else 1
