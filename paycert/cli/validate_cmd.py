"""`paycert validate`: check targets, profiles and specs offline, one `file:line:column: message` each."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paycert.core.errors import PaycertError

EXIT_PROBLEMS = 2


def validate(
    profiles: Annotated[
        list[str] | None,
        typer.Argument(
            help="Profiles to check: a built-in gateway id or a profile.yaml path. Default: the built-in ones.",
            show_default=False,
        ),
    ] = None,
    target: Annotated[
        list[Path] | None,
        typer.Option(
            "--target", "-t", help="A target file to check, with the profiles it names (repeatable)."
        ),
    ] = None,
    reference: Annotated[
        bool,
        typer.Option(
            "--reference",
            help="Print the profile reference generated from specs/profile.schema.json (Markdown); check nothing.",
        ),
    ] = False,
) -> None:
    """Check target files, profiles, their specs and the pointers between them, without any network.

    Each problem is printed as file:line:column: message. Exit 0 when there is none (warnings allowed),
    2 when there is one.
    """
    from paycert.targets.reference import reference_text
    from paycert.targets.validate import validate as check

    try:
        if reference:
            typer.echo(reference_text(), nl=False)
            return
        found = check(target or [], profiles or [])
    except PaycertError as exc:  # no specs/ to check against: nothing was checked
        typer.echo(f"paycert validate: {exc}", err=True)
        raise typer.Exit(EXIT_PROBLEMS) from None
    for problem in found.problems:
        typer.echo(str(problem))
    files = f"{len(found.checked)} file{'s' if len(found.checked) != 1 else ''}"
    if found.errors:
        warned = f", {len(found.warnings)} warning(s)" if found.warnings else ""
        typer.echo(f"paycert validate: {len(found.errors)} error(s){warned} in {files}", err=True)
        raise typer.Exit(EXIT_PROBLEMS)
    warned = f" ({len(found.warnings)} warning(s))" if found.warnings else ""
    typer.echo(f"paycert validate: {files} checked, no errors{warned}", err=True)
