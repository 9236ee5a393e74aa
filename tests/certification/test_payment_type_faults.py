"""PAY-LINK and CON-XML catch their faults: `paycert run` on the lifecycle suite, these two criteria selected, is
GO against a correct sandbox (evaluated where the gateway offers an invoice or XML answers, n/a with the
profile's reason elsewhere) and turns exactly the fault's criterion red against a sandbox started with it."""

from __future__ import annotations

import pytest

from tests.certification.runs import assert_evaluated_where_offered, assert_no_leaks, assert_only_red, paycert

pytestmark = pytest.mark.slow

CRITERIA = ("PAY-LINK", "CON-XML")
SELECTION = ["--suite", "lifecycle", *(arg for c in CRITERIA for arg in ("--criterion", c))]

# fault -> the one criterion it turns red, on the gateways that offer what it breaks
EXACTLY: dict[str, tuple[str, set[str]]] = {
    "invoice-link-unpaid": ("PAY-LINK", {"txservices"}),
    "xml-drift": ("CON-XML", {"txservices"}),
}
# Where each criterion is evaluated; elsewhere it is not applicable, with the profile's `unsupported` reason.
# paylican's invoice (003) is paid through a link built from it: PAY-LINK is evaluated there too.
OFFERED = {"PAY-LINK": {"txservices", "paylican"}, "CON-XML": {"txservices"}}


def test_a_correct_sandbox_is_go_with_each_criterion_evaluated_where_offered(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    run = paycert("run", *SELECTION, report_dir=tmp_path_factory.mktemp("reports"))

    assert run.code == 0, f"exit {run.code}: {run.readiness['verdict_reason']}"
    assert run.readiness["verdict"] == "GO"
    assert run.with_status("pass") == set(CRITERIA)
    assert_evaluated_where_offered(run, OFFERED)
    # The link was paid in Chromium: its pages are in the evidence.
    assert list((run.run_dir / "screenshots").glob("payment-link-txservices-*/*.png"))
    assert_no_leaks(run.run_dir)


@pytest.mark.parametrize("fault", sorted(EXACTLY))
def test_the_fault_turns_exactly_its_criterion_red(
    fault: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    criterion, red_on = EXACTLY[fault]

    run = paycert("run", "--sandbox-fault", fault, *SELECTION, report_dir=tmp_path_factory.mktemp("reports"))

    assert_only_red(run, criterion, red_on)
    assert_no_leaks(run.run_dir)
