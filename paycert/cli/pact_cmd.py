"""`paycert verify-pact PACT_FILE`: verify a gateway against any pact file with pact's own verifier."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from paycert import __version__
from paycert.cli.embedded import start_embedded, stop_embedded
from paycert.core.criteria import Catalogue
from paycert.core.errors import PaycertError
from paycert.core.results import Outcome
from paycert.pacts.verify import CRITERION, PactVerification, read_pact, verify_pact
from paycert.report import (
    GatewayInfo,
    RunInfo,
    Selection,
    build_readiness,
    new_run_id,
    utc_now_iso,
    write_report,
)
from paycert.targets.home import find_home
from paycert.targets.target import GatewayTarget, load_target

EXIT_VERIFIED = 0
EXIT_NOT_VERIFIED = 1
EXIT_HARNESS = 2

console = Console(stderr=True, width=120)


def verify_pact_command(
    pact_file: Annotated[
        Path, typer.Argument(help="The pact file (V3/V4 JSON) to verify the gateway against.")
    ],
    target: Annotated[
        Path | None, typer.Option(help="Target file; default: start the embedded sandbox.")
    ] = None,
    gateway: Annotated[
        str | None,
        typer.Option("--gateway", "-g", help="The target's gateway to verify; default: the pact's provider."),
    ] = None,
    report_dir: Annotated[Path, typer.Option(help="Where run folders are written.")] = Path("reports"),
    fault: Annotated[
        list[str] | None, typer.Option("--sandbox-fault", help="Start the embedded sandbox with this fault.")
    ] = None,
) -> None:
    """Replay a pact file against a gateway; one line per interaction, CON-PACT in the readiness report.

    Exit 0 when every interaction is verified, 1 when one is not, 2 when the verification could not run.
    """
    run_id = new_run_id()
    started = utc_now_iso()
    server = None
    gateway_target: GatewayTarget | None = None
    try:
        catalogue = Catalogue.from_path(find_home() / "specs" / "readiness.yaml")
        provider = str(read_pact(pact_file)["provider"]["name"])
        if target is None:
            server, target = start_embedded(frozenset(fault or ()))
            console.print(f"embedded sandbox on {server.base_url}", highlight=False)
        loaded = load_target(target)
        gid = gateway or provider
        if gid not in loaded.gateways:
            raise PaycertError(
                f"the pact's provider {gid!r} is not a gateway of the target ({', '.join(loaded.gateways)}); "
                "name one with --gateway"
            )
        gateway_target = loaded.gateways[gid]
        gateway_target.require_profile()
        verification = verify_pact(pact_file, gateway_target)
    except PaycertError as exc:
        _report(catalogue_or_none(), None, run_id, started, report_dir, target, gateway_target, str(exc))
        typer.echo(f"paycert: {str(exc).splitlines()[0]}", err=True)
        raise typer.Exit(EXIT_HARNESS) from None
    finally:
        stop_embedded(server)
    for interaction in verification.interactions:
        line = f"{interaction.outcome.value:<14} {interaction.description}"
        if interaction.outcome is not Outcome.PASS:
            line += f"  ({interaction.detail})"
        typer.echo(line)
    paths = _report(catalogue, verification, run_id, started, report_dir, target, gateway_target, "")
    console.print(f"report: {paths}", highlight=False)
    if verification.outcome is Outcome.PASS:
        raise typer.Exit(EXIT_VERIFIED)
    if not any(i.outcome is Outcome.FAIL for i in verification.interactions) and not any(
        i.outcome is Outcome.PASS for i in verification.interactions
    ):
        typer.echo("paycert: no interaction of the pact could be verified", err=True)
        raise typer.Exit(EXIT_HARNESS)
    raise typer.Exit(EXIT_NOT_VERIFIED)


def catalogue_or_none() -> Catalogue | None:
    try:
        return Catalogue.from_path(find_home() / "specs" / "readiness.yaml")
    except PaycertError:
        return None


def _report(
    catalogue: Catalogue | None,
    verification: PactVerification | None,
    run_id: str,
    started: str,
    report_dir: Path,
    target: Path | None,
    gateway: GatewayTarget | None,
    error: str,
) -> Path | None:
    """readiness.{json,html} with CON-PACT only; a run that could not verify says so (never GO)."""
    if catalogue is None:
        return None
    run = RunInfo(
        run_id=run_id,
        started_at=started,
        finished_at=utc_now_iso(),
        target=str(target) if target else "embedded sandbox",
        gateways=(
            (
                GatewayInfo(
                    id=gateway.id,
                    title=gateway.title,
                    base_url=gateway.base_url,
                    environment="live" if gateway.is_live else "sandbox",
                ),
            )
            if gateway
            else ()
        ),
        paycert_version=__version__,
        selection=Selection(criteria=(CRITERION,), gateways=(gateway.id,) if gateway else ()),
        harness_errors=(error.splitlines()[0],) if error else (),
        in_scope=(CRITERION,),
    )
    results = verification.to_results(f"verify-pact::{verification.pact_file.name}") if verification else []
    secrets = gateway.secrets if gateway else []
    try:
        paths = write_report(build_readiness(catalogue, results, run), report_dir, run_id, secrets=secrets)
    except (OSError, ValueError):
        return None
    return paths.html
