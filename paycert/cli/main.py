"""`paycert`: the entry point. Each command lives in its own module; this one only assembles them."""

from __future__ import annotations

import typer

from paycert.cli import pact_cmd, run_cmd, sandbox_cmd

app = typer.Typer(
    name="paycert",
    help="Certify payment integrations before they go live.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command(name="run")(run_cmd.run)
app.command(name="sandbox")(sandbox_cmd.sandbox)
app.command(name="verify-pact")(pact_cmd.verify_pact_command)


@app.callback()
def main() -> None:
    """Certify payment integrations before they go live."""


if __name__ == "__main__":  # pragma: no cover
    app()
