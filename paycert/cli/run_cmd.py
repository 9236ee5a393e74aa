"""`paycert run`: certify a target (the embedded sandbox by default) and write the readiness report."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from paycert.cli.embedded import stop_all_embedded
from paycert.cli.heap import restores_collector
from paycert.cli.signals import exits_on_signals
from paycert.core.run_ids import new_run_id

# What a run needs beyond its options is imported when it runs (`certify`, or `run_in_parallel` for -n): the
# parent of `-n` workers then starts them at once, not after ~0.3 s of imports it has no use for (issue 15).
if TYPE_CHECKING:
    from paycert.report import Selection

EXIT_GO = 0
EXIT_NOT_GO = 1
EXIT_HARNESS = 2
SUITES = (
    "scenarios",
    "lifecycle",
    "webhooks",
    "contract",
    "merchant",
    "pacts",
    "security",
    "kpi",
    "experience",
    "attestations",
)
INNER_CONFIG = Path(__file__).with_name("inner-pytest.ini")

# What a run reports goes to stdout; stderr carries only the one line saying why it could not certify.
console = Console(width=120)


@exits_on_signals(cleanup=stop_all_embedded)  # Ctrl-C/SIGTERM: no temp folder left, exit 130/143
@restores_collector
def run(
    target: Annotated[
        Path | None, typer.Option(help="Target file; default: start the embedded sandbox.")
    ] = None,
    gateway: Annotated[
        list[str] | None, typer.Option("--gateway", "-g", help="Only these gateways (repeatable).")
    ] = None,
    suite: Annotated[
        list[str] | None, typer.Option("--suite", "-s", help=f"Only these suites: {', '.join(SUITES)}.")
    ] = None,
    criterion: Annotated[
        list[str] | None, typer.Option("--criterion", "-c", help="Only tests of these criteria.")
    ] = None,
    keyword: Annotated[str | None, typer.Option("-k", help="pytest -k expression, passed through.")] = None,
    report_dir: Annotated[Path, typer.Option(help="Where run folders are written.")] = Path("reports"),
    browser: Annotated[
        bool, typer.Option("--browser", help="Pay on hosted pages in real headless Chromium.")
    ] = False,
    seed: Annotated[int | None, typer.Option(help="Seed for generated data (default: fixed, for CI).")] = 0,
    conditional_ok: Annotated[
        bool, typer.Option("--conditional-ok", help="Exit 0 on CONDITIONAL, not 1.")
    ] = False,
    fault: Annotated[
        list[str] | None, typer.Option("--sandbox-fault", help="Start the embedded sandbox with this fault.")
    ] = None,
    tls: Annotated[
        bool,
        typer.Option(
            "--tls/--no-tls",
            help="Serve the embedded sandbox over HTTPS (default); --no-tls: plain http://, which fails SEC-TLS and SEC-HTTPS.",
        ),
    ] = True,
    allow_live_writes: Annotated[
        bool, typer.Option("--allow-live-writes", help="Against live targets, also move (capped) money.")
    ] = False,
    contract_examples: Annotated[
        int, typer.Option("--contract-examples", help="Contract suites: examples per operation and phase.")
    ] = 10,
    contract_budget: Annotated[
        float,
        typer.Option("--contract-budget", help="Contract suites: seconds for the whole contract phase."),
    ] = 300.0,
    max_duration: Annotated[
        float,
        typer.Option(
            "--max-duration",
            min=1,
            help="Seconds for the whole run; what is left then is not evaluated (exit 2).",
        ),
    ] = 1800.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show pytest's own output too.")] = False,
    plan: Annotated[
        bool, typer.Option("--plan", help="Print every kind of write the run would make, send nothing.")
    ] = False,
    attestations: Annotated[
        Path | None,
        typer.Option(
            "--attestations",
            help="Attestations file for the ATT-* criteria (default: the target's `attestations:`).",
        ),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            help="Run only shard K of N (K/N) of the selected tests, e.g. one CI job of a matrix. Its report "
            "judges only its own tests, so it exits 0 once written (2 on harness errors): `paycert merge` the "
            "shards for the release verdict and exit code.",
        ),
    ] = None,
    durations_from: Annotated[
        Path | None,
        typer.Option(
            "--durations-from",
            help="Run folder whose per-test durations balance --shard (default: the newest unsharded run "
            "in --report-dir, else paycert's reference durations of the default run). Give every shard the same one.",
        ),
    ] = None,
    data_only: Annotated[
        bool,
        typer.Option(
            "--data-only",
            hidden=True,
            help="Write readiness.json and results.json only (what `-n` asks of its workers).",
        ),
    ] = False,
    claim_dir: Annotated[
        Path | None,
        typer.Option(
            "--claim-dir",
            hidden=True,
            help="With --shard: claim units from the queue the workers share in this folder (what `-n` asks "
            "of its workers).",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-n",
            min=1,
            max=16,
            help="Run the selected tests as N shards at once (each with its own embedded sandbox) and merge "
            "them into one report.",
        ),
    ] = 1,
) -> None:
    """Certify a payment integration: run the suites, write reports/<run>/readiness.{html,json}, exit 0 on GO."""
    run_id = new_run_id()
    if workers > 1:
        from paycert.cli.parallel import run_in_parallel

        if shard is not None or plan:
            typer.echo(
                "paycert: -n runs shards itself; it cannot be combined with --shard or --plan", err=True
            )
            raise typer.Exit(EXIT_HARNESS)
        raise typer.Exit(
            run_in_parallel(
                workers,
                sys.argv[2:],
                report_dir=report_dir,
                run_id=run_id,
                durations_from=durations_from,
                conditional_ok=conditional_ok,
                max_seconds=max_duration,
                console=console,
            )
        )
    clock_started = time.monotonic()
    import pytest

    from paycert.cli.embedded import start_embedded, stop_embedded
    from paycert.cli.heap import CollectorBack, pause_collector
    from paycert.cli.progress import ProgressLines, summary_table, verdict_line
    from paycert.core.criteria import Catalogue
    from paycert.core.errors import PaycertError
    from paycert.core.run_ids import utc_now_iso
    from paycert.gateways.write_plan import plan_writes, render
    from paycert.plugin.durations import load_durations
    from paycert.plugin.session import LoadedTarget
    from paycert.plugin.shard import parse_shard
    from paycert.report import Selection, load_readiness
    from paycert.sandbox.faults import UnknownFaultError
    from paycert.targets.attestations import load_attestations
    from paycert.targets.home import find_home
    from paycert.targets.target import load_target

    started = utc_now_iso()
    pause_collector()  # until the tests are collected: see paycert/cli/heap.py
    selection = Selection(
        suites=tuple(suite or ()),
        criteria=tuple(criterion or ()),
        gateways=tuple(gateway or ()),
        keyword=keyword or "",
    )
    server = None
    try:
        home = find_home()
        Catalogue.from_path(home / "specs" / "readiness.yaml")  # a broken catalogue stops the run here
        if shard is not None:
            parse_shard(shard)  # a bad K/N stops the run here, one line
        if durations_from is not None:
            load_durations(durations_from)  # so does a folder without results
        unknown_suites = sorted(set(suite or ()) - set(SUITES))
        if unknown_suites:
            raise PaycertError(f"unknown suite(s) {', '.join(unknown_suites)}; known: {', '.join(SUITES)}")
        missing = [s for s in (suite or SUITES) if not (home / "suites" / s).is_dir()]
        if missing:
            raise PaycertError(f"suite folder(s) missing from {home / 'suites'}: {', '.join(missing)}")
        if target is None:
            server, target = start_embedded(frozenset(fault or ()), tls=tls)
            console.print(f"embedded sandbox on {server.base_url}", highlight=False)
        whole = loaded = load_target(target)  # the session takes it as it is (LoadedTarget), -g and all
        load_attestations(attestations or loaded.attestations)  # a bad file stops the run here, one line
        if gateway:
            loaded = loaded.only(list(gateway))
        if plan:
            stop_embedded(server)
            writes_allowed = allow_live_writes or loaded.allow_live_writes
            for line in render(
                plan_writes(loaded, allow_writes=writes_allowed), loaded, allow_writes=writes_allowed
            ):
                console.print(line, highlight=False, markup=False)
            raise typer.Exit(EXIT_GO)
    except (PaycertError, UnknownFaultError) as exc:  # a --sandbox-fault typo is a ValueError of the sandbox
        stop_embedded(server)
        return _cannot_run(str(exc), run_id, started, report_dir, selection, target)

    try:
        args = [str(home / "suites" / s) for s in dict.fromkeys(suite or SUITES)]
        args += [
            "-c",
            str(INNER_CONFIG),
            f"--rootdir={home}",
            f"--confcutdir={home / 'suites'}",
            "-p",
            "no:cacheprovider",
            "--paycert-target",
            str(target),
            "--paycert-report-dir",
            str(report_dir),
            "--paycert-run-id",
            run_id,
            "--paycert-selection",
            json.dumps(selection.to_dict()),
            "--paycert-command",
            shlex.join(["paycert", *sys.argv[1:]]),
            "--paycert-target-file",
            "" if server is not None else str(target),
            "--paycert-faults",
            ",".join(fault or ()),
        ]
        if seed is not None:
            args += ["--paycert-seed", str(seed)]
        args += ["--paycert-contract-examples", str(contract_examples)]
        args += ["--paycert-contract-budget", str(min(contract_budget, max_duration))]
        args += ["--paycert-max-duration", str(max_duration), "--paycert-run-started", repr(clock_started)]
        if gateway:
            args += ["--paycert-gateway", ",".join(gateway)]
        if keyword:
            args += ["-k", keyword]
        if browser:
            args.append("--paycert-browser")
        if allow_live_writes:
            args.append("--paycert-allow-live-writes")
        if attestations is not None:
            args += ["--paycert-attestations", str(attestations)]
        if shard is not None:
            args += ["--paycert-shard", shard]
        if data_only:
            args.append("--paycert-data-only")
        if claim_dir is not None:
            args += ["--paycert-claim-dir", str(claim_dir)]
        if durations_from is not None:
            args += ["--paycert-durations-from", str(durations_from)]
        args += ["-q", "--no-header", "-rN"] if verbose else ["-p", "no:terminal"]
        console.print(
            f"certifying {loaded.name}: {', '.join(loaded.gateways)}  (run {run_id})", highlight=False
        )
        # Exactly the plugins a certification needs, not every pytest plugin installed beside paycert: their
        # import (and pytest's assertion rewriting of them) is a fixed cost of every run, and a stray plugin
        # must not change a verdict. Hypothesis's own plugin stays: the merchant suite's properties use it.
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        # Handed over as modules, not `-p` names: pytest would compile a `-p` module again from source with
        # its assertion rewriting on every run, bypassing the installed bytecode.
        import _hypothesis_pytestplugin  # type: ignore[import-untyped]

        from paycert.plugin import plugin as paycert_plugin

        # A live bar where stdout is a terminal; not beside pytest's own output (-v), which would tear it.
        progress = ProgressLines.from_stdout(width=console.width, live=False if verbose else None)
        try:
            code = pytest.main(
                args,
                plugins=[
                    paycert_plugin,
                    _hypothesis_pytestplugin,
                    progress,
                    CollectorBack(),
                    LoadedTarget(target, whole),
                ],
            )
        finally:
            progress.close()
    finally:
        stop_embedded(server)
    readiness_file = report_dir / run_id / "readiness.json"
    if not readiness_file.is_file():
        return _cannot_run(
            f"the suites did not run (pytest exit {int(code)})",
            run_id,
            started,
            report_dir,
            selection,
            target,
        )
    document = load_readiness(readiness_file)
    if data_only:
        # A worker of `-n`: its parent prints the merged table and verdict. This shard's own would only
        # mislead (a criterion whose other gateways ran on the other worker reads "not evaluated" here).
        console.print(f"shard data: {readiness_file}", highlight=False)
    else:
        console.print(summary_table(document))
        console.print(verdict_line(document), highlight=False)
        console.print(f"report: {report_dir / run_id / 'readiness.html'}", highlight=False)
    if code == pytest.ExitCode.INTERNAL_ERROR:
        # The plugin said why in one line; what was measured stays in readiness.json, but not all was written.
        typer.echo("paycert: the report is incomplete (see the line above): not certifying", err=True)
        raise typer.Exit(EXIT_HARNESS)
    if document.get("harness_errors"):
        first = document["harness_errors"][0]
        typer.echo(f"paycert: could not certify everything: {first}", err=True)
        raise typer.Exit(EXIT_HARNESS)
    if shard is not None:
        # A shard's verdict covers only its slice of the tests (another gateway's half of a criterion ran on
        # another shard), so it gates nothing: it ran (0) or it could not (2); `paycert merge` gives the verdict.
        raise typer.Exit(EXIT_GO)
    if document["verdict"] == "GO" or (document["verdict"] == "CONDITIONAL" and conditional_ok):
        raise typer.Exit(EXIT_GO)
    raise typer.Exit(EXIT_NOT_GO)


def _cannot_run(
    reason: str, run_id: str, started: str, report_dir: Path, selection: Selection, target: Path | None
) -> None:
    """Exit 2 with a one-line reason, after writing a report that says nothing was evaluated."""
    from paycert.core.criteria import Catalogue
    from paycert.core.errors import PaycertError
    from paycert.core.run_ids import utc_now_iso
    from paycert.report import RunInfo, build_readiness, write_report
    from paycert.targets.home import find_home

    line = reason.splitlines()[0] if reason else "paycert could not run"
    try:
        catalogue = Catalogue.from_path(find_home() / "specs" / "readiness.yaml")
        run = RunInfo(
            run_id=run_id,
            started_at=started,
            finished_at=utc_now_iso(),
            target=str(target) if target else "embedded sandbox",
            selection=selection,
            harness_errors=(line,),
        )
        paths = write_report(build_readiness(catalogue, [], run), report_dir, run_id)
        typer.echo(f"paycert: {line} (report: {paths.html})", err=True)
    except (PaycertError, OSError):
        typer.echo(f"paycert: {line}", err=True)
    raise typer.Exit(EXIT_HARNESS)
