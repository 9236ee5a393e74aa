"""OPS-MANDATE, OPS-VERIFY and OPS-IDEMPOTENCY catch their faults: `paycert run` on the lifecycle suite, these
three criteria selected, turns exactly the fault's criterion red against a sandbox started with it, and is GO
against a correct one (evaluated where the gateway offers the feature, n/a with the profile's reason elsewhere).
"""

from __future__ import annotations

import pytest

from tests.certification.runs import assert_evaluated_where_offered, assert_no_leaks, assert_only_red, paycert

pytestmark = pytest.mark.slow

CRITERIA = ("OPS-MANDATE", "OPS-VERIFY", "OPS-IDEMPOTENCY")
SELECTION = ["--suite", "lifecycle", *(arg for c in CRITERIA for arg in ("--criterion", c))]

# fault -> the one criterion it turns red, and the gateways it is red on (those that offer the feature)
EXACTLY: dict[str, tuple[str, set[str]]] = {
    "mandate-reuse": ("OPS-MANDATE", {"txservices"}),
    "verify-charges": ("OPS-VERIFY", {"txservices"}),
    "idempotency-race": ("OPS-IDEMPOTENCY", {"gustaffo", "paylican"}),
    "idempotency-ignores-body": ("OPS-IDEMPOTENCY", {"gustaffo", "paylican"}),
}
# Where each criterion is evaluated; elsewhere it is not applicable, with the profile's `unsupported` reason.
OFFERED = {
    "OPS-MANDATE": {"txservices"},
    "OPS-VERIFY": {"txservices"},
    "OPS-IDEMPOTENCY": {"gustaffo", "paylican"},
}


def test_a_correct_sandbox_is_go_with_each_criterion_evaluated_where_offered(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    run = paycert("run", *SELECTION, report_dir=tmp_path_factory.mktemp("reports"))

    assert run.code == 0, f"exit {run.code}: {run.readiness['verdict_reason']}"
    assert run.readiness["verdict"] == "GO"
    assert run.with_status("pass") == set(CRITERIA)
    assert_evaluated_where_offered(run, OFFERED)


@pytest.mark.parametrize("fault", sorted(EXACTLY))
def test_the_fault_turns_exactly_its_criterion_red(
    fault: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    criterion, red_on = EXACTLY[fault]

    run = paycert("run", "--sandbox-fault", fault, *SELECTION, report_dir=tmp_path_factory.mktemp("reports"))

    assert_only_red(run, criterion, red_on)
    assert_no_leaks(run.run_dir)
