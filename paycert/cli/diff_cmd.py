"""`paycert diff RUN_A RUN_B`: what changed between two runs' readiness, and whether it got worse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from paycert.core.errors import PaycertError
from paycert.report.diff import diff_runs, render_text
from paycert.report.writer import load_run

EXIT_SAME_OR_BETTER = 0
EXIT_WORSE = 1
EXIT_HARNESS = 2


def diff(
    run_a: Annotated[Path, typer.Argument(help="The baseline run folder.")],
    run_b: Annotated[Path, typer.Argument(help="The run folder to compare with it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as one JSON document.")] = False,
) -> None:
    """Compare two runs: new failures, fixed, changed reasons or evidence, criteria added or removed.

    Exit 0 when nothing got worse; 1 when a criterion got worse on a gateway (a pass or not-applicable became
    not evaluated or a failure, not evaluated became a failure, a gateway's cell appeared failing) or the
    verdict did; 2 when a run folder is not a finished run.
    """
    try:
        found = diff_runs(load_run(run_a), load_run(run_b))
    except (PaycertError, KeyError, TypeError) as exc:
        typer.echo(f"paycert diff: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(EXIT_HARNESS) from None
    if as_json:
        typer.echo(json.dumps(found.to_dict(), indent=2, sort_keys=True))
    else:
        for line in render_text(found):
            typer.echo(line)
    raise typer.Exit(EXIT_WORSE if found.worse else EXIT_SAME_OR_BETTER)
