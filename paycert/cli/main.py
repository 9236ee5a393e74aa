"""`paycert`: the entry point. Each command lives in its own module; this one only assembles them."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
from typing import Any

import typer

# Each command's module and function, in the order `paycert --help` lists them. A command's module is imported
# only when the CLI is assembled with it: `paycert run` does not import what `verify-pact` (the Pact FFI),
# `attest` or `diff` need (issue 15: the fixed cost of a run).
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("paycert.cli.run_cmd", "run"),
    "sandbox": ("paycert.cli.sandbox_cmd", "sandbox"),
    "verify-pact": ("paycert.cli.pact_cmd", "verify_pact_command"),
    "env": ("paycert.cli.env_cmd", "env"),
    "validate": ("paycert.cli.validate_cmd", "validate"),
    "attest": ("paycert.cli.attest_cmd", "attest"),
    "init": ("paycert.cli.init_cmd", "init"),
    "report": ("paycert.cli.report_cmd", "report"),
    "diff": ("paycert.cli.diff_cmd", "diff"),
    "replay": ("paycert.cli.replay_cmd", "replay"),
    "merge": ("paycert.cli.merge_cmd", "merge"),
}


def main() -> None:
    """Certify payment integrations before they go live."""


def build_app(only: str | None = None) -> typer.Typer:
    """The CLI with every command, or with the one named `only` (what `entry` runs for `paycert NAME ...`).

    With one command it is still a group of commands (the callback makes it one): `paycert run ...`, its
    options, its `--help` and its errors read the same either way.
    """
    application = typer.Typer(
        name="paycert",
        help="Certify payment integrations before they go live.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for name, (module, function) in COMMANDS.items():
        if only is None or name == only:
            application.command(name=name)(getattr(importlib.import_module(module), function))
    application.callback()(main)
    return application


_WHOLE: list[typer.Typer] = []


def __getattr__(name: str) -> Any:
    """`from paycert.cli.main import app`: the whole CLI, assembled on first use."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if not _WHOLE:
        _WHOLE.append(build_app())
    return _WHOLE[0]


def entry() -> None:
    """Run the CLI and end the process with its exit code, and nothing after it.

    The exit code is what CI gates a release on. The suites load native libraries (the Pact FFI's Rust
    runtime, uvloop, jsonschema-rs) whose exit-time destructors crashed about one run in seven under load
    (SIGSEGV after the report was written), turning a NO-GO into a -11. So once the command has finished and
    everything is flushed, the process ends with `os._exit`, skipping the interpreter's and the C library's
    teardown: every file paycert writes is closed when the command returns.
    """
    named = sys.argv[1] if len(sys.argv) > 1 else None
    try:
        build_app(named if named in COMMANDS else None)()
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
