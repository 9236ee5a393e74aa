"""`paycert`: the entry point. Each command lives in its own module; this one only assembles them."""

from __future__ import annotations

import contextlib
import logging
import os
import sys

import typer

from paycert.cli import (
    attest_cmd,
    diff_cmd,
    env_cmd,
    init_cmd,
    merge_cmd,
    pact_cmd,
    replay_cmd,
    report_cmd,
    run_cmd,
    sandbox_cmd,
    validate_cmd,
)

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
app.command(name="env")(env_cmd.env)
app.command(name="validate")(validate_cmd.validate)
app.command(name="attest")(attest_cmd.attest)
app.command(name="init")(init_cmd.init)
app.command(name="report")(report_cmd.report)
app.command(name="diff")(diff_cmd.diff)
app.command(name="replay")(replay_cmd.replay)
app.command(name="merge")(merge_cmd.merge)


@app.callback()
def main() -> None:
    """Certify payment integrations before they go live."""


def entry() -> None:
    """Run the CLI and end the process with its exit code, and nothing after it.

    The exit code is what CI gates a release on. The suites load native libraries (the Pact FFI's Rust
    runtime, uvloop, jsonschema-rs) whose exit-time destructors crashed about one run in seven under load
    (SIGSEGV after the report was written), turning a NO-GO into a -11. So once the command has finished and
    everything is flushed, the process ends with `os._exit`, skipping the interpreter's and the C library's
    teardown: every file paycert writes is closed when the command returns.
    """
    try:
        app()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be said there
            stream.flush()
    os._exit(code)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message"): Python prints it and exits 1
    return 1


if __name__ == "__main__":  # pragma: no cover
    entry()
