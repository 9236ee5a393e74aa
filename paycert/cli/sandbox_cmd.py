"""`paycert sandbox`: serve the embedded reference sandbox in the foreground."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from paycert.cli.signals import Interrupted, Received, ending_on_signals

# The sandbox (FastAPI, uvicorn: ~0.45 s of imports) is imported where a command uses it, not when the CLI
# assembles its commands: `paycert --help` and every other command paid for it (issue 15).
if TYPE_CHECKING:
    from paycert.sandbox import SandboxServer

EXIT_HARNESS_ERROR = 2
WORK_PREFIX = "paycert-sandbox-"


def env_name(gateway: str, credential: str) -> str:
    """The environment variable a target reads a sandbox credential from: PAYCERT_<GATEWAY>_<NAME>."""
    return f"PAYCERT_{gateway.upper()}_{credential.upper()}"


def sandbox(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one.")] = 8000,
    tls: Annotated[
        bool,
        typer.Option(
            "--tls/--no-tls",
            # Plain HTTP by default here, unlike `paycert run`: a sandbox started by hand is the one the
            # README's fixtures/targets/sandbox.yaml (http://127.0.0.1:8000, no CA) points at.
            help="Serve HTTPS with certificates generated at start, plus a plain-HTTP port that redirects to it.",
        ),
    ] = False,
    fault: Annotated[
        list[str] | None,
        typer.Option("--fault", help="Misbehave on purpose (repeatable); see --list-faults."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where payments and the webhook outbox are kept across restarts.")
    ] = None,
    webhook_host: Annotated[
        list[str] | None,
        typer.Option(
            "--webhook-host",
            help="A host off this machine that webhooks may be delivered to (repeatable); loopback only by default.",
        ),
    ] = None,
    list_faults: Annotated[bool, typer.Option("--list-faults", help="Name the faults and exit.")] = False,
) -> None:
    """Serve the reference sandbox of the built-in gateways (gustaffo, txservices, paylican)."""
    from paycert.sandbox.faults import FAULTS, Faults, UnknownFaultError

    if list_faults:
        for name, what in FAULTS.items():
            typer.echo(f"{name:20} {what}")
        return
    try:
        Faults.from_names(fault or ())
    except UnknownFaultError as exc:
        typer.echo(f"paycert sandbox: {exc}", err=True)
        raise typer.Exit(EXIT_HARNESS_ERROR) from None
    with ending_on_signals() as received:
        # A folder made here is the sandbox's alone: removed however serving ends; a --data-dir is kept.
        directory = data_dir or Path(tempfile.mkdtemp(prefix=WORK_PREFIX))
        try:
            _serve(
                directory, host, port, tls, frozenset(fault or ()), frozenset(webhook_host or ()), received
            )
        except Interrupted:
            pass  # uvicorn has shut down; the exit code below says which signal
        finally:
            if data_dir is None:
                shutil.rmtree(directory, ignore_errors=True)
    if received.exit_code is not None:
        raise typer.Exit(received.exit_code)


def _serve(
    directory: Path,
    host: str,
    port: int,
    tls: bool,
    faults: frozenset[str],
    egress: frozenset[str],
    received: Received,
) -> None:
    from paycert.sandbox import SandboxConfig, SandboxServer

    config = SandboxConfig(directory, faults=faults, egress_hosts=egress)
    try:
        server = SandboxServer(config, host=host, port=port, tls=tls, log_level="info")
    except OSError as exc:
        typer.echo(f"paycert sandbox: cannot listen on {host}:{port}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_HARNESS_ERROR) from None
    received.stop_with(server.ask_to_stop)  # from here a signal ends serving, and never mid-startup
    try:
        _announce(server)
        server.serve_forever()
    finally:
        server.stop()


def _announce(server: SandboxServer) -> None:
    typer.echo(f"paycert sandbox on {server.base_url}  (data: {server.config.data_dir})")
    if server.ca_file:
        typer.echo(f"TLS CA certificate: {server.ca_file}  (export SSL_CERT_FILE={server.ca_file})")
    if server.plain_http_url:
        typer.echo(
            f"plain HTTP on {server.plain_http_url}  (what SEC-HTTPS probes: a target's plain_http_url)"
        )
    if server.config.faults:
        typer.echo(f"faults: {', '.join(sorted(server.config.faults))}")
    typer.echo("gateways and their public test credentials (export these for a target file):")
    from paycert.sandbox.gateways import GATEWAYS

    for gateway in GATEWAYS:
        gid = gateway.PREFIX.strip("/")
        typer.echo(f"  {gid:11} {server.base_url}{gateway.PREFIX}")
        for name, value in gateway.CREDENTIALS.items():
            typer.echo(f"    export {env_name(gid, name)}={value}")
    # Said before serving forever: flushed, so a pipe (a test, `| tee`, a CI log) sees it now, not at exit.
    sys.stdout.flush()
