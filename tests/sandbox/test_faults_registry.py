"""The fault registry: listed by the CLI, unknown names refused, and every fault proven by a sandbox test."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from paycert.cli.main import app
from paycert.sandbox.faults import FAULTS

TESTS = Path(__file__).parents[1]
SANDBOX_TESTS = ("sandbox", "merchant")  # where the sandbox's own behaviour is tested


def test_list_faults_names_every_fault_with_what_it_breaks() -> None:
    result = CliRunner().invoke(app, ["sandbox", "--list-faults"])

    assert result.exit_code == 0
    for name, what in FAULTS.items():
        assert f"{name}" in result.output
        assert what in result.output


def test_an_unknown_fault_is_one_line_and_exit_2() -> None:
    result = CliRunner().invoke(app, ["sandbox", "--fault", "no-such-fault"])

    assert result.exit_code == 2
    assert "unknown fault(s) no-such-fault" in result.output
    assert "Traceback" not in result.output


def test_every_fault_has_a_sandbox_test_that_shows_it() -> None:
    files = [p for d in SANDBOX_TESTS for p in (TESTS / d).glob("test_*.py") if p.name != Path(__file__).name]
    sources = "\n".join(p.read_text(encoding="utf-8") for p in files)
    untested = [name for name in FAULTS if f'"{name}"' not in sources]
    assert not untested, f"faults without a sandbox test: {untested}"
