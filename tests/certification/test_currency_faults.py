"""Every listed currency in its own minor unit (issue 16, PAY-CURRENCY): `paycert run` on a correct sandbox is GO
on it, with every gateway evaluated, and the `jpy-scaled` fault turns exactly PAY-CURRENCY red, on the gateways
that take yen and not on paylican, which lists EUR only."""

from __future__ import annotations

import pytest

from tests.certification.runs import assert_no_leaks, paycert

pytestmark = pytest.mark.slow

SELECTION = ["--suite", "lifecycle", "--criterion", "PAY-CURRENCY"]


def test_a_correct_sandbox_is_go_on_pay_currency_everywhere(tmp_path_factory: pytest.TempPathFactory) -> None:
    run = paycert("run", *SELECTION, report_dir=tmp_path_factory.mktemp("reports"))

    assert run.code == 0, f"exit {run.code}: {run.last_stderr_line()}\n{run.stdout[-3000:]}"
    assert run.readiness["verdict"] == "GO"
    assert run.with_status("not_evaluated") == set()
    assert {gateway: cell["status"] for gateway, cell in run.cells("PAY-CURRENCY").items()} == {
        "gustaffo": "pass",
        "txservices": "pass",
        "paylican": "pass",
    }


def test_jpy_scaled_turns_exactly_pay_currency_red(tmp_path_factory: pytest.TempPathFactory) -> None:
    run = paycert(
        "run", "--sandbox-fault", "jpy-scaled", *SELECTION, report_dir=tmp_path_factory.mktemp("reports")
    )

    assert run.code == 1, f"exit {run.code}: {run.last_stderr_line()}"
    assert run.readiness["verdict"] == "NO-GO"
    assert run.with_status("fail") == {"PAY-CURRENCY"}
    assert run.with_status("not_evaluated") == set(), run.readiness["verdict_reason"]
    cells = run.cells("PAY-CURRENCY")
    assert {gateway: cell["status"] for gateway, cell in cells.items()} == {
        "gustaffo": "fail",
        "txservices": "fail",
        "paylican": "pass",  # EUR only: the fault has nothing to scale there
    }
    # The reason names what was wrong: 1 JPY answered as 100.
    for gateway in ("gustaffo", "txservices"):
        assert "100 times the amount" in cells[gateway]["reason"], cells[gateway]["reason"]
    assert_no_leaks(run.run_dir)
