"""`paycert report RUN_DIR`: write a finished run's report again with the installed paycert."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paycert.core.criteria import Catalogue
from paycert.core.errors import PaycertError
from paycert.report.rerender import rerender
from paycert.targets.home import specs_dir

EXIT_HARNESS = 2


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder (reports/<run-id> or reports/latest).")],
) -> None:
    """Re-render a finished run's readiness.html, readiness.json, junit.xml and allure-results/.

    The report is judged again from the run's results.json and the run facts in its readiness.json, with
    this paycert's catalogue and rules (e.g. after an upgrade). Exit 0 when written; 2 when RUN_DIR is not
    a finished run.
    """
    try:
        done = rerender(run_dir, Catalogue.from_path(specs_dir() / "readiness.yaml"))
    except (PaycertError, OSError, ValueError) as exc:
        typer.echo(f"paycert report: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(EXIT_HARNESS) from None
    if done.verdict_changed:
        typer.echo(
            f"verdict {done.previous_verdict} -> {done.verdict}: this paycert judges the same results differently"
        )
    typer.echo(f"{done.verdict}: {done.paths.html}")
