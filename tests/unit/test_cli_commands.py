"""The CLI assembled with only the command it runs reads exactly as the whole CLI does for that command."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from paycert.cli.main import COMMANDS, build_app


def _commands(app: object) -> list[str]:
    return [c.name for c in app.registered_commands]  # type: ignore[attr-defined]


def test_the_whole_cli_has_every_command_in_order() -> None:
    from paycert.cli.main import app

    assert _commands(app) == list(COMMANDS)
    assert _commands(build_app()) == list(COMMANDS)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_one_command_alone_has_the_same_help_and_errors(name: str) -> None:
    runner = CliRunner()
    whole, alone = build_app(), build_app(name)

    assert _commands(alone) == [name]
    for args in ([name, "--help"], [name, "--no-such-option"]):
        expected, got = runner.invoke(whole, args), runner.invoke(alone, args)
        assert (got.exit_code, got.output) == (expected.exit_code, expected.output)


def test_paycert_run_does_not_import_the_other_commands() -> None:
    # `paycert run --help` goes through `entry` as a user's command does; the Pact FFI and the commands that
    # only other subcommands need stay out of its process (issue 15: the fixed cost of a run).
    probe = (
        "import os, sys\n"
        "from paycert.cli import main\n"
        "exit_now = os._exit\n"
        "def report(code):\n"
        "    others = [m for m, _ in main.COMMANDS.values() if m != 'paycert.cli.run_cmd' and m in sys.modules]\n"
        "    print('IMPORTED', others, 'paycert.pacts' in sys.modules, flush=True)\n"
        "    exit_now(code)\n"
        "os._exit = report  # entry() ends the process with os._exit: say what was imported first\n"
        "sys.argv = ['paycert', 'run', '--help']\n"
        "main.entry()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )

    line = next(x for x in done.stdout.splitlines() if x.startswith("IMPORTED"))
    # The sandbox command's module is the CLI's embedded-sandbox helper's too (credential variable names).
    assert line == "IMPORTED ['paycert.cli.sandbox_cmd'] False", done.stdout
