"""`paycert attest`: record a person's attestation for a criterion no test can see (an ATT-* criterion)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from paycert.core.criteria import Catalogue
from paycert.core.errors import PaycertError
from paycert.targets.attestations import Attestation, add_attestation
from paycert.targets.home import specs_dir

EXIT_HARNESS = 2


def attest(
    criterion: Annotated[str, typer.Argument(help="The ATT-* criterion attested, e.g. ATT-PCI-DSS.")],
    by: Annotated[str, typer.Option("--by", help="Who attests: name and role.")],
    evidence: Annotated[
        str, typer.Option("--evidence", help="A link, or a file (relative to the attestations file).")
    ],
    file: Annotated[
        Path, typer.Option("--file", "-f", help="The attestations file to add to (made if missing).")
    ] = Path("attestations.yaml"),
    expires: Annotated[
        str | None, typer.Option("--expires", help="YYYY-MM-DD after which it no longer counts.")
    ] = None,
    detail: Annotated[str, typer.Option("--detail", help="What exactly is attested.")] = "",
    on: Annotated[
        str | None, typer.Option("--on", help="YYYY-MM-DD it was attested (default: today).")
    ] = None,
) -> None:
    """Add an attestation to an attestations file (`paycert run --attestations FILE` reads it)."""
    try:
        catalogue = Catalogue.from_path(specs_dir() / "readiness.yaml")
        attested = [c.id for c in catalogue if c.evidenced_by == "attestation"]
        if criterion not in attested:
            raise PaycertError(
                f"{criterion} is not attested by a person; attested criteria: {', '.join(attested)}"
            )
        attestation = Attestation(
            criterion=criterion,
            by=by.strip(),
            at=_day(on, "--on") if on else datetime.now(UTC).date(),
            evidence=evidence.strip(),
            expires=_day(expires, "--expires") if expires else None,
            detail=detail,
        )
        if not attestation.by or not attestation.evidence:
            raise PaycertError("--by and --evidence must not be empty")
        add_attestation(file, attestation)
    except (PaycertError, OSError) as exc:
        typer.echo(f"paycert: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(EXIT_HARNESS) from None
    until = f", until {attestation.expires.isoformat()}" if attestation.expires else ""
    typer.echo(f"{criterion} attested by {attestation.by} on {attestation.at.isoformat()}{until}: {file}")


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PaycertError(f"{option} {text!r} is not a YYYY-MM-DD date") from None
