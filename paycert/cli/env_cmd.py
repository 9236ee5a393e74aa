"""`paycert env`: the `export` lines for a running paycert sandbox, for `eval "$(paycert env)"`."""

from __future__ import annotations

import shlex
from typing import Annotated

import httpx
import typer

from paycert.cli.sandbox_cmd import env_name

EXIT_HARNESS_ERROR = 2


def env(
    url: Annotated[str, typer.Option(help="The running sandbox's base URL.")] = "http://127.0.0.1:8000",
    ca_file: Annotated[
        str | None, typer.Option(help="CA certificate of a sandbox started with --tls.")
    ] = None,
) -> None:
    """Print the export lines of a running sandbox's public test credentials (what a target file names)."""
    try:
        answer = httpx.get(f"{url.rstrip('/')}/_sandbox/credentials", timeout=5.0, verify=ca_file or True)
        answer.raise_for_status()
        gateways = answer.json()
        if not isinstance(gateways, dict):
            raise ValueError("not a JSON object")
    except (httpx.HTTPError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        typer.echo(f"paycert env: no paycert sandbox answered at {url}: {reason}", err=True)
        raise typer.Exit(EXIT_HARNESS_ERROR) from None
    for gateway, credentials in gateways.items():
        for name, value in (credentials or {}).items():
            # Public sandbox test credentials, documented in the README: printing them is the point.
            typer.echo(f"export {env_name(str(gateway), str(name))}={shlex.quote(str(value))}")
