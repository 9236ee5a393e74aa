"""PayPal on gustaffo's hosted page (PAY-WALLET, issue 16): `paycert run` on a correct sandbox is GO with the
wallet paid and cancelled on gustaffo and not applicable, for the profiles' reasons, elsewhere; the fault
`wallet-approve-ignored` turns exactly PAY-WALLET red."""

from __future__ import annotations

import pytest

from tests.certification.runs import assert_no_leaks, paycert

pytestmark = pytest.mark.slow

SELECTION = ["--suite", "lifecycle", "--criterion", "PAY-WALLET"]


def test_a_correct_sandbox_is_go_with_the_wallet_evaluated_where_offered(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    run = paycert("run", *SELECTION, report_dir=tmp_path_factory.mktemp("reports"))

    assert run.code == 0, f"exit {run.code}: {run.last_stderr_line()}\n{run.stdout[-3000:]}"
    assert run.readiness["verdict"] == "GO"
    assert run.with_status("not_evaluated") == set()
    found = run.cells("PAY-WALLET")
    assert {gateway: cell["status"] for gateway, cell in found.items()} == {
        "gustaffo": "pass",
        "txservices": "not_applicable",
        "paylican": "not_applicable",
    }
    # Not applicable in the profiles' own words (their `unsupported.wallet`).
    assert "names no wallet" in found["paylican"]["reason"]
    assert "names no wallet" in found["txservices"]["reason"]
    assert_no_leaks(run.run_dir)


def test_the_fault_turns_exactly_pay_wallet_red(tmp_path_factory: pytest.TempPathFactory) -> None:
    run = paycert(
        "run",
        "--sandbox-fault",
        "wallet-approve-ignored",
        *SELECTION,
        "--gateway",
        "gustaffo",
        report_dir=tmp_path_factory.mktemp("reports"),
    )

    assert run.code == 1, f"exit {run.code}: {run.last_stderr_line()}"
    assert run.with_status("fail") == {"PAY-WALLET"}
    assert run.with_status("not_evaluated") == set(), run.readiness["verdict_reason"]
    assert run.readiness["verdict"] == "NO-GO"
    reason = run.cells("PAY-WALLET")["gustaffo"]["reason"]
    assert "status API says 'PENDING'" in reason, reason
    assert_no_leaks(run.run_dir)
