"""Each criterion catches its fault: `paycert run` against a sandbox started with the matching `--fault`
turns exactly that criterion red, and the verdict is no longer GO."""

from __future__ import annotations

import pytest

from tests.certification.runs import assert_no_leaks, paycert

pytestmark = pytest.mark.slow

# fault -> the criteria it must turn red (and nothing else)
EXACTLY: dict[str, set[str]] = {
    "no-auth": {"AUTH-CREDENTIALS"},
    "accept-bad-amount": {"PAY-AMOUNT"},
    "wrong-return-status": {"PAY-SUCCESS"},
    "wrong-status": {"PAY-DECLINED"},
    "any-3ds-password": {"PAY-3DS"},
    "cancel-ignored": {"PAY-CANCEL"},
    "bad-signature": {"WH-SIGNATURE"},
    "unsigned-webhook": {"WH-SIGNATURE"},
    "no-retry": {"WH-RETRY"},
    "webhook-drift": {"WH-SCHEMA"},
    "double-refund": {"OPS-REFUND"},
    "capture-over-auth": {"OPS-CAPTURE"},
    "void-ignored": {"OPS-VOID"},
    "orphan-recurring": {"OPS-RECURRING"},
    "token-not-checked": {"OPS-TOKEN"},
    "payout-declined": {"OPS-PAYOUT"},
    # Faults whose harm reaches two promises, by their nature:
    # a gateway that resends delivered webhooks also keeps sending after a 2xx (WH-RETRY's "stops");
    "duplicate-webhook": {"WH-DUPLICATES", "WH-RETRY"},
    # a gateway that skips the challenge also takes away the only cancel button a direct (txservices) shopper has.
    "skip-3ds": {"PAY-3DS", "PAY-CANCEL"},
    # late webhooks: only the non-blocking latency criterion, so the verdict is CONDITIONAL.
    "slow-webhook": {"WH-LATENCY"},
}
NON_BLOCKING_ONLY = {"slow-webhook"}


# The scenario and webhook suites; the contract suites' criteria are proven against their faults in tests/contract.
SUITES = ["--suite", "scenarios", "--suite", "webhooks"]
# Late webhooks make every scenario that waits for one wait out the delay; one gateway shows it as well.
ONE_GATEWAY = {"slow-webhook": "gustaffo"}


@pytest.mark.parametrize("fault", sorted(EXACTLY))
def test_the_fault_turns_exactly_its_criteria_red(
    fault: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    only = ["--gateway", ONE_GATEWAY[fault]] if fault in ONE_GATEWAY else []
    run = paycert(
        "run", "--sandbox-fault", fault, *SUITES, *only, report_dir=tmp_path_factory.mktemp("reports")
    )

    assert run.code == 1, f"exit {run.code}: {run.last_stderr_line()}"
    assert run.with_status("fail") == EXACTLY[fault]
    assert run.with_status("not_evaluated") == set(), run.readiness["verdict_reason"]
    expected = "CONDITIONAL" if fault in NON_BLOCKING_ONLY else "NO-GO"
    assert run.readiness["verdict"] == expected
    for criterion in EXACTLY[fault]:
        failed = next(c for c in run.readiness["criteria"] if c["id"] == criterion)
        reasons = [cell["reason"] for cell in failed["gateways"].values() if cell["status"] == "fail"]
        assert all(reasons), f"{criterion} failed without saying why"
    # A failing run quotes more of what it saw (failure texts, allure traces): still nothing secret.
    assert_no_leaks(run.run_dir)
