"""`paycert merge RUN_DIR... -o OUT`: one readiness report from the shards of a split run."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from paycert.core.criteria import Catalogue
from paycert.core.errors import PaycertError
from paycert.report.merge import load_shard, merge_shards
from paycert.report.writer import write_report, write_results
from paycert.targets.home import specs_dir

EXIT_GO = 0
EXIT_NOT_GO = 1
EXIT_HARNESS = 2


def merge(
    run_dirs: Annotated[
        list[Path], typer.Argument(help="The shards' run folders (paycert run --shard K/N).")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The merged run's folder to write.")],
    conditional_ok: Annotated[
        bool, typer.Option("--conditional-ok", help="Exit 0 on CONDITIONAL, not 1.")
    ] = False,
) -> None:
    """Merge the shards of one split run into one report: readiness.json/html, junit.xml, results.json.

    Each criterion is judged on every shard's tests together, as one unsplit run would judge it. Exit 0 GO,
    1 NO-GO or CONDITIONAL, 2 when a shard had harness errors, a shard is missing, or the folders are not
    shards of one run (different target, selection, seed or split: refused, nothing written).
    """
    try:
        shards = [load_shard(folder) for folder in run_dirs]
        out = output.resolve()
        readiness, results = merge_shards(
            shards,
            Catalogue.from_path(specs_dir() / "readiness.yaml"),
            run_id=out.name,
            command=shlex.join(["paycert", *sys.argv[1:]]),
        )
        write_results(out, results)
        paths = write_report(readiness, out.parent, out.name)
    except (PaycertError, OSError, ValueError) as exc:
        typer.echo(f"paycert merge: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(EXIT_HARNESS) from None
    typer.echo(readiness.verdict_reason)
    typer.echo(f"report: {paths.html}")
    if readiness.harness_errors:
        typer.echo(f"paycert merge: could not certify everything: {readiness.harness_errors[0]}", err=True)
        raise typer.Exit(EXIT_HARNESS)
    verdict = readiness.verdict.value
    raise typer.Exit(
        EXIT_GO if verdict == "GO" or (verdict == "CONDITIONAL" and conditional_ok) else EXIT_NOT_GO
    )
