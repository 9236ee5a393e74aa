"""The progress line of a test says what the report says of it, whatever pytest thought of the test."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from paycert.cli.progress import ProgressLines
from paycert.core.results import Outcome, TestResult
from paycert.plugin.session import RUN_STATE

NODE = "suites/contract/test_generated_contract.py::test_generated_contract[acme]"


def printed(pytest_outcome: str, results: list[TestResult]) -> str:
    out = io.StringIO()
    lines = ProgressLines(Console(file=out, width=200))
    stash = pytest.Stash()
    stash[RUN_STATE] = SimpleNamespace(results=results)  # type: ignore[misc]  # only .results is read
    lines.pytest_configure(SimpleNamespace(stash=stash))  # type: ignore[arg-type]
    for when in ("setup", "call", "teardown"):
        outcome = pytest_outcome if when == "call" else "passed"
        report: Any = SimpleNamespace(nodeid=NODE, when=when, outcome=outcome, duration=0.5)
        lines.pytest_runtest_logreport(report)
    return out.getvalue()


def result(criterion: str, outcome: Outcome, suffix: str = "") -> TestResult:
    return TestResult(NODE + suffix, (criterion,), "acme", outcome, "why", checks=1)


def test_a_test_pytest_saw_pass_with_a_part_not_evaluated_is_not_a_pass() -> None:
    line = printed(
        "passed",
        [
            result("CON-SCHEMA", Outcome.PASS, "::CON-SCHEMA"),
            result("CON-AUTH", Outcome.NOT_EVALUATED, "::CON-AUTH"),
        ],
    )

    assert line.split()[0:2] == ["not", "evaluated"]
    assert "CON-SCHEMA pass" in line
    assert "CON-AUTH not evaluated" in line
    assert "1.5s" in line  # setup, call and teardown together


def test_a_test_pytest_saw_fail_that_was_not_evaluated_does_not_print_fail() -> None:
    # A PaycertError (the target could not be reached) is a failure to pytest and "not evaluated" to the report.
    line = printed("failed", [result("PAY-SUCCESS", Outcome.NOT_EVALUATED)])

    assert "FAIL" not in line
    assert line.split()[0:3] == ["not", "evaluated", "PAY-SUCCESS"]


def test_a_test_that_recorded_nothing_evidenced_nothing() -> None:
    assert printed("passed", []).split()[0:2] == ["not", "evaluated"]


def test_agreeing_parts_print_one_status() -> None:
    line = printed("failed", [result("PAY-AMOUNT", Outcome.FAIL)])

    assert line.split()[0:2] == ["FAIL", "PAY-AMOUNT"]
